import Foundation
import Keyway
import KeywayCore
import KeywayCrypto
import Testing

/// Streams between real nodes on 127.0.0.1 in this process: connect by key, backpressure,
/// admission (allow-list, mesh secret).
@Suite(.timeLimit(.minutes(1)))
struct StreamTests {
    typealias Support = RuntimeTestSupport

    /// Deterministic test bytes.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        return rng.bytes(count: count)
    }

    /// Writes `bytes` in pieces of `piece`, then finishes.
    static func send(_ bytes: [UInt8], on stream: KeywayStream, piece: Int = 50_000) async throws {
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            try await stream.write(Array(bytes[offset..<end]))
            offset = end
        }
        try await stream.finish()
    }

    /// Everything until the peer's end.
    static func receiveAll(_ stream: KeywayStream, maximumCount: Int = 65536) async throws -> [UInt8] {
        var out = [UInt8]()
        while let chunk = try await stream.read(maximumCount: maximumCount) { out += chunk }
        return out
    }

    @Test func connectByKeyCarriesBothDirections() async throws {
        try await NodeBag.with { bag in
            let seed = try await bag.start(Support.configuration())
            let listener = try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)], publishAutomatically: true))
            let dialler = try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))
            let incoming = await listener.incomingStreams()
            #expect(try await listener.waitUntilBootstrapped(timeout: Support.deadline))
            _ = try await listener.publish()

            let request = Self.bytes(2_000_000, seed: 1)
            let response = Self.bytes(700_000, seed: 2)
            let stream = try await dialler.connect(to: listener.publicKey)
            #expect(try await dialler.sessionEndpoint(of: listener.publicKey) == listener.localEndpoint)
            async let sent: Void = Self.send(request, on: stream)
            var iterator = incoming.makeAsyncIterator()
            let accepted = try #require(await iterator.next())
            #expect(accepted.peer == dialler.publicKey)
            // A small read size: the reader paces the writer (credit returns as it reads).
            let received = try await Self.receiveAll(accepted, maximumCount: 1000)
            try await sent
            #expect(received == request)
            try await Self.send(response, on: accepted)
            #expect(try await Self.receiveAll(stream) == response)
            let statistics = try await listener.transportStatistics()
            #expect(statistics.handshakesCompleted == 1)
            #expect(statistics.droppedUnauthenticated == 0)
        }
    }

    @Test func anAllowListRefusesOtherKeys() async throws {
        try await NodeBag.with { bag in
            let allowed = Ed25519.KeyPair.generate()
            var configuration = Support.configuration()
            configuration.transport.peerPolicy = .only([allowed.publicKey])
            let listener = try await bag.start(configuration)
            // Held (not discarded): a node with no consumer of incoming streams resets them, and
            // that reset could reach the friend before its write below.
            let incoming = await listener.incomingStreams()
            let stranger = try await bag.start(Support.configuration())
            await #expect(throws: KeywayStreamError.self) {
                _ = try await stranger.connect(to: listener.publicKey, at: [listener.localEndpoint], timeout: .milliseconds(1500))
            }
            #expect(try await listener.transportStatistics().droppedRefused >= 1)
            let friend = try await bag.start(Support.configuration(keyPair: allowed))
            let stream = try await friend.connect(to: listener.publicKey, at: [listener.localEndpoint])
            try await Self.send(Array("hello".utf8), on: stream)
            var iterator = incoming.makeAsyncIterator()
            let accepted = try #require(await iterator.next())
            #expect(try await Self.receiveAll(accepted) == Array("hello".utf8))
        }
    }

    /// Path MTU discovery on a real socket: loopback carries 16 KiB datagrams whole (don't-
    /// fragment set, read slots grown at the first transport packet, 4 MiB buffers), so a bulk
    /// stream travels mostly in large datagrams. With 2 KiB read slots the probes would arrive
    /// truncated and the stream would stay near 1,400-byte datagrams.
    @Test func onLoopbackABulkStreamTravelsInLargeDatagrams() async throws {
        try await NodeBag.with { bag in
            let listener = try await bag.start(Support.configuration())
            let incoming = await listener.incomingStreams()
            let sender = try await bag.start(Support.configuration())
            let stream = try await sender.connect(to: listener.publicKey, at: [listener.localEndpoint])
            let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            async let sent: Void = Self.send(payload, on: stream, piece: 256 * 1024)
            var iterator = incoming.makeAsyncIterator()
            let accepted = try #require(await iterator.next())
            #expect(try await Self.receiveAll(accepted, maximumCount: 1 << 20) == payload)
            try await sent
            let received = try await listener.transportStatistics()
            let average = received.bytesReceived / max(1, received.datagramsReceived)
            #expect(average > 4096, "\(received.datagramsReceived) datagrams, \(average) bytes on average")
            #expect(try await sender.transportStatistics().sizeProbesSent > 0)
        }
    }

    @Test func aMeshSecretKeepsOutNodesWithoutIt() async throws {
        try await NodeBag.with { bag in
            let secret = SecureBytes(Array(repeating: 7, count: 32))
            var configuration = Support.configuration()
            configuration.transport.presharedKey = secret
            let listener = try await bag.start(configuration)
            let incoming = await listener.incomingStreams()
            let outsider = try await bag.start(Support.configuration())
            await #expect(throws: KeywayStreamError.self) {
                _ = try await outsider.connect(to: listener.publicKey, at: [listener.localEndpoint], timeout: .milliseconds(1500))
            }
            var member = Support.configuration()
            member.transport.presharedKey = secret
            let insider = try await bag.start(member)
            let stream = try await insider.connect(to: listener.publicKey, at: [listener.localEndpoint])
            try await Self.send(Array("in the mesh".utf8), on: stream)
            var iterator = incoming.makeAsyncIterator()
            let accepted = try #require(await iterator.next())
            #expect(try await Self.receiveAll(accepted) == Array("in the mesh".utf8))
        }
    }

    @Test func aKeyWithNoRecordIsNotFound() async throws {
        try await NodeBag.with { bag in
            let seed = try await bag.start(Support.configuration())
            let node = try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))
            await #expect(throws: KeywayStreamError.notFound(key: seed.publicKey.zBase32)) {
                _ = try await node.connect(to: seed.publicKey, timeout: .seconds(3))
            }
        }
    }
}
