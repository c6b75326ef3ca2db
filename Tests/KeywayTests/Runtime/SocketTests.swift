import Foundation
import KeywayCore
import KeywayCrypto
import NIOCore
import NIOPosix
import Testing
@testable import Keyway

/// The socket side: garbage on the wire, both address families, conversions.
@Suite(.timeLimit(.minutes(1)))
struct SocketTests {
    typealias Support = RuntimeTestSupport

    /// Sends `payloads` from a fresh socket on 127.0.0.1 to `destination`.
    private func send(_ payloads: [[UInt8]], to destination: Endpoint) async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let address = try SocketAddress(ipAddress: "\(destination.address)", port: Int(destination.port))
        for payload in payloads {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: payload)))
        }
        try await channel.close()
    }

    @Test func malformedDatagramsNeverStopTheNode() async throws {
        try await NodeBag.with { bag in
            let seed = try await bag.start(Support.configuration())
            let node = try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))
            #expect(try await node.waitUntilBootstrapped(timeout: Support.deadline))
            var garbage: [[UInt8]] = [[], [0x64], Array("d1:ad2:id20:".utf8), Array("not bencode at all".utf8),
                                      Array("d1:q4:ping1:t2:aa1:y1:qe".utf8), [UInt8](repeating: 0x64, count: 1400)]
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<50 { garbage.append((0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
            try await send(garbage, to: seed.localEndpoint)
            try await send(garbage, to: node.localEndpoint)
            _ = try await node.publish()
            // Both still answer: a lookup through them finds the record.
            let record = try await seed.resolve(node.publicKey, timeout: Support.deadline)
            #expect(record?.endpoints == [node.localEndpoint])
            let dropped = try await seed.statistics().datagramsDropped + node.statistics().datagramsDropped
            #expect(dropped > 0)
        }
    }

    @Test func aDualStackNodeSeesIPv4PeersAsIPv4() async throws {
        try await NodeBag.with { bag in
            var configuration = Support.configuration()
            configuration.listen = Endpoint("[::]:0")!
            let dual = try await bag.start(configuration)
            #expect(dual.localEndpoint.address.isUnspecified)
            // Published endpoints are never the wildcard.
            let reachable = try await dual.reachableEndpoints()
            #expect(!reachable.isEmpty)
            #expect(reachable.allSatisfy { !$0.address.isUnspecified && $0.port == dual.localEndpoint.port })

            let seedEndpoint = Endpoint(address: Support.loopback, port: dual.localEndpoint.port)
            let peer = try await bag.start(Support.configuration(seeds: [DHTSeed(endpoint: seedEndpoint)]))
            #expect(try await peer.waitUntilBootstrapped(timeout: Support.deadline))
            let contacts = try await dual.contacts()
            #expect(contacts.map(\.endpoint).contains(peer.localEndpoint))
        }
    }

    @Test func ipv6LoopbackWorksWhenTheHostHasIt() async throws {
        var configuration = Support.configuration()
        configuration.listen = Endpoint("[::1]:0")!
        guard let seed = try? await KeywayNode.start(configuration) else { return }  // no IPv6 here
        await seed.stop()
        try await NodeBag.with { bag in
            let seed = try await bag.start(configuration)
            var joinerConfiguration = configuration
            joinerConfiguration.keyPair = .generate()
            joinerConfiguration.seeds = [DHTSeed(endpoint: seed.localEndpoint)]
            let joiner = try await bag.start(joinerConfiguration)
            #expect(try await joiner.waitUntilBootstrapped(timeout: Support.deadline))
            let published = try await joiner.publish()
            #expect(published.record.endpoints == [joiner.localEndpoint])
            let record = try await seed.resolve(joiner.publicKey, timeout: Support.deadline)
            #expect(record?.endpoints == [joiner.localEndpoint])
        }
    }

    @Test func socketAddressesMapToEndpointsAndBack() throws {
        let v4 = try SocketAddress(ipAddress: "192.0.2.7", port: 4000)
        #expect(v4.endpoint == Endpoint("192.0.2.7:4000"))
        let mapped = try SocketAddress(ipAddress: "::ffff:192.0.2.7", port: 4000)
        #expect(mapped.endpoint == Endpoint("192.0.2.7:4000"))
        let v6 = try SocketAddress(ipAddress: "2001:db8::1", port: 53)
        #expect(v6.endpoint == Endpoint("[2001:db8::1]:53"))
        // Only ::ffff:0:0/96 is IPv4-mapped; ::1 and ::a.b.c.d (IPv4-compatible) stay IPv6.
        #expect(try SocketAddress(ipAddress: "::1", port: 1).endpoint == Endpoint("[::1]:1"))
        #expect(try SocketAddress(ipAddress: "::c000:207", port: 1).endpoint == Endpoint("[::c000:207]:1"))
        #expect(try SocketAddress(ipAddress: "ffff::ffff:c000:207", port: 1).endpoint == Endpoint("[ffff::ffff:c000:207]:1"))

        let endpoint = try #require(Endpoint("192.0.2.7:4000"))
        #expect(SocketAddress.destination(for: endpoint, family: .ipv4) == v4)
        #expect(SocketAddress.destination(for: endpoint, family: .dualStack) == mapped)
        #expect(SocketAddress.destination(for: endpoint, family: .ipv6) == nil)
        let v6Endpoint = try #require(Endpoint("[2001:db8::1]:53"))
        #expect(SocketAddress.destination(for: v6Endpoint, family: .ipv4) == nil)
        #expect(SocketAddress.destination(for: v6Endpoint, family: .dualStack) == v6)
        #expect(SocketAddress.destination(for: v6Endpoint, family: .ipv6) == v6)
        // Built without a host name, and mapped back to the same endpoint.
        for family in [SocketFamily.ipv4, .dualStack] {
            #expect(SocketAddress.destination(for: endpoint, family: family)?.endpoint == endpoint)
        }
        #expect(SocketAddress.destination(for: v6Endpoint, family: .ipv6)?.endpoint == v6Endpoint)
    }
}
