import Testing
import KeywayCrypto
@testable import KeywayCore

/// Issue 13, item 1: the NAT class from what peers report (BEP 42 `ip`, one vote per source
/// /24), the socket's own endpoints and unsolicited traffic.
@Suite struct NATClassificationTests {
    let outside = IPAddress.v4(0xcb00_7101)                                  // 203.0.113.1
    let own = Endpoint(address: .v4(0xc612_0a0a), port: 6881)                // 198.18.10.10:6881

    func classify(_ reports: [Endpoint], believed: Endpoint? = nil, local: Set<Endpoint> = [], unsolicited: Bool = false) -> (NATClass, Endpoint?) {
        NATClassifier(reports: reports, believed: believed, localEndpoints: local, unsolicitedInboundSeen: unsolicited,
                      configuration: DHTConfiguration()).classification
    }

    @Test func theRule() {
        let mapped = Endpoint(address: outside, port: 40_000)
        // Peers see the socket's own endpoint and unsolicited packets arrive: open.
        #expect(classify([own, own, own], believed: own, local: [own], unsolicited: true) == (.open, own))
        // Seen at its own endpoint, but nothing arrives unasked (a filtering firewall): one mapping.
        #expect(classify([own, own, own], believed: own, local: [own]) == (.eim, own))
        // Three networks see one mapping: eim, also while a rebinding leaves one old vote.
        #expect(classify([mapped, mapped, mapped], believed: mapped) == (.eim, mapped))
        let rebound = Endpoint(address: outside, port: 40_001)
        #expect(classify([rebound, mapped, mapped, mapped], believed: mapped) == (.eim, mapped))
        // Every network sees another port: a mapping per destination.
        let ports = (0..<4).map { Endpoint(address: outside, port: UInt16(50_000 + $0)) }
        #expect(classify(ports) == (.edm, nil))
        // Too few networks to tell.
        #expect(classify([mapped, mapped]) == (.unknown, nil))
        #expect(classify([ports[0], ports[0], mapped]) == (.unknown, nil))
    }

    /// Three /24s answer the node's join; the class follows from what they report, as an event.
    @Test(arguments: [true, false])
    func aJoinClassifiesTheNAT(oneMapping: Bool) throws {
        let responders = [0xc612_0101, 0xc612_0201, 0xc612_0301].map { Endpoint(address: .v4(UInt32($0)), port: 6881) }
        let reports = ObservedAddressTests()
        var node = try reports.makeVictim(seeds: responders)
        let outside = self.outside
        reports.answer(&node, responders: Set(responders), observedBy: { responder in
            Endpoint(address: outside, port: oneMapping ? 40_000 : 50_000 + UInt16(responder.address.bytes[2]))
        }, now: .zero) { endpoint in
            NodeID(bytes: [UInt8](repeating: UInt8(truncatingIfNeeded: endpoint.address.bytes[2]), count: 20))!
        }
        var changes: [(NATClass, Endpoint?)] = []
        while let event = node.pollEvent() {
            if case let .natClassChanged(kind, endpoint) = event { changes.append((kind, endpoint)) }
        }
        let expected: (NATClass, Endpoint?) = oneMapping ? (.eim, Endpoint(address: outside, port: 40_000)) : (.edm, nil)
        #expect(changes.count == 1)
        #expect(changes.last.map { $0 == expected } == true)
        #expect(node.natClass == expected.0)
    }
}
