import Testing
import KeywayCrypto
@testable import KeywayCore

@Suite struct EndpointRecordTests {
    static func keyPair(_ byte: UInt8 = 1) throws -> Ed25519.KeyPair {
        try Ed25519.KeyPair(seed: [UInt8](repeating: byte, count: Ed25519.seedLength))
    }

    static func endpoints(_ texts: [String]) throws -> [Endpoint] {
        try texts.map { try #require(Endpoint($0), "\($0)") }
    }

    /// An unsigned item carrying `packet`, for the decoding tests (decoding ignores `sig`).
    static func item(_ key: Ed25519.PublicKey, packet: DNSPacket, sequence: Int64 = 1) throws -> MutableItem {
        MutableItem(publicKey: key, sequence: sequence, encodedValue: BencodedByteString.encode(try packet.encoded()), signature: [])
    }

    @Test func signVerifyAndDecodeGivesTheSameRecord() throws {
        let keys = try Self.keyPair()
        let record = try EndpointRecord(
            publicKey: keys.publicKey, timestampMicroseconds: 1_700_000_000_123_456,
            endpoints: Self.endpoints(["192.0.2.1:4000", "[2001:db8::1]:4000", "192.0.2.1:4001"]), ttl: 120)
        let item = record.signed(by: keys)
        #expect(item.isValid)
        #expect(item.sequence == 1_700_000_000_123_456)
        #expect(item.salt.isEmpty)
        #expect(item.target == NodeID(publicKey: keys.publicKey))
        #expect(item.target == record.target)
        #expect(item.encodedValue == Array("\(record.dnsPacket().count):".utf8) + record.dnsPacket())

        let decoded = try EndpointRecord(item: item)
        #expect(decoded == record)
        #expect(decoded.endpoints == record.endpoints)
        #expect(decoded.ttl == 120)
        #expect(decoded.timestampMicroseconds == record.timestampMicroseconds)
        #expect(decoded.publicKey == keys.publicKey)

        // The signature covers the packet: a changed byte no longer verifies.
        var tampered = item
        tampered.encodedValue[tampered.encodedValue.count - 1] ^= 1
        #expect(!tampered.isValid)
    }

    @Test func mixedFamiliesMakeThePkarrLayout() throws {
        let keys = try Self.keyPair(2)
        let endpoints = try Self.endpoints([
            "[2001:db8::7]:6881", "203.0.113.9:6881", "[2001:db8::7]:6882", "[::ffff:198.51.100.1]:1", "127.0.0.1:65535",
        ])
        let record = try EndpointRecord(publicKey: keys.publicKey, timestampMicroseconds: 0, endpoints: endpoints)
        let packet = try DNSPacket(decoding: record.dnsPacket())
        let key = keys.publicKey.zBase32
        #expect(packet.id == 0 && packet.flags == DNSSpec.responseFlag && packet.questions.isEmpty)
        #expect(packet.authorities.isEmpty && packet.additionals.isEmpty)
        #expect(packet.answers.allSatisfy { $0.name.labels.last == Array(key.utf8) && $0.ttl == EndpointRecord.defaultTTL })
        let addressRecords = packet.answers.filter { $0.name.description == key }
        #expect(addressRecords.map(\.data) == [
            .address(endpoints[0].address), .address(endpoints[1].address),
            .address(endpoints[3].address), .address(endpoints[4].address),
        ])
        #expect(addressRecords.map(\.type) == [28, 1, 28, 1])
        let textRecords = packet.answers.filter { $0.name.description == "_keyway." + key }
        #expect(textRecords.map(\.data) == [
            .text([Array("ep=[2001:db8::7]:6881".utf8)]), .text([Array("ep=203.0.113.9:6881".utf8)]),
            .text([Array("ep=[2001:db8::7]:6882".utf8)]), .text([Array("ep=[::ffff:198.51.100.1]:1".utf8)]),
            .text([Array("ep=127.0.0.1:65535".utf8)]),
        ])
        // Compressed: the key appears once in the packet.
        #expect(record.dnsPacket().count < (try packet.encoded(compressingNames: false)).count)
        #expect(try EndpointRecord(item: record.signed(by: keys)).endpoints == endpoints)
    }

    @Test func enforcesTheEndpointLimitAndTheValueCap() throws {
        let keys = try Self.keyPair(3)
        // The worst case: eight IPv6 endpoints with the longest text.
        let widest = (0..<8).map {
            Endpoint(address: .v6(high: 0xffff_ffff_ffff_ffff, low: 0xffff_ffff_ffff_ff00 | UInt64($0)), port: 65535)
        }
        #expect(widest[0].description.count == 47)
        let record = try EndpointRecord(publicKey: keys.publicKey, timestampMicroseconds: 1, endpoints: widest)
        #expect(record.encodedValue.count == 804)
        #expect(record.signed(by: keys).isValid)

        let nine = widest + [Endpoint(address: .v4(0x0a00_0001), port: 1)]
        #expect(throws: EndpointRecordError.tooManyEndpoints(count: 9, limit: 8)) {
            try EndpointRecord(publicKey: keys.publicKey, timestampMicroseconds: 1, endpoints: nine)
        }
        let roomier = EndpointRecordLimits(maximumEndpoints: 20)
        let nineRecord = try EndpointRecord(publicKey: keys.publicKey, timestampMicroseconds: 1, endpoints: nine, limits: roomier)
        #expect(throws: EndpointRecordError.tooManyEndpoints(count: 9, limit: 8)) { try EndpointRecord(item: nineRecord.signed(by: keys)) }
        #expect(try EndpointRecord(item: nineRecord.signed(by: keys), limits: roomier) == nineRecord)

        let twenty = (0..<20).map { Endpoint(address: .v6(high: UInt64.max, low: UInt64.max - UInt64($0)), port: 65535) }
        #expect(throws: EndpointRecordError.valueTooLarge(length: 1897, limit: 1000)) {
            try EndpointRecord(publicKey: keys.publicKey, timestampMicroseconds: 1, endpoints: twenty, limits: roomier)
        }
    }

    @Test func refusesRecordsNoOneCouldUse() throws {
        let key = try Self.keyPair(4).publicKey
        let good = Endpoint(address: .v4(0xc000_0201), port: 4000)
        let cases: [([Endpoint], Int64, EndpointRecordError)] = [
            ([], 1, .noEndpoints),
            ([good, good], 1, .duplicateEndpoint(good)),
            ([Endpoint(address: .v4(0), port: 4000)], 1, .unpublishableEndpoint(Endpoint(address: .v4(0), port: 4000))),
            ([Endpoint(address: .v6(high: 0, low: 0), port: 1)], 1, .unpublishableEndpoint(Endpoint(address: .v6(high: 0, low: 0), port: 1))),
            ([Endpoint(address: .v4(1), port: 0)], 1, .unpublishableEndpoint(Endpoint(address: .v4(1), port: 0))),
            ([good], -1, .negativeTimestamp(-1)),
        ]
        for (endpoints, timestamp, error) in cases {
            #expect(throws: error) { try EndpointRecord(publicKey: key, timestampMicroseconds: timestamp, endpoints: endpoints) }
            #expect(!error.description.isEmpty && !error.description.contains("\n"))
        }
    }

    @Test func decodingIgnoresWhatItDoesNotKnow() throws {
        let key = try Self.keyPair(5).publicKey
        let z32 = key.zBase32
        let service = try DNSName("_KEYWAY." + z32.uppercased()), apex = try DNSName(z32)
        let packet = DNSPacket(answers: [
            DNSResourceRecord(name: apex, ttl: 10, data: .address(.v4(0x0102_0304))),
            DNSResourceRecord(name: apex, ttl: 10, data: .other(type: 65, data: [0, 1, 0])),
            DNSResourceRecord(name: try DNSName("_other." + z32), ttl: 5, data: .text([Array("ep=10.0.0.1:1".utf8)])),
            DNSResourceRecord(name: service, recordClass: 3, ttl: 5, data: .text([Array("ep=10.0.0.2:2".utf8)])),
            DNSResourceRecord(name: service, ttl: 90, data: .text([Array("v=2".utf8), Array("ep=10.0.0.3:3".utf8), []])),
            DNSResourceRecord(name: service, ttl: 60, data: .text([Array("ep=[fe80::1]:4".utf8), Array("EP=junk".utf8)])),
            DNSResourceRecord(name: service, ttl: 30, data: .text([Array("future=1".utf8)])),
        ])
        let record = try EndpointRecord(item: Self.item(key, packet: packet, sequence: 77))
        #expect(record.endpoints == (try Self.endpoints(["10.0.0.3:3", "[fe80::1]:4"])))
        #expect(record.ttl == 60)
        #expect(record.timestampMicroseconds == 77)
    }

    @Test func decodingRefusesItemsThatAreNotRecords() throws {
        let keys = try Self.keyPair(6)
        let record = try EndpointRecord(
            publicKey: keys.publicKey, timestampMicroseconds: 5, endpoints: Self.endpoints(["192.0.2.1:1"]))
        let item = record.signed(by: keys)

        var salted = item
        salted.salt = [1, 2, 3]
        #expect(throws: EndpointRecordError.saltNotAllowed(length: 3)) { try EndpointRecord(item: salted) }

        let packet = record.dnsPacket()
        for value in [
            packet, Array("i5e".utf8), Array("5:abc".utf8), Array("05:abcde".utf8), [], Array(":".utf8),
            Array("\(packet.count + 1):".utf8) + packet, Array("\(packet.count):".utf8) + packet + [0],
            Array("-\(packet.count):".utf8) + packet,
        ] {
            var bad = item
            bad.encodedValue = value
            #expect(throws: EndpointRecordError.valueNotByteString) { try EndpointRecord(item: bad) }
        }

        var garbage = item
        garbage.encodedValue = Array("3:abc".utf8)
        #expect(throws: EndpointRecordError.dns(.truncated(offset: 2, needed: 2))) { try EndpointRecord(item: garbage) }

        var negative = item
        negative.sequence = -5
        #expect(throws: EndpointRecordError.negativeTimestamp(-5)) { try EndpointRecord(item: negative) }

        let service = EndpointRecord.serviceName(publicKey: keys.publicKey)
        let malformed = DNSPacket(answers: [DNSResourceRecord(name: service, ttl: 1, data: .text([Array("ep=1.2.3.4".utf8)]))])
        #expect(throws: EndpointRecordError.malformedEndpoint("1.2.3.4")) {
            try EndpointRecord(item: Self.item(keys.publicKey, packet: malformed))
        }
        let addressesOnly = DNSPacket(answers: [
            DNSResourceRecord(name: EndpointRecord.originName(publicKey: keys.publicKey), ttl: 1, data: .address(.v4(1)))
        ])
        #expect(throws: EndpointRecordError.noEndpoints) { try EndpointRecord(item: Self.item(keys.publicKey, packet: addressesOnly)) }
        // A record signed for another key is read under the item's key, so its TXT names do not match.
        let other = try EndpointRecord(publicKey: Self.keyPair(7).publicKey, timestampMicroseconds: 1, endpoints: record.endpoints)
        let misfiled = MutableItem(publicKey: keys.publicKey, sequence: 1, encodedValue: other.encodedValue, signature: [])
        #expect(throws: EndpointRecordError.noEndpoints) { try EndpointRecord(item: misfiled) }
    }
}
