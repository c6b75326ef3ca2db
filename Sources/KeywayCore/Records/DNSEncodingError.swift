/// Why a ``DNSPacket`` cannot be written in the wire format, whose fields are of fixed width.
public enum DNSEncodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `section` has `count` entries; its count field holds at most
    /// ``DNSSpec/maximumSectionCount``.
    case tooManyEntries(section: DNSSection, count: Int)
    /// A TXT character-string of `length` bytes; at most
    /// ``DNSSpec/maximumCharacterStringLength`` fit behind its length byte.
    case characterStringTooLong(length: Int)
    /// Record data of `length` bytes; RDLENGTH holds at most ``DNSSpec/maximumRecordDataLength``.
    case recordDataTooLong(length: Int)

    /// One line naming what was wrong.
    public var description: String {
        switch self {
        case let .tooManyEntries(section, count):
            return "DNS \(section.rawValue) section of \(count) entries (at most \(DNSSpec.maximumSectionCount))"
        case let .characterStringTooLong(length):
            return "DNS character-string of \(length) bytes (at most \(DNSSpec.maximumCharacterStringLength))"
        case let .recordDataTooLong(length):
            return "DNS record data of \(length) bytes (at most \(DNSSpec.maximumRecordDataLength))"
        }
    }
}
