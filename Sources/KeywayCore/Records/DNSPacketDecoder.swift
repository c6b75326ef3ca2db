extension DNSPacket {
    /// Decodes a DNS message, compressed or not; throws ``DNSDecodingError`` with the offset of
    /// the first thing wrong. It never traps, whatever the input.
    ///
    /// Refused: a packet longer than `limits.maximumPacketLength`; a header, name, record or
    /// record data cut short; section counts the remaining bytes cannot hold; label length
    /// bytes over 63 that are not pointers; names over 255 bytes; compression pointers that do
    /// not point strictly before the labels being read (this refuses forward and self pointers
    /// and makes loops impossible) or that point into the header; A and AAAA data of the wrong
    /// size, TXT strings that overrun their data; and bytes after the last record.
    public init(decoding bytes: some Collection<UInt8>, limits: DNSLimits = DNSLimits()) throws(DNSDecodingError) {
        guard bytes.count <= limits.maximumPacketLength else {
            throw .packetTooLarge(length: bytes.count, limit: limits.maximumPacketLength)
        }
        var reader = DNSReader(bytes: Array(bytes))
        let id = try reader.readUInt16()
        let flags = try reader.readUInt16()
        var counts = [Int]()
        for _ in DNSSection.allCases { counts.append(Int(try reader.readUInt16())) }

        try reader.checkCount(counts[0], section: .question, minimumSize: DNSSpec.minimumQuestionLength)
        var questions = [DNSQuestion]()
        questions.reserveCapacity(counts[0])
        for _ in 0..<counts[0] {
            let name = try reader.readName()
            let type = try reader.readUInt16()
            let recordClass = try reader.readUInt16()
            questions.append(DNSQuestion(name: name, type: type, recordClass: recordClass))
        }
        var sections = [[DNSResourceRecord]]()
        for (section, count) in zip(DNSSection.allCases.dropFirst(), counts.dropFirst()) {
            try reader.checkCount(count, section: section, minimumSize: DNSSpec.minimumRecordLength)
            var records = [DNSResourceRecord]()
            records.reserveCapacity(count)
            for _ in 0..<count { records.append(try reader.readRecord()) }
            sections.append(records)
        }
        guard reader.offset == reader.bytes.count else { throw .trailingBytes(offset: reader.offset) }
        self.init(
            id: id, flags: flags, questions: questions,
            answers: sections[0], authorities: sections[1], additionals: sections[2])
    }
}

/// Reads wire-format fields from a packet, checking every length against the bytes present.
struct DNSReader {
    /// The whole packet (pointers are offsets into it).
    let bytes: [UInt8]
    /// Where the next field starts.
    private(set) var offset = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Throws unless `count` bytes remain from `offset` up to `end`.
    private func require(_ count: Int, at offset: Int, end: Int) throws(DNSDecodingError) {
        guard count <= end - offset else { throw .truncated(offset: offset, needed: count) }
    }

    private func uint16(at o: Int) -> UInt16 { UInt16(bytes[o]) << 8 | UInt16(bytes[o + 1]) }

    private func uint64(at o: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in o..<(o + 8) { v = v << 8 | UInt64(bytes[i]) }
        return v
    }

    mutating func readUInt16() throws(DNSDecodingError) -> UInt16 {
        try require(2, at: offset, end: bytes.count)
        defer { offset += 2 }
        return uint16(at: offset)
    }

    mutating func readUInt32() throws(DNSDecodingError) -> UInt32 {
        let high = try readUInt16()
        return UInt32(high) << 16 | UInt32(try readUInt16())
    }

    /// Throws unless `count` entries of at least `minimumSize` bytes could fit in what is left.
    func checkCount(_ count: Int, section: DNSSection, minimumSize: Int) throws(DNSDecodingError) {
        guard count <= (bytes.count - offset) / minimumSize else {
            throw .countExceedsData(section: section, count: count, offset: offset)
        }
    }

    /// Reads the name at the current offset and moves past it.
    mutating func readName() throws(DNSDecodingError) -> DNSName {
        let (name, next) = try name(at: offset, end: bytes.count)
        offset = next
        return name
    }

