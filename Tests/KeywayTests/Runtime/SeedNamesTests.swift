import Keyway
@testable import KeywayCLI
import KeywayCore
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 15, item 4: a seed given by name is resolved again when none of its addresses
/// answered, and the node joins through the new ones. The resolver is the test's: the name's
/// first answer is a port nobody listens on, every later one the live seed (a real name whose
/// addresses change would need /etc/hosts edits, which this test must not make).
@Suite(.timeLimit(.minutes(1)))
struct SeedNamesTests {
    @Test func aSeedNameIsResolvedAgainWhenNoSeedAddressAnswered() async throws {
        let seed = try await KeywayNode.start(RuntimeTestSupport.configuration())
        let dead = Endpoint(address: RuntimeTestSupport.loopback, port: try Self.closedPort())
        let lookups = Mutex(0)
        let live = seed.localEndpoint
        let host = SeedHost(host: HostPort(name: "seed.test", port: live.port), expectedID: NodeID(publicKey: seed.publicKey))
        let names = SeedNames([host], logger: RuntimeTestSupport.quietLogger) { host in
            let count = lookups.withLock { count in
                count += 1
                return count
            }
            return [DHTSeed(endpoint: count == 1 ? dead : live, expectedID: host.expectedID)]
        }
        let (seeds, complete) = await names.resolveAll()
        #expect(complete && seeds.map(\.endpoint) == [dead])

        var configuration = RuntimeTestSupport.configuration(seeds: seeds)
        configuration.dht.queryTimeout = .milliseconds(300)
        let node = try await KeywayNode.start(configuration)
        let following = Task { await names.follow(node, retryUnresolved: false) }
        #expect(try await node.waitUntilBootstrapped(timeout: RuntimeTestSupport.deadline))
        #expect(lookups.withLock { $0 } >= 2)
        #expect(try await node.contacts().contains { $0.endpoint == live })
        await node.stop()
        await following.value
        await seed.stop()
    }

    /// A UDP port on 127.0.0.1 that nothing listens on (bound, then closed).
    static func closedPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard bound == 0, named == 0 else { throw RuntimeTestSupport.Failure("cannot bind a probe socket: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }
}
