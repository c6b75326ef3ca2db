import Testing
import KeywayCrypto
@testable import KeywayCore

/// The core's publisher and stop linger, on whole node cores in the virtual network: given
/// these inputs and `now`, it publishes, puts again and lingers at these instants.
@Suite struct EndpointPublisherTests {
    typealias Network = VirtualNetwork<KeywayNodeCore>

    /// 2026-01-01 in seconds since 1970: the wall clock at virtual time zero.
    static let origin: Duration = .seconds(1_767_225_600)
    static let interval: Duration = .seconds(10)

    static func configuration(automatic: Bool = true) -> PublisherConfiguration {
        var configuration = PublisherConfiguration()
        configuration.publishAutomatically = automatic
        configuration.replicationCheckInterval = interval
        configuration.wallClockAtOrigin = origin
        return configuration
    }

    static func core(_ number: Int, publisher: PublisherConfiguration = configuration(), now: Instant) -> KeywayNodeCore {
        var dht = DHTConfiguration()
        dht.queryTimeout = .milliseconds(500)
        return KeywayNodeCore(
            identity: TransportFixtures.identity(number), dhtConfiguration: dht, transportConfiguration: TransportFixtures.roomy,
            publisherConfiguration: publisher, seed: UInt64(number + 1), now: now)
    }

    static func socket(_ host: Int) -> LocalSocket {
        LocalSocket(bound: TransportFixtures.endpoint(host), family: .ipv4)
    }

    static func publisherEvents(_ network: Network, _ node: Int) -> [PublisherEvent] {
        network.events[node].compactMap { if case let .publisher(event) = $0 { return event } else { return nil } }
    }

    /// The puts node `node` started: record, reason, whether with a new `seq`.
    static func puts(_ network: Network, _ node: Int) -> [(record: EndpointRecord, reason: PublishReason, new: Bool)] {
        publisherEvents(network, node).compactMap {
            if case let .putStarted(record, reason, new) = $0 { return (record, reason, new) } else { return nil }
        }
    }

    /// A network whose node 0 is a lone seed started at 3 s.
    static func seedNetwork(publisher: PublisherConfiguration = configuration()) -> Network {
        var network = Network(latency: .milliseconds(20), seed: 5)
        network.add(core(0, publisher: publisher, now: network.now), at: TransportFixtures.endpoint(1))
        network.run(for: .seconds(3))
        network.with(0) { core, now in core.start(socket: socket(1), seeds: [], contacts: [], now: now) }
        return network
    }

    @Test func aLoneSeedPublishesAtStartWithSeqFromTheWallClockOrigin() throws {
        var network = Self.seedNetwork()
        let put = try #require(Self.puts(network, 0).first)
        #expect(put.reason == .start && put.new)
        #expect(put.record.endpoints == [TransportFixtures.endpoint(1)])
        // seq = origin + 3 s, in microseconds.
        #expect(put.record.timestampMicroseconds == 1_767_225_600_000_000 + 3_000_000)
        network.run(for: .seconds(1))
        let published = Self.publisherEvents(network, 0).compactMap { event -> (EndpointRecord, Int)? in
            if case let .published(record, storedOn) = event { return (record, storedOn) } else { return nil }
        }
        #expect(published.map(\.0) == [put.record])
        #expect(published.first?.1 == 1)
    }

    @Test func aNodeWithOnlySeedsPublishesOnceItHasJoined() throws {
        var network = Self.seedNetwork()
        let joiner = network.add(Self.core(1, now: network.now), at: TransportFixtures.endpoint(2))
        network.with(joiner) { core, now in
            core.start(socket: Self.socket(2), seeds: [DHTSeed(endpoint: TransportFixtures.endpoint(1))], contacts: [], now: now)
        }
        #expect(Self.puts(network, joiner).isEmpty)
        let joined = network.run(until: { !Self.puts($0, joiner).isEmpty }, limit: .seconds(5))
        #expect(joined)
        #expect(network.nodes[joiner].isBootstrapped)
        let put = try #require(Self.puts(network, joiner).first)
        #expect(put.reason == .bootstrapped && put.new)
        #expect(put.record.endpoints == [TransportFixtures.endpoint(2)])
    }

    @Test func aRestoredNodePublishesAtStartThenPutsTheSameRecordAgainWhenJoined() throws {
        var network = Self.seedNetwork()
        let seedContact = NodeContact(id: network.nodes[0].id, endpoint: TransportFixtures.endpoint(1))
        let restored = network.add(Self.core(1, now: network.now), at: TransportFixtures.endpoint(2))
        network.with(restored) { core, now in core.start(socket: Self.socket(2), seeds: [], contacts: [seedContact], now: now) }
        #expect(Self.puts(network, restored).map(\.reason) == [.start])
        let joined = network.run(until: { Self.puts($0, restored).count >= 2 }, limit: .seconds(5))
        #expect(joined)
        let puts = Self.puts(network, restored)
        #expect(puts[1].reason == .bootstrapped)
        // The endpoint set did not change: the same record (same `seq`) again.
        #expect(!puts[1].new && puts[1].record == puts[0].record)
    }

