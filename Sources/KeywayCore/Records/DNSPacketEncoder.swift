extension DNSPacket {
    /// The packet in the DNS wire format.
    ///
    /// With `compressingNames` (the default, and what pkarr requires of publishers), every owner
    /// and question name is written with RFC 1035 4.1.4 compression: its longest suffix already
    /// written (same bytes, same case) becomes a pointer to it. Names inside record data are
    /// never compressed, which RFC 3597 section 4 requires for all but the oldest types and
    /// which is always allowed. Throws only when a count or length overflows its wire field.
    public func encoded(compressingNames: Bool = true) throws(DNSEncodingError) -> [UInt8] {
        var writer = DNSWriter(compressing: compressingNames)
        let sections: [(DNSSection, Int)] = [
            (.question, questions.count), (.answer, answers.count),
            (.authority, authorities.count), (.additional, additionals.count),
        ]
        writer.appendUInt16(id)
        writer.appendUInt16(flags)
        for (section, count) in sections {
            guard count <= DNSSpec.maximumSectionCount else { throw .tooManyEntries(section: section, count: count) }
            writer.appendUInt16(UInt16(count))
        }
        for question in questions {
            writer.appendName(question.name)
            writer.appendUInt16(question.type)
            writer.appendUInt16(question.recordClass)
        }
        for record in answers + authorities + additionals {
            try writer.appendRecord(record)
        }
        return writer.bytes
    }
}

/// Appends wire-format fields to a growing packet, remembering where each name suffix was
/// written so later names can point to it.
struct DNSWriter {
    /// The packet so far.
    private(set) var bytes: [UInt8] = []
    /// Whether names are compressed.
    let compressing: Bool
    /// Offsets of name suffixes already written, by their labels (exact bytes).
    private var suffixOffsets: [[[UInt8]]: Int] = [:]

    init(compressing: Bool) {
        self.compressing = compressing
        bytes.reserveCapacity(DNSLimits.defaultMaximumPacketLength)
    }

    mutating func appendUInt16(_ v: UInt16) {
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    mutating func appendUInt32(_ v: UInt32) {
        appendUInt16(UInt16(v >> 16))
        appendUInt16(UInt16(truncatingIfNeeded: v))
    }

    /// Writes `name`, compressed when a suffix of it was written before.
    mutating func appendName(_ name: DNSName) {
        let labels = name.labels
        for start in labels.indices {
            let suffix = Array(labels[start...])
            if compressing, let offset = suffixOffsets[suffix] {
                appendUInt16(UInt16(DNSSpec.pointerTag) << 8 | UInt16(offset))
                return
            }
            if compressing, bytes.count <= DNSSpec.maximumPointerOffset {
                suffixOffsets[suffix] = bytes.count
            }
            bytes.append(UInt8(labels[start].count))
            bytes += labels[start]
        }
        bytes.append(0)
    }

    /// Writes a whole resource record.
    mutating func appendRecord(_ record: DNSResourceRecord) throws(DNSEncodingError) {
        appendName(record.name)
        appendUInt16(record.type)
        appendUInt16(record.recordClass)
        appendUInt32(record.ttl)
        let data: [UInt8]
        switch record.data {
        case let .address(address):
            data = address.bytes
        case let .text(strings):
            var out = [UInt8]()
            for string in strings {
                guard string.count <= DNSSpec.maximumCharacterStringLength else {
                    throw .characterStringTooLong(length: string.count)
                }
                out.append(UInt8(string.count))
                out += string
            }
            data = out
        case let .other(_, raw):
            data = raw
        }
        guard data.count <= DNSSpec.maximumRecordDataLength else { throw .recordDataTooLong(length: data.count) }
        appendUInt16(UInt16(data.count))
        bytes += data
    }
}