    /// The name starting at `start`, and the offset just after it in the byte stream (after its
    /// first pointer, if it has one). Labels read before any pointer must lie before `end`.
    ///
    /// Loop safety: a pointer must target an offset strictly before the start of the run of
    /// labels it ends, so every jump goes strictly backwards and the walk ends.
    func name(at start: Int, end: Int) throws(DNSDecodingError) -> (DNSName, Int) {
        var labels = [[UInt8]]()
        var wireLength = 1
        var position = start
        var runStart = start
        var limit = end
        var next: Int? = nil
        while true {
            try require(1, at: position, end: limit)
            let lengthByte = bytes[position]
            if lengthByte == 0 {
                return (DNSName(validatedLabels: labels), next ?? position + 1)
            }
            if lengthByte & DNSSpec.pointerTag == DNSSpec.pointerTag {
                try require(2, at: position, end: limit)
                let target = Int(uint16(at: position) & UInt16(DNSSpec.maximumPointerOffset))
                guard target >= DNSSpec.headerLength, target < runStart else {
                    throw .badPointer(offset: position, target: target)
                }
                if next == nil { next = position + 2 }
                position = target
                runStart = target
                // Earlier bytes of the packet are all present; `end` bounded only the first run.
                limit = bytes.count
                continue
            }
            guard Int(lengthByte) <= DNSSpec.maximumLabelLength else {
                throw .labelTooLong(offset: position, lengthByte: lengthByte)
            }
            let length = Int(lengthByte)
            wireLength += 1 + length
            guard wireLength <= DNSSpec.maximumNameLength else { throw .nameTooLong(offset: start) }
            try require(1 + length, at: position, end: limit)
            labels.append(Array(bytes[(position + 1)..<(position + 1 + length)]))
            position += 1 + length
        }
    }

    /// Reads a whole resource record and moves past it.
    mutating func readRecord() throws(DNSDecodingError) -> DNSResourceRecord {
        let name = try readName()
        let type = try readUInt16()
        let recordClass = try readUInt16()
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        let dataStart = offset
        try require(length, at: dataStart, end: bytes.count)
        let dataEnd = dataStart + length
        offset = dataEnd
        let data = try recordData(type: type, from: dataStart, to: dataEnd)
        return DNSResourceRecord(name: name, recordClass: recordClass, ttl: ttl, data: data)
    }

    /// Interprets the data of a record of `type` in `start..<end`.
    private func recordData(type: UInt16, from start: Int, to end: Int) throws(DNSDecodingError) -> DNSRecordData {
        let malformed = DNSDecodingError.malformedRecordData(offset: start, type: type)
        let raw = bytes[start..<end]
        switch type {
        case DNSSpec.RecordType.a:
            guard raw.count == 4 else { throw malformed }
            return .address(.v4(UInt32(uint16(at: start)) << 16 | UInt32(uint16(at: start + 2))))
        case DNSSpec.RecordType.aaaa:
            guard raw.count == 16 else { throw malformed }
            return .address(.v6(high: uint64(at: start), low: uint64(at: start + 8)))
        case DNSSpec.RecordType.txt:
            var strings = [[UInt8]]()
            var p = start
            while p < end {
                let length = Int(bytes[p])
                guard length < end - p else { throw malformed }
                strings.append(Array(bytes[(p + 1)..<(p + 1 + length)]))
                p += 1 + length
            }
            return .text(strings)
        case DNSSpec.RecordType.ns, DNSSpec.RecordType.cname, DNSSpec.RecordType.ptr:
            return .other(type: type, data: try expandNames(from: start, to: end, prefix: 0, nameCount: 1, suffix: 0, malformed))
        case DNSSpec.RecordType.mx:
            return .other(type: type, data: try expandNames(
                from: start, to: end, prefix: DNSSpec.mxPreferenceLength, nameCount: 1, suffix: 0, malformed))
        case DNSSpec.RecordType.soa:
            return .other(type: type, data: try expandNames(
                from: start, to: end, prefix: 0, nameCount: 2, suffix: DNSSpec.soaFixedTrailerLength, malformed))
        default:
            return .other(type: type, data: Array(raw))
        }
    }

    /// The data in `start..<end` laid out as `prefix` fixed bytes, `nameCount` names that may
    /// be compressed, then `suffix` fixed bytes, rewritten with the names uncompressed.
    private func expandNames(
        from start: Int, to end: Int, prefix: Int, nameCount: Int, suffix: Int,
        _ malformed: DNSDecodingError
    ) throws(DNSDecodingError) -> [UInt8] {
        guard prefix <= end - start else { throw malformed }
        var out = Array(bytes[start..<(start + prefix)])
        var p = start + prefix
        for _ in 0..<nameCount {
            let (name, next) = try self.name(at: p, end: end)
            out += name.wireBytes
            p = next
        }
        guard end - p == suffix else { throw malformed }
        out += bytes[p..<end]
        return out
    }
}
