/// Why bytes are not a DNS packet the decoder accepts. Every case says where: `offset` is the
/// zero-based byte offset in the packet of the field that was wrong.
public enum DNSDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The packet has `length` bytes, more than the configured `limit`
    /// (``DNSLimits/maximumPacketLength``); nothing else was read.
    case packetTooLarge(length: Int, limit: Int)
    /// A field of `needed` bytes starts at `offset`, but the packet (or the record data that
    /// holds it) ends first.
    case truncated(offset: Int, needed: Int)
    /// `section` claims `count` entries, more than the bytes left from `offset` could hold even
    /// at the smallest possible size per entry.
    case countExceedsData(section: DNSSection, count: Int, offset: Int)
    /// The length byte at `offset` (`lengthByte`) is over 63 and not a pointer: a label too
    /// long, or one of the reserved label types `0x40`/`0x80` (RFC 1035 4.1.4, RFC 6891).
    case labelTooLong(offset: Int, lengthByte: UInt8)
    /// The name starting at `offset` is longer than 255 bytes once decompressed.
    case nameTooLong(offset: Int)
    /// The compression pointer at `offset` points to `target`, which is not strictly before
    /// the labels being read (a forward or self pointer, or a loop) or lies in the header.
    case badPointer(offset: Int, target: Int)
    /// The data of the record of `type` starting at `offset` does not have that type's form
    /// (an A record not 4 bytes, a TXT string running past the data, a name past its end).
    case malformedRecordData(offset: Int, type: UInt16)
    /// The sections end at `offset`, before the packet does.
    case trailingBytes(offset: Int)

    /// One line naming what was wrong and where.
    public var description: String {
        switch self {
        case let .packetTooLarge(length, limit):
            return "DNS packet of \(length) bytes exceeds the limit of \(limit)"
        case let .truncated(offset, needed):
            return "DNS packet truncated: \(needed) bytes needed at offset \(offset)"
        case let .countExceedsData(section, count, offset):
            return "DNS \(section.rawValue) count \(count) exceeds the data left at offset \(offset)"
        case let .labelTooLong(offset, byte):
            return "DNS label length byte 0x\([byte].hexString) at offset \(offset) (labels are at most \(DNSSpec.maximumLabelLength) bytes)"
        case let .nameTooLong(offset):
            return "DNS name at offset \(offset) exceeds \(DNSSpec.maximumNameLength) bytes"
        case let .badPointer(offset, target):
            return "DNS compression pointer at offset \(offset) to \(target) does not point strictly backwards"
        case let .malformedRecordData(offset, type):
            return "malformed data in DNS record of type \(type) at offset \(offset)"
        case let .trailingBytes(offset):
            return "unexpected bytes after the last DNS record, at offset \(offset)"
        }
    }
}
