import Testing
@testable import KeywayCore

/// Hand-written wire bytes for the decoder tests.
enum DNSBytes {
    /// A header with ID 0, the response flag and the given counts.
    static func header(qd: UInt16 = 0, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
        [0, 0, 0x80, 0] + [qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    /// The uncompressed wire form of a dotted name.
    static func name(_ text: String) -> [UInt8] {
        text.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// Type, class IN, TTL and RDLENGTH, then the data.
    static func recordTail(type: UInt16, ttl: UInt32, data: [UInt8]) -> [UInt8] {
        [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
            + [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xff), UInt8(ttl >> 8 & 0xff), UInt8(ttl & 0xff)]
            + [UInt8(data.count >> 8), UInt8(data.count & 0xff)] + data
    }
}

@Suite struct DNSPacketTests {
    static let key = "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no"

    static func name(_ text: String) -> DNSName {
        // Test names are valid by construction.
        (try? DNSName(text)) ?? .root
    }

    /// A packet using every kind of data and every section.
    static let sample: DNSPacket = {
        let apex = name(key), sub = name("_foo." + key)
        return DNSPacket(
            id: 0x1234, flags: 0x8400,
            questions: [DNSQuestion(name: apex, type: DNSSpec.RecordType.txt)],
            answers: [
                DNSResourceRecord(name: apex, ttl: 300, data: .address(IPAddress("192.0.2.1") ?? .v4(0))),
                DNSResourceRecord(name: apex, ttl: 300, data: .address(IPAddress("2001:db8::1") ?? .v4(0))),
                DNSResourceRecord(name: sub, ttl: 30, data: .text([Array("hello".utf8), [], Array("world".utf8)])),
                DNSResourceRecord(name: sub, ttl: 30, data: .text([])),
                DNSResourceRecord(name: sub, recordClass: 3, ttl: .max, data: .other(type: 99, data: [1, 2, 3])),
            ],
            authorities: [DNSResourceRecord(name: name("example.org"), ttl: 1, data: .other(type: DNSSpec.RecordType.cname, data: name("Foo.example.org").wireBytes))],
            additionals: [DNSResourceRecord(name: .root, ttl: 0, data: .other(type: 41, data: []))])
    }()

    @Test func roundTripsCompressedAndUncompressed() throws {
        for compressing in [true, false] {
            let bytes = try Self.sample.encoded(compressingNames: compressing)
            #expect(try DNSPacket(decoding: bytes) == Self.sample)
            #expect(try DNSPacket(decoding: bytes).encoded(compressingNames: compressing) == bytes)
        }
    }

    @Test func encodesThePkarrLayoutByteForByte() throws {
        // One TXT record, as pkarr's tests publish: `_foo.<key> 30 TXT "hello"`.
        let packet = DNSPacket(answers: [
            DNSResourceRecord(name: Self.name("_foo." + Self.key), ttl: 30, data: .text([Array("hello".utf8)]))
        ])
        let expected = DNSBytes.header(an: 1) + DNSBytes.name("_foo." + Self.key)
            + DNSBytes.recordTail(type: 16, ttl: 30, data: [5] + Array("hello".utf8))
        #expect(try packet.encoded() == expected)
    }

    @Test func compressionShrinksRepeatedNames() throws {
        let apex = Self.name(Self.key), sub = Self.name("_keyway." + Self.key)
        let packet = DNSPacket(answers: (0..<4).map {
            DNSResourceRecord(name: $0 < 2 ? apex : sub, ttl: 60, data: .address(.v4(UInt32($0))))
        })
        let compressed = try packet.encoded()
        let plain = try packet.encoded(compressingNames: false)
        // Plain: names of 54, 54, 62, 62 bytes. Compressed: 54, then a pointer; 8 + pointer, then a pointer.
        #expect(plain.count == 12 + 54 + 54 + 62 + 62 + 4 * 14)
        #expect(compressed.count == 12 + 54 + 2 + 10 + 2 + 4 * 14)
        #expect(try DNSPacket(decoding: compressed) == packet)
        #expect(try DNSPacket(decoding: plain) == packet)
        // The second record's name is a pointer to offset 12, where the first name starts.
        #expect(Array(compressed[(12 + 54 + 14)..<(12 + 54 + 16)]) == [0xc0, 12])
    }

    @Test func decodesAHandWrittenUncompressedPacket() throws {
        let bytes = DNSBytes.header(qd: 1, an: 2)
            + DNSBytes.name("example.com") + [0, 1, 0, 1]
            + DNSBytes.name("example.com") + DNSBytes.recordTail(type: 1, ttl: 3600, data: [93, 184, 216, 34])
            + DNSBytes.name("www.example.com") + DNSBytes.recordTail(type: 28, ttl: 7, data: [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1])
        let packet = try DNSPacket(decoding: bytes)
        #expect(packet.id == 0 && packet.flags == DNSSpec.responseFlag)
        #expect(packet.questions == [DNSQuestion(name: Self.name("example.com"), type: 1)])
        #expect(packet.answers == [
            DNSResourceRecord(name: Self.name("example.com"), ttl: 3600, data: .address(.v4(0x5db8_d822))),
            DNSResourceRecord(name: Self.name("www.example.com"), ttl: 7, data: .address(IPAddress("2001:db8::1") ?? .v4(0))),
        ])
        // Re-encoding compresses the repeated suffix.
        #expect(try packet.encoded().count < bytes.count)
    }

    @Test func decodesCompressedNamesInsideRecordData() throws {
        // CNAME data "www" + pointer to "example.com" at offset 12 is stored uncompressed.
        let bytes = DNSBytes.header(an: 1)
            + DNSBytes.name("example.com") + DNSBytes.recordTail(type: 5, ttl: 1, data: [3] + Array("www".utf8) + [0xc0, 12])
        let packet = try DNSPacket(decoding: bytes)
        #expect(packet.answers.first?.data == .other(type: 5, data: DNSBytes.name("www.example.com")))
        #expect(try DNSPacket(decoding: packet.encoded()) == packet)
    }

    @Test func refusesPointerLoopsAndForwardPointers() throws {
        // A name that is only a pointer to itself.
        let selfPointer = DNSBytes.header(an: 1) + [0xc0, 12] + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
        #expect(throws: DNSDecodingError.badPointer(offset: 12, target: 12)) { try DNSPacket(decoding: selfPointer) }
        // A label, then a pointer back to that label: a loop.
        let loop = DNSBytes.header(an: 1) + [1, 0x61, 0xc0, 12] + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
        #expect(throws: DNSDecodingError.badPointer(offset: 14, target: 12)) { try DNSPacket(decoding: loop) }
        // Two names pointing at each other: the first pointer goes forward.
        let mutual = DNSBytes.header(an: 2)
            + [0xc0, 28] + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
            + [0xc0, 12] + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
        #expect(throws: DNSDecodingError.badPointer(offset: 12, target: 28)) { try DNSPacket(decoding: mutual) }
        // A pointer into the header.
        let intoHeader = DNSBytes.header(an: 1) + [0xc0, 4] + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
        #expect(throws: DNSDecodingError.badPointer(offset: 12, target: 4)) { try DNSPacket(decoding: intoHeader) }
        // A chain through an earlier pointer into an earlier run, then back into the later one.
        let chain = DNSBytes.header(an: 2)
            + DNSBytes.name("a") + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
            + [1, 0x62, 0xc0, 12] + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
        #expect(try DNSPacket(decoding: chain).answers.map(\.name.description) == ["a", "b.a"])
    }

    @Test func refusesOversizedPacketsUnlessConfigured() throws {
        let big = DNSPacket(answers: (0..<60).map {
            DNSResourceRecord(name: Self.name(Self.key), ttl: 1, data: .address(.v6(high: 1, low: UInt64($0))))
        })
        let bytes = try big.encoded()
        #expect(bytes.count > DNSLimits.defaultMaximumPacketLength)
        #expect(throws: DNSDecodingError.packetTooLarge(length: bytes.count, limit: 1000)) { try DNSPacket(decoding: bytes) }
        #expect(try DNSPacket(decoding: bytes, limits: DNSLimits(maximumPacketLength: 2000)) == big)
        #expect(throws: DNSDecodingError.packetTooLarge(length: 1001, limit: 1000)) {
            try DNSPacket(decoding: [UInt8](repeating: 0, count: 1001))
        }
    }