    @Test func theReplicationCheckPutsAgainAtItsInstantOnceTheTableGrew() throws {
        var network = Self.seedNetwork()
        let started = network.now
        network.run(for: .seconds(1))
        let joiner = network.add(Self.core(1, now: network.now), at: TransportFixtures.endpoint(2))
        network.with(joiner) { core, now in
            core.start(socket: Self.socket(2), seeds: [DHTSeed(endpoint: TransportFixtures.endpoint(1))], contacts: [], now: now)
        }
        // The seed published alone (stored on itself); its first check is one interval after start.
        let again = network.run(until: { Self.puts($0, 0).count >= 2 }, limit: .seconds(15))
        #expect(again)
        #expect(network.now == started + Self.interval)
        let put = Self.puts(network, 0)[1]
        #expect(put.reason == .underReplicated(storedOn: 1, known: 1))
        #expect(!put.new)
        // Stored on both now: later checks put nothing.
        network.run(for: Self.interval * 3)
        #expect(Self.puts(network, 0).count == 2)
    }

    @Test func newInterfaceAddressesArePublishedAtOnceAndUnchangedOnesAreNot() throws {
        var network = Network(latency: .milliseconds(20), seed: 5)
        network.add(Self.core(0, now: network.now), at: TransportFixtures.endpoint(1))
        let wildcard = Endpoint(address: .v4(0), port: 7000)
        var socket = LocalSocket(bound: wildcard, family: .ipv4, interfaces: [TransportFixtures.endpoint(1).address])
        network.with(0) { core, now in core.start(socket: socket, seeds: [], contacts: [], now: now) }
        network.run(for: .seconds(1))
        let first = try #require(Self.puts(network, 0).first)
        #expect(first.record.endpoints == [TransportFixtures.endpoint(1)])
        let before = network.events[0].count
        network.with(0) { core, now in core.updateSocket(socket, now: now) }
        #expect(network.events[0].count == before)

        network.run(for: .seconds(2))
        socket.interfaces = [TransportFixtures.endpoint(3).address]
        network.with(0) { core, now in core.updateSocket(socket, now: now) }
        let moved = TransportFixtures.endpoint(3)
        #expect(Self.publisherEvents(network, 0).contains(.reachableEndpointsChanged([moved])))
        let put = try #require(Self.puts(network, 0).last)
        #expect(put.reason == .endpointsChanged && put.new)
        #expect(put.record.endpoints == [moved])
        #expect(put.record.timestampMicroseconds == first.record.timestampMicroseconds + 3_000_000)
        #expect(network.nodes[0].reachableEndpoints == [moved])
    }

    @Test func withoutAutomaticPublishingOnlyARequestPublishes() throws {
        var network = Self.seedNetwork(publisher: Self.configuration(automatic: false))
        network.run(for: Self.interval * 2)
        #expect(Self.puts(network, 0).isEmpty)
        let result = network.with(0) { core, now in try? core.publish(now: now) }
        let (_, record) = try #require(result)
        #expect(record.endpoints == [TransportFixtures.endpoint(1)])
        #expect(Self.puts(network, 0).map(\.reason) == [.requested])
    }

    @Test func withNoUsableAddressNothingIsPublished() {
        var network = Network(latency: .milliseconds(20), seed: 5)
        network.add(Self.core(0, now: network.now), at: TransportFixtures.endpoint(1))
        let bare = LocalSocket(bound: Endpoint(address: .v4(0), port: 7000), family: .ipv4, interfaces: [])
        network.with(0) { core, now in core.start(socket: bare, seeds: [], contacts: [], now: now) }
        #expect(Self.publisherEvents(network, 0) == [.nothingToPublish(reason: .start)])
        let result = network.with(0) { core, now -> PublishError? in
            do throws(PublishError) {
                _ = try core.publish(now: now)
                return nil
            } catch {
                return error
            }
        }
        #expect(result == .nothingToPublish)
        #expect(network.nodes[0].publishedRecord == nil)
    }

