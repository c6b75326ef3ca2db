import Testing
@testable import KeywayCore

@Suite struct IPAddressTextTests {
    @Test func ipv4ParsesAndPrints() throws {
        let cases: [(String, UInt32)] = [
            ("0.0.0.0", 0), ("127.0.0.1", 0x7f00_0001), ("255.255.255.255", 0xffff_ffff),
            ("192.0.2.10", 0xc000_020a), ("10.0.100.7", 0x0a00_6407),
        ]
        for (text, value) in cases {
            let address = try #require(IPAddress(text), "\(text)")
            #expect(address == .v4(value))
            #expect(address.description == text)
        }
    }

    @Test func ipv4RejectsNonStrictForms() {
        for text in [
            "", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-4", "01.2.3.4", "1.2.3.04", "1.2.3.00",
            "1..2.3", "1.2.3.", ".1.2.3", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4a", "0x1.2.3.4", "1234.1.1.1",
            "１.2.3.4", "1.2.3.4:80",
        ] {
            #expect(IPAddress(text) == nil, "\(text) should be refused")
        }
    }

    @Test func ipv6ParsesRFC4291Forms() throws {
        let cases: [(String, String)] = [
            ("::", "::"),
            ("::1", "::1"),
            ("1::", "1::"),
            ("2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a"),
            ("2001:db8::8:800:200c:417a", "2001:db8::8:800:200c:417a"),
            ("FF01:0:0:0:0:0:0:101", "ff01::101"),
            ("0:0:0:0:0:0:0:1", "::1"),
            ("0:0:0:0:0:0:0:0", "::"),
            ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
            // RFC 5952 4.2.2: a single zero group is not compressed.
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            // RFC 5952 4.2.3: the longest run wins, the first of equal runs.
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
            // Embedded IPv4 tails, and RFC 5952 5 for mapped addresses.
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
            ("::FFFF:c000:0201", "::ffff:192.0.2.1"),
            ("0:0:0:0:0:ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("::1.2.3.4", "::102:304"),
            ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
            ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ]
        for (input, canonical) in cases {
            let address = try #require(IPAddress(input), "\(input)")
            #expect(!address.isIPv4)
            #expect(address.description == canonical, "\(input)")
            #expect(IPAddress(canonical) == address, "\(canonical)")
        }
        #expect(IPAddress("::1") == .v6(high: 0, low: 1))
        #expect(IPAddress("2001:db8::1")?.bytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
    }

    @Test func ipv6RejectsMalformedText() {
        for text in [
            ":", ":::", "1:::2", "1::2::3", ":1::", "::1:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "12345::", "g::1", "::1%eth0", "fe80::1%1",
            "1.2.3.4::", "::1.2.3.4:1", "::1.2.3", "::256.1.1.1", "::01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
            "[::1]", " ::1", "::1 ", "::-1", "::+1",
        ] {
            #expect(IPAddress(text) == nil, "\(text) should be refused")
        }
    }

    @Test func randomAddressesRoundTripThroughText() throws {
        var rng = SeededRandom(seed: 7)
        for n in 0..<2000 {
            let address: IPAddress
            switch n % 3 {
            case 0: address = .v4(UInt32(truncatingIfNeeded: rng.next()))
            case 1:
                // Sparse groups, so zero runs of every length appear.
                let groups = (0..<8).map { _ in rng.next() % 3 == 0 ? UInt64(rng.next() & 0xffff) : 0 }
                let high = groups[0..<4].reduce(0) { $0 << 16 | $1 }, low = groups[4..<8].reduce(0) { $0 << 16 | $1 }
                address = .v6(high: high, low: low)
            default: address = .v6(high: rng.next(), low: rng.next())
            }
            let text = address.description
            #expect(IPAddress(text) == address, "\(text)")
            #expect(text == text.lowercased())
        }
    }

    @Test func endpointsParseAndPrint() throws {
        let cases: [(String, Endpoint)] = [
            ("1.2.3.4:80", Endpoint(address: .v4(0x0102_0304), port: 80)),
            ("0.0.0.0:0", Endpoint(address: .v4(0), port: 0)),
            ("255.255.255.255:65535", Endpoint(address: .v4(0xffff_ffff), port: 65535)),
            ("[::1]:80", Endpoint(address: .v6(high: 0, low: 1), port: 80)),
            ("[2001:db8::1]:4000", Endpoint(address: .v6(high: 0x2001_0db8_0000_0000, low: 1), port: 4000)),
            ("[::ffff:192.0.2.1]:6881", Endpoint(address: .v6(high: 0, low: 0xffff_c000_0201), port: 6881)),
        ]
        for (text, endpoint) in cases {
            #expect(Endpoint(text) == endpoint, "\(text)")
            #expect(endpoint.description == text)
        }
        #expect(Endpoint("[2001:DB8:0:0:0:0:0:1]:4000")?.description == "[2001:db8::1]:4000")
    }

    @Test func endpointsRejectMalformedText() {
        for text in [
            "", "1.2.3.4", "1.2.3.4:", ":80", "1.2.3.4:65536", "1.2.3.4:99999", "1.2.3.4:-1", "1.2.3.4:+80",
            "1.2.3.4:080", "1.2.3.4:8o", "1.2.3.4:123456", "::1:80", "[::1]", "[::1]:", "[::1]80", "[1.2.3.4]:80",
            "[::1:80", "::1]:80", "[]:80", "[::1%eth0]:80", "1.2.3.4 :80", "1.2.3.4: 80", "host:80",
        ] {
            #expect(Endpoint(text) == nil, "\(text) should be refused")
        }
    }

    @Test func randomEndpointsRoundTripThroughText() {
        var rng = SeededRandom(seed: 11)
        for n in 0..<1000 {
            let address: IPAddress = n.isMultiple(of: 2) ? .v4(UInt32(truncatingIfNeeded: rng.next())) : .v6(high: rng.next(), low: rng.next() >> (rng.next() % 64))
            let endpoint = Endpoint(address: address, port: UInt16(truncatingIfNeeded: rng.next()))
            #expect(Endpoint(endpoint.description) == endpoint, "\(endpoint)")
        }
    }
}
