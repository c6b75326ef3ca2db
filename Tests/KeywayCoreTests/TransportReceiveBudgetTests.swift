import Testing
import KeywayCrypto
@testable import KeywayCore

/// The node-wide ceiling on peers' data that waits for a slow local consumer (issue 12):
/// receive windows that start at the specification's 1 MiB and grow only while the reader keeps
/// up, a budget for delivered-but-unconsumed bytes over all sessions, and a per-prefix share of
/// it. The receiving core (node 1) hands data out without consuming it
/// (``TransportConfiguration/creditOnDelivery`` off), as the runtime does; a test consumes
/// explicitly to play a reader.
@Suite(.timeLimit(.minutes(1))) struct TransportReceiveBudgetTests {
    typealias Network = VirtualNetwork<SessionManager>

    var receiverKey: Ed25519.PublicKey { TransportFixtures.identity(1).publicKey }

    /// A receiver that consumes only when told to.
    static func receiver(_ adjust: (inout TransportConfiguration) -> Void = { _ in }) -> TransportConfiguration {
        var configuration = TransportFixtures.roomy
        configuration.creditOnDelivery = false
        adjust(&configuration)
        return configuration
    }

    /// A network with the receiver as node 0's peer: node 1 receives; senders are added after.
    func network(receiver configuration: TransportConfiguration, latency: Duration = .milliseconds(5)) -> Network {
        var network = Network(latency: latency)
        network.add(SessionManager(identity: TransportFixtures.identity(0), configuration: TransportFixtures.roomy, seed: 1, now: .zero), at: TransportFixtures.endpoint(1))
        network.add(SessionManager(identity: TransportFixtures.identity(1), configuration: configuration, seed: 2, now: .zero), at: TransportFixtures.endpoint(2))
        return network
    }

    /// Node `sender` opens a stream to the receiver and writes `bytes` and its end.
    func send(_ bytes: [UInt8], from sender: Int, in network: inout Network) {
        let receiverKey = receiverKey, endpoint = network.endpoints[1]
        network.with(sender) { core, now in
            core.connect(to: receiverKey, at: [endpoint], now: now)
            let stream = core.openStream(to: receiverKey, now: now)
            core.write(bytes, to: stream, now: now)
            core.finish(stream, now: now)
        }
    }

    /// Stream bytes the receiver got from `peer`.
    func received(from peer: Ed25519.PublicKey, in network: Network) -> [UInt8] {
        var out = [UInt8]()
        for case let .streamData(id, bytes) in network.events[1] where id.peer == peer { out += bytes }
        return out
    }

    /// Runs the network in 10 ms steps for up to `limit`, the receiver consuming every byte it
    /// got from a peer in `readers` right after each step, until `done` holds.
    @discardableResult
    func run(_ network: inout Network, reading readers: Set<Ed25519.PublicKey>, limit: Duration, until done: (Network) -> Bool) -> Bool {
        var seen = 0
        let deadline = network.now + limit
        while !done(network) {
            guard network.now < deadline else { return false }
            network.run(for: .milliseconds(10))
            let fresh = network.events[1][seen...]
            seen = network.events[1].count
            network.with(1) { core, now in
                for case let .streamData(id, bytes) in fresh where readers.contains(id.peer) {
                    core.consumed(id, count: bytes.count, now: now)
                }
            }
        }
        return true
    }

    /// A reader that never reads holds what the session's initial window allows and no more,
    /// although the stream's and the session's configured windows are larger; once it reads,
    /// the rest of the transfer arrives whole.
    @Test func aReaderThatDoesNotReadHoldsOnlyTheInitialWindow() {
        var network = network(receiver: Self.receiver())
        let sender = TransportFixtures.identity(0).publicKey
        let bytes = TransportFixtures.payload(2 << 20)
        send(bytes, from: 0, in: &network)
        network.run(for: .seconds(3))
        let held = received(from: sender, in: network).count
        #expect(held > 0)
        #expect(UInt64(held) <= TransportSpec.initialSessionWindow)
        #expect(network.nodes[1].receiveCharged == UInt64(held))

        let complete = run(&network, reading: [sender], limit: .seconds(20)) { self.received(from: sender, in: $0).count == bytes.count }
        #expect(complete)
        #expect(received(from: sender, in: network) == bytes)
        #expect(network.nodes[1].receiveCharged == 0)
    }

    /// A reader that keeps up earns more than the initial window: on a 100 ms round trip the
    /// session's window doubles towards ``TransportConfiguration/sessionReceiveWindow``.
    @Test func aReaderThatKeepsUpGrowsTheWindow() throws {
        var network = network(receiver: Self.receiver(), latency: .milliseconds(50))
        let sender = TransportFixtures.identity(0).publicKey
        let bytes = TransportFixtures.payload(4 << 20)
        send(bytes, from: 0, in: &network)
        let complete = run(&network, reading: [sender], limit: .seconds(40)) { self.received(from: sender, in: $0).count == bytes.count }
        #expect(complete)
        #expect(received(from: sender, in: network) == bytes)
        let slot = try #require(network.nodes[1].slots[sender])
        let window = try #require(network.nodes[1].peers[slot]?.connection.receiveWindow)
        #expect(window > TransportSpec.initialSessionWindow)
        #expect(window <= TransportConfiguration().sessionReceiveWindow)
    }

    /// Three sessions with full windows at once (no growth) feed a reader that does not read:
    /// together they hold no more than the node's receive budget; the packets over it are not
    /// taken, and every byte still arrives, intact, once the reader reads.
    @Test func theReceiveBudgetBoundsTheWholeNode() {
        let budget: UInt64 = 256 << 10
        var network = network(receiver: Self.receiver {
            $0.receiveWindowGrowthRTTs = 0
            $0.receiveBudget = budget
        })
        for host in 3...4 {
            network.add(SessionManager(identity: TransportFixtures.identity(host), configuration: TransportFixtures.roomy, seed: UInt64(host), now: .zero), at: TransportFixtures.endpoint(host))
        }
        let senders = [0, 2, 3]
        let payloads = senders.map { TransportFixtures.payload(512 << 10, seed: UInt64($0)) }
        for (sender, bytes) in zip(senders, payloads) { send(bytes, from: sender, in: &network) }
        network.run(for: .seconds(3))
        let keys = [0, 3, 4].map { TransportFixtures.identity($0).publicKey }
        let held = keys.map { received(from: $0, in: network).count }.reduce(0, +)
        #expect(network.nodes[1].receiveCharged == UInt64(held))
        #expect(UInt64(held) <= budget)
        #expect(UInt64(held) > budget / 2)
        #expect(network.nodes[1].statistics.droppedReceiveBudget > 0)

        let complete = run(&network, reading: Set(keys), limit: .seconds(30)) { network in
            zip(keys, payloads).allSatisfy { self.received(from: $0, in: network).count == $1.count }
        }
        #expect(complete)
        for (key, bytes) in zip(keys, payloads) { #expect(received(from: key, in: network) == bytes) }
    }

    /// Two sessions from one /24 feed a reader that never reads their data: together they hold
    /// no more than the prefix's share. A peer from another prefix, whose data is read, still
    /// gets its whole transfer through while they hold theirs.
    @Test func onePrefixCannotTakeTheWholeBudget() {
        let share: UInt64 = 128 << 10
        var network = network(receiver: Self.receiver {
            $0.receiveWindowGrowthRTTs = 0
            $0.receiveBudget = 512 << 10
            $0.receiveBudgetPerPrefix = share
            $0.sessionPrefixLimitExemptLocalNetworks = false
        })
        network.add(SessionManager(identity: TransportFixtures.identity(3), configuration: TransportFixtures.roomy, seed: 3, now: .zero), at: TransportFixtures.endpoint(3))
        let other = Endpoint(address: .v4(0x0a02_0001), port: 7000)
        network.add(SessionManager(identity: TransportFixtures.identity(4), configuration: TransportFixtures.roomy, seed: 4, now: .zero), at: other)
        send(TransportFixtures.payload(1 << 20, seed: 1), from: 0, in: &network)
        send(TransportFixtures.payload(1 << 20, seed: 2), from: 2, in: &network)
        network.run(for: .seconds(2))
        let flooders = [0, 3].map { TransportFixtures.identity($0).publicKey }
        let held = flooders.map { received(from: $0, in: network).count }.reduce(0, +)
        #expect(held > 0)
        #expect(UInt64(held) <= share)

        let honest = TransportFixtures.identity(4).publicKey
        let bytes = TransportFixtures.payload(2 << 20, seed: 3)
        send(bytes, from: 3, in: &network)
        let complete = run(&network, reading: [honest], limit: .seconds(20)) { self.received(from: honest, in: $0).count == bytes.count }
        #expect(complete)
        #expect(received(from: honest, in: network) == bytes)
        #expect(flooders.map { received(from: $0, in: network).count }.reduce(0, +) == held)
    }
}