    @Test func aConfirmedExternalEndpointTheSocketNoLongerHasIsNotPublished() throws {
        var network = Self.seedNetwork()
        // One vote makes a quorum here, so the joiner soon believes (and, as the endpoint is its
        // socket's own, confirms) the endpoint the seed reports.
        var dht = DHTConfiguration()
        dht.queryTimeout = .milliseconds(500)
        dht.observedAddressQuorum = 1
        let joiner = network.add(
            KeywayNodeCore(identity: TransportFixtures.identity(1), dhtConfiguration: dht, transportConfiguration: TransportFixtures.roomy,
                           publisherConfiguration: Self.configuration(), seed: 2, now: network.now),
            at: TransportFixtures.endpoint(2))
        var socket = LocalSocket(bound: Endpoint(address: .v4(0), port: 7000), family: .ipv4, interfaces: [TransportFixtures.endpoint(2).address])
        network.with(joiner) { core, now in
            core.start(socket: socket, seeds: [DHTSeed(endpoint: TransportFixtures.endpoint(1))], contacts: [], now: now)
        }
        let confirmed = network.run(until: { $0.nodes[joiner].confirmedExternalEndpoint == TransportFixtures.endpoint(2) }, limit: .seconds(5))
        #expect(confirmed)
        #expect(network.nodes[joiner].reachableEndpoints == [TransportFixtures.endpoint(2)])

        // The joiner moves: its interface address is gone, though the DHT still believes it.
        let moved = TransportFixtures.endpoint(4)
        network.move(joiner, to: moved)
        socket.interfaces = [moved.address]
        network.with(joiner) { core, now in core.updateSocket(socket, now: now) }
        #expect(network.nodes[joiner].confirmedExternalEndpoint == TransportFixtures.endpoint(2))
        #expect(network.nodes[joiner].reachableEndpoints == [moved])
        let put = try #require(Self.puts(network, joiner).last)
        #expect(put.reason == .endpointsChanged && put.record.endpoints == [moved])
    }

    // MARK: Stop linger

    static let quiet: Duration = .milliseconds(250)
    static let limit: Duration = .seconds(2)

    static func lingerEnded(_ network: Network, _ node: Int) -> Bool { network.events[node].contains(.stopLingerEnded) }

    /// Nodes 0 and 1 with a session: node 0 sent `"hello"` on a stream, and node 1 got it.
    static func pair() -> Network {
        var network = Network(latency: .milliseconds(20), seed: 9)
        network.add(core(0, now: network.now), at: TransportFixtures.endpoint(1))
        network.add(core(1, now: network.now), at: TransportFixtures.endpoint(2))
        let peer = TransportFixtures.identity(1).publicKey
        network.with(0) { core, now in
            core.connect(to: peer, at: [TransportFixtures.endpoint(2)], now: now)
            let stream = core.openStream(to: peer, now: now)
            core.write(Array("hello".utf8), to: stream, now: now)
        }
        network.run(until: { TransportFixtures.received(in: KeywayNodeCoreTests.transportEvents($0.events[1])) == Array("hello".utf8) },
                    limit: .seconds(5))
        return network
    }

    @Test func aNodeWithoutSessionsEndsItsLingerAtOnce() {
        var network = Network(latency: .milliseconds(20), seed: 5)
        network.add(Self.core(0, now: network.now), at: TransportFixtures.endpoint(1))
        network.with(0) { core, now in core.beginStop(quietPeriod: Self.quiet, limit: Self.limit, now: now) }
        #expect(Self.lingerEnded(network, 0))
    }

    @Test func theLingerEndsOnceThePeersHaveBeenQuietForTheQuietPeriod() throws {
        var network = Self.pair()
        let started = network.now
        network.with(1) { core, now in core.beginStop(quietPeriod: Self.quiet, limit: Self.limit, now: now) }
        #expect(!Self.lingerEnded(network, 1))
        let ended = network.run(until: { Self.lingerEnded($0, 1) }, limit: .seconds(5))
        #expect(ended)
        let lastHeard = try #require(network.nodes[1].transport.lastPacketReceivedAt)
        #expect(network.now == lastHeard + Self.quiet)
        #expect(network.now < started + Self.limit)
    }

    @Test func theLingerEndsAtItsLimitWhileBytesWaitForAnAcknowledgement() {
        var network = Self.pair()
        network.run(for: .milliseconds(500))
        // The peer vanishes; node 0 writes more, which nobody will acknowledge.
        network.down.insert(TransportFixtures.endpoint(2))
        let started = network.now
        network.with(0) { core, now in
            let stream = core.openStream(to: TransportFixtures.identity(1).publicKey, now: now)
            core.write(Array("into the void".utf8), to: stream, now: now)
            core.beginStop(quietPeriod: Self.quiet, limit: Self.limit, now: now)
        }
        #expect(network.nodes[0].transport.hasUnacknowledgedStreamData)
        let ended = network.run(until: { Self.lingerEnded($0, 0) }, limit: .seconds(5))
        #expect(ended)
        #expect(network.now == started + Self.limit)
    }
}