    @Test func refusesEveryTruncation() throws {
        let bytes = try Self.sample.encoded()
        for length in 0..<bytes.count {
            #expect(throws: DNSDecodingError.self, "prefix of \(length) bytes") { try DNSPacket(decoding: bytes[0..<length]) }
        }
        #expect(throws: DNSDecodingError.truncated(offset: 10, needed: 2)) { try DNSPacket(decoding: bytes[0..<11]) }
        // Record data shorter than RDLENGTH says.
        let short = DNSBytes.header(an: 1) + DNSBytes.name("a") + [0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2]
        #expect(throws: DNSDecodingError.truncated(offset: 25, needed: 4)) { try DNSPacket(decoding: short) }
    }

    @Test func refusesCountsTheDataCannotHold() {
        #expect(throws: DNSDecodingError.countExceedsData(section: .answer, count: 0xffff, offset: 12)) {
            try DNSPacket(decoding: DNSBytes.header(an: 0xffff))
        }
        #expect(throws: DNSDecodingError.countExceedsData(section: .question, count: 3, offset: 12)) {
            try DNSPacket(decoding: DNSBytes.header(qd: 3) + [0, 0, 1, 0, 1, 0, 0, 1, 0, 1])
        }
    }

    @Test func refusesLongLabelsAndNames() throws {
        for byte: UInt8 in [0x40, 0x64, 0x80, 0xbf] {
            let bytes = DNSBytes.header(an: 1) + [byte] + [UInt8](repeating: 0x61, count: 70)
            #expect(throws: DNSDecodingError.labelTooLong(offset: 12, lengthByte: byte)) { try DNSPacket(decoding: bytes) }
        }
        let label63 = [UInt8](repeating: 0x61, count: 63)
        let tail = DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4])
        // 3 × (1 + 63) + (1 + 61) + 1 = 255: the longest name.
        let longest = DNSBytes.header(an: 1) + ([63] + label63) + ([63] + label63) + ([63] + label63)
            + [61] + label63.prefix(61) + [0] + tail
        #expect(try DNSPacket(decoding: longest).answers.first?.name.wireLength == 255)
        let tooLong = DNSBytes.header(an: 1) + ([63] + label63) + ([63] + label63) + ([63] + label63)
            + [62] + label63.prefix(62) + [0] + tail
        #expect(throws: DNSDecodingError.nameTooLong(offset: 12)) { try DNSPacket(decoding: tooLong) }
    }

    @Test func refusesMalformedRecordDataAndTrailingBytes() {
        let name = DNSBytes.name("a")
        let shortA = DNSBytes.header(an: 1) + name + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3])
        #expect(throws: DNSDecodingError.malformedRecordData(offset: 25, type: 1)) { try DNSPacket(decoding: shortA) }
        let longAAAA = DNSBytes.header(an: 1) + name + DNSBytes.recordTail(type: 28, ttl: 0, data: [UInt8](repeating: 1, count: 17))
        #expect(throws: DNSDecodingError.malformedRecordData(offset: 25, type: 28)) { try DNSPacket(decoding: longAAAA) }
        let overrunTXT = DNSBytes.header(an: 1) + name + DNSBytes.recordTail(type: 16, ttl: 0, data: [5, 0x61, 0x62])
        #expect(throws: DNSDecodingError.malformedRecordData(offset: 25, type: 16)) { try DNSPacket(decoding: overrunTXT) }
        let cnameWithExtra = DNSBytes.header(an: 1) + name + DNSBytes.recordTail(type: 5, ttl: 0, data: name + [9])
        #expect(throws: DNSDecodingError.malformedRecordData(offset: 25, type: 5)) { try DNSPacket(decoding: cnameWithExtra) }
        let trailing = DNSBytes.header(an: 1) + name + DNSBytes.recordTail(type: 1, ttl: 0, data: [1, 2, 3, 4]) + [0]
        #expect(throws: DNSDecodingError.trailingBytes(offset: 29)) { try DNSPacket(decoding: trailing) }
    }

    @Test func refusesFieldsTooWideToEncode() {
        let long = DNSPacket(answers: [DNSResourceRecord(name: .root, ttl: 0, data: .text([[UInt8](repeating: 0, count: 256)]))])
        #expect(throws: DNSEncodingError.characterStringTooLong(length: 256)) { try long.encoded() }
        let huge = DNSPacket(answers: [DNSResourceRecord(name: .root, ttl: 0, data: .other(type: 99, data: [UInt8](repeating: 0, count: 65536)))])
        #expect(throws: DNSEncodingError.recordDataTooLong(length: 65536)) { try huge.encoded() }
    }

    @Test func namesParseAndPrintThePresentationForm() throws {
        #expect(try DNSName("") == .root)
        #expect(try DNSName(".") == .root)
        #expect(DNSName.root.description == ".")
        #expect(try DNSName("a.b.") == DNSName("a.b"))
        #expect(try DNSName("a.b").labels == [[0x61], [0x62]])
        let odd = try DNSName(labels: [Array("a.b".utf8), [0x5c, 0x20, 0x00, 0xff]])
        #expect(odd.description == "a\\.b.\\\\\\032\\000\\255")
        #expect(try DNSName(odd.description) == odd)
        #expect(try DNSName("Foo.EXAMPLE").isEquivalent(to: DNSName("foo.example")))
        #expect(try !DNSName("Foo.EXAMPLE").isEquivalent(to: DNSName("foo.example.org")))
        #expect(try DNSName("Foo") != DNSName("foo"))
        #expect(throws: DNSNameError.emptyLabel) { try DNSName("a..b") }
        #expect(throws: DNSNameError.emptyLabel) { try DNSName(".a") }
        #expect(throws: DNSNameError.invalidEscape) { try DNSName("a\\") }
        #expect(throws: DNSNameError.invalidEscape) { try DNSName("a\\25") }
        #expect(throws: DNSNameError.invalidEscape) { try DNSName("a\\256") }
        #expect(throws: DNSNameError.labelTooLong(64)) { try DNSName(String(repeating: "a", count: 64)) }
        #expect(throws: DNSNameError.nameTooLong(257)) {
            try DNSName(Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: "."))
        }
        #expect(try DNSName("_keyway").appending(DNSName(Self.key)).description == "_keyway." + Self.key)
    }
}
