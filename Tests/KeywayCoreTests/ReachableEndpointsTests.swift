import Testing
@testable import KeywayCore

/// What a node publishes.
@Suite struct ReachableEndpointsTests {
    private let lan = IPAddress("192.168.1.5")!, loopback = IPAddress("127.0.0.1")!
    private let global6 = IPAddress("2001:db8::5")!, linkLocal = IPAddress("fe80::1")!, loopback6 = IPAddress("::1")!

    private func reachable(_ bound: String, _ family: SocketFamily, interfaces: [IPAddress], external: String? = nil,
                           announced: [String] = [], limit: Int = 8) -> [String] {
        ReachableEndpoints(bound: Endpoint(bound)!, family: family, interfaces: interfaces, external: external.flatMap { Endpoint($0) },
                           announced: announced.map { Endpoint($0)! }, limit: limit).endpoints.map(\.description)
    }

    @Test func aSpecificAddressIsPublishedAsBound() {
        #expect(reachable("127.0.0.1:4000", .ipv4, interfaces: [lan]) == ["127.0.0.1:4000"])
    }

    @Test func aWildcardBecomesTheInterfaceAddressesWithoutLoopbackOrLinkLocal() {
        let all = [loopback, lan, loopback6, linkLocal, global6]
        #expect(reachable("0.0.0.0:4000", .ipv4, interfaces: all) == ["192.168.1.5:4000"])
        #expect(reachable("[::]:4000", .dualStack, interfaces: all) == ["192.168.1.5:4000", "[2001:db8::5]:4000"])
        #expect(reachable("[::]:4000", .ipv6, interfaces: all) == ["[2001:db8::5]:4000"])
    }

    @Test func loopbackIsPublishedOnlyWhenNothingElseIsThere() {
        #expect(reachable("0.0.0.0:4000", .ipv4, interfaces: [loopback]) == ["127.0.0.1:4000"])
        #expect(reachable("0.0.0.0:4000", .ipv4, interfaces: []) == [])
    }

    @Test func announcedThenExternalThenBoundWithoutDuplicatesOrWildcards() {
        let endpoints = reachable("0.0.0.0:4000", .ipv4, interfaces: [lan], external: "198.51.100.7:4000",
                                  announced: ["203.0.113.1:80"])
        #expect(endpoints == ["203.0.113.1:80", "198.51.100.7:4000", "192.168.1.5:4000"])
        let repeated = reachable("0.0.0.0:4000", .ipv4, interfaces: [lan], external: "192.168.1.5:4000",
                                 announced: ["192.168.1.5:4000", "203.0.113.1:80"])
        #expect(repeated == ["192.168.1.5:4000", "203.0.113.1:80"])
        #expect(reachable("0.0.0.0:4000", .ipv4, interfaces: [lan], announced: ["0.0.0.0:1"]) == ["192.168.1.5:4000"])
    }

    @Test func theRecordLimitCutsTheList() {
        let many = (1...20).map { IPAddress("10.0.0.\($0)")! }
        #expect(reachable("0.0.0.0:1", .ipv4, interfaces: many, limit: 8).count == 8)
    }
}
