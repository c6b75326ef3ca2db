import Testing
import KeywayCrypto
@testable import KeywayCore

/// Reproducible fuzzing of everything that reads records from strangers: the DNS decoder and
/// ``EndpointRecord/init(item:limits:)``. Inputs come from ``SeededRandom``, so a failure names
/// the iteration and reruns identically.
@Suite struct RecordFuzzTests {
    static let iterations = 100_000
    static let seed: UInt64 = 0x6b65_7977_6179

    /// Valid packets to mutate: endpoint records and the DNS tests' packets.
    static func corpus(key: Ed25519.PublicKey) throws -> [[UInt8]] {
        let endpointSets = [
            ["192.0.2.1:4000"],
            ["192.0.2.1:4000", "[2001:db8::1]:4000", "192.0.2.1:4001", "[::ffff:10.0.0.1]:9"],
            (1...8).map { "[2001:db8::\($0)]:\(60000 + $0)" },
        ]
        var packets = try endpointSets.map { texts in
            try EndpointRecord(
                publicKey: key, timestampMicroseconds: 1, endpoints: texts.compactMap { Endpoint($0) }
            ).dnsPacket()
        }
        packets.append(try DNSPacketTests.sample.encoded())
        packets.append(try DNSPacketTests.sample.encoded(compressingNames: false))
        packets.append(DNSBytes.header(an: 1)
            + DNSBytes.name("example.com") + DNSBytes.recordTail(type: 5, ttl: 1, data: [3] + Array("www".utf8) + [0xc0, 12]))
        return packets
    }

    /// `packet` with one to four random edits.
    static func mutate(_ packet: [UInt8], using rng: inout SeededRandom) -> [UInt8] {
        var bytes = packet
        for _ in 0...(rng.next() % 4) {
            let position = bytes.isEmpty ? 0 : Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 9 {
            case 0 where !bytes.isEmpty: bytes[position] ^= 1 << UInt8(rng.next() % 8)
            case 1 where !bytes.isEmpty: bytes[position] = UInt8(truncatingIfNeeded: rng.next())
            case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
            case 3 where !bytes.isEmpty: bytes.remove(at: position)
            case 4: bytes.removeLast(min(bytes.count, Int(rng.next() % 8)))
            case 5 where bytes.count > position + 1:
                // A compression pointer to anywhere.
                bytes[position] = DNSSpec.pointerTag | UInt8(rng.next() % 4)
                bytes[position + 1] = UInt8(truncatingIfNeeded: rng.next())
            case 6 where bytes.count >= DNSSpec.headerLength:
                // A section count off by a little.
                let count = 4 + 2 * Int(rng.next() % 4) + 1
                bytes[count] = bytes[count] &+ UInt8(truncatingIfNeeded: Int(rng.next() % 3) - 1)
            case 7 where position < bytes.count:
                // A copy of a slice elsewhere, as a confused encoder might write.
                let length = min(bytes.count - position, Int(rng.next() % 16))
                let slice = Array(bytes[position..<(position + length)])
                bytes.insert(contentsOf: slice, at: Int(rng.next() % UInt64(bytes.count + 1)))
            default:
                // A digit in an ep= string, so some mutants stay valid records.
                for i in position..<bytes.count where bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                    bytes[i] = 0x30 + UInt8(rng.next() % 10)
                    break
                }
            }
        }
        return bytes
    }

    /// Random bytes behind a plausible header, so decoding gets past the counts.
    static func randomPacket(using rng: inout SeededRandom) -> [UInt8] {
        let counts = (0..<4).map { _ in UInt16(rng.next() % 4) }
        let body = rng.bytes(count: Int(rng.next() % 200))
        if rng.next() % 8 == 0 { return rng.bytes(count: Int(rng.next() % 64)) }
        return DNSBytes.header(qd: counts[0], an: counts[1], ns: counts[2], ar: counts[3]) + body
    }

    @Test func decodersNeverTrapAndWhatTheyAcceptRoundTrips() throws {
        let key = try Ed25519.KeyPair(seed: [UInt8](repeating: 9, count: Ed25519.seedLength)).publicKey
        let corpus = try Self.corpus(key: key)
        let roomy = DNSLimits(maximumPacketLength: DNSSpec.maximumRecordDataLength)
        var rng = SeededRandom(seed: Self.seed)
        var packetsDecoded = 0, recordsDecoded = 0
        for iteration in 0..<Self.iterations {
            let input = iteration % 4 == 0
                ? Self.randomPacket(using: &rng)
                : Self.mutate(corpus[Int(rng.next() % UInt64(corpus.count))], using: &rng)

            if let packet = try? DNSPacket(decoding: input) {
                packetsDecoded += 1
                // Re-encoding may not compress names inside record data as the input did, so
                // the second decode allows a larger packet.
                let again = try DNSPacket(decoding: packet.encoded(), limits: roomy)
                #expect(again == packet, "iteration \(iteration)")
                #expect(try DNSPacket(decoding: packet.encoded(compressingNames: false), limits: roomy) == packet)
            }

            let value = iteration % 16 == 0 ? input : BencodedByteString.encode(input)
            let item = MutableItem(publicKey: key, sequence: Int64(iteration), encodedValue: value, signature: [])
            if let record = try? EndpointRecord(item: item) {
                recordsDecoded += 1
                let reread = try EndpointRecord(item: MutableItem(
                    publicKey: key, sequence: record.timestampMicroseconds, encodedValue: record.encodedValue, signature: []))
                #expect(reread == record, "iteration \(iteration)")
            }
        }
        // The fuzzing only means something if a fair share of inputs got all the way through.
        #expect(packetsDecoded > Self.iterations / 20)
        #expect(recordsDecoded > Self.iterations / 50)
    }
}
