/// Text forms of ``IPAddress``: strict parsing and canonical printing.
///
/// Parsing accepts
/// - IPv4 in dotted-decimal form: exactly four parts, each `0`–`255`, with no leading zeros
///   (`010` is refused: some parsers read it as octal, so it could mean two different things);
/// - IPv6 in the forms of RFC 4291 section 2.2: eight groups of one to four hex digits, at most
///   one `::` standing for one or more zero groups, and an optional dotted IPv4 tail standing for
///   the last two groups (`::ffff:192.0.2.1`). Zone IDs (`fe80::1%eth0`) are refused: they name
///   an interface of one host and mean nothing in a published record.
///
/// Printing follows RFC 5952: lowercase, no leading zeros in a group, the longest run of two or
/// more zero groups (the first of equal runs) written `::`, and IPv4-mapped addresses written
/// `::ffff:a.b.c.d`.
extension IPAddress: LosslessStringConvertible {
    /// Parses dotted IPv4 or RFC 4291 IPv6 text; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        if bytes.contains(UInt8(ascii: ":")) {
            guard let (high, low) = IPTextParser.parseIPv6(bytes[...]) else { return nil }
            self = .v6(high: high, low: low)
        } else {
            guard let v = IPTextParser.parseIPv4(bytes[...]) else { return nil }
            self = .v4(v)
        }
    }

    /// The canonical text: dotted decimal for IPv4, RFC 5952 for IPv6.
    public var description: String {
        switch self {
        case let .v4(v):
            return IPTextFormatter.ipv4(v)
        case let .v6(high, low):
            return IPTextFormatter.ipv6(high: high, low: low)
        }
    }
}

/// Sizes fixed by the address formats (RFC 791, RFC 4291).
enum IPTextSpec {
    /// Number of dotted parts in an IPv4 address.
    static let ipv4PartCount = 4
    /// Largest value of one IPv4 part.
    static let ipv4PartMaximum = 255
    /// Number of 16-bit groups in an IPv6 address.
    static let ipv6GroupCount = 8
    /// Most hex digits in one IPv6 group.
    static let ipv6GroupMaximumDigits = 4
    /// The `0000:0000:0000:0000:0000:ffff` prefix of an IPv4-mapped IPv6 address (RFC 4291 2.5.5.2),
    /// as the upper 96 bits: `high` is zero and `low >> 32` is this value.
    static let ipv4MappedMarker: UInt64 = 0xffff
}

/// The parsing half of the text forms, on UTF-8 bytes.
enum IPTextParser {
    /// Strict dotted-decimal IPv4.
    static func parseIPv4(_ text: ArraySlice<UInt8>) -> UInt32? {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == IPTextSpec.ipv4PartCount else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let n = ASCII.canonicalDecimal(part, maximumDigits: 3, maximum: IPTextSpec.ipv4PartMaximum) else {
                return nil
            }
            value = value << 8 | UInt32(n)
        }
        return value
    }

    /// RFC 4291 IPv6 text, as the two 64-bit halves.
    static func parseIPv6(_ text: ArraySlice<UInt8>) -> (UInt64, UInt64)? {
        let colon = UInt8(ascii: ":")
        // Split around the one `::`, if any.
        var head = text, tail: ArraySlice<UInt8>? = nil
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == colon, i + 1 < text.endIndex, text[i + 1] == colon {
                guard tail == nil else { return nil } // a second `::`
                head = text[text.startIndex..<i]
                tail = text[(i + 2)...]
                i += 2
            } else {
                i += 1
            }
        }
        guard let headGroups = parseGroups(head, mayEndInIPv4: tail == nil) else { return nil }
        var groups: [UInt16]
        if let tail {
            guard let tailGroups = parseGroups(tail, mayEndInIPv4: true),
                  headGroups.count + tailGroups.count < IPTextSpec.ipv6GroupCount else { return nil }
            groups = headGroups
            groups += [UInt16](repeating: 0, count: IPTextSpec.ipv6GroupCount - headGroups.count - tailGroups.count)
            groups += tailGroups
        } else {
            guard headGroups.count == IPTextSpec.ipv6GroupCount else { return nil }
            groups = headGroups
        }
        var high: UInt64 = 0, low: UInt64 = 0
        for (n, g) in groups.enumerated() {
            if n < 4 { high = high << 16 | UInt64(g) } else { low = low << 16 | UInt64(g) }
        }
        return (high, low)
    }

    /// Colon-separated groups (empty input is no groups); a last part with dots is an IPv4 tail
    /// counting as two groups, allowed only where `mayEndInIPv4`.
    private static func parseGroups(_ text: ArraySlice<UInt8>, mayEndInIPv4: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count <= IPTextSpec.ipv6GroupCount else { return nil }
        var groups = [UInt16]()
        for (n, part) in parts.enumerated() {
            if n == parts.count - 1, mayEndInIPv4, part.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(part) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xffff))
                continue
            }
            guard !part.isEmpty, part.count <= IPTextSpec.ipv6GroupMaximumDigits else { return nil }
            var value = 0
            for c in part {
                guard let d = ASCII.hexDigit(c) else { return nil }
                value = value << 4 | d
            }
            groups.append(UInt16(value))
        }
        return groups
    }
}

/// The printing half of the text forms.
enum IPTextFormatter {
    /// `a.b.c.d`.
    static func ipv4(_ v: UInt32) -> String {
        var out = ""
        for shift in stride(from: 24, through: 0, by: -8) {
            if shift != 24 { out += "." }
            out += String((v >> UInt32(shift)) & 0xff)
        }
        return out
    }

    /// RFC 5952 text of the address with halves `high` and `low`.
    static func ipv6(high: UInt64, low: UInt64) -> String {
        if high == 0, low >> 32 == IPTextSpec.ipv4MappedMarker {
            return "::ffff:" + ipv4(UInt32(truncatingIfNeeded: low))
        }
        var groups = [UInt16]()
        for shift in stride(from: 48, through: 0, by: -16) { groups.append(UInt16(truncatingIfNeeded: high >> UInt64(shift))) }
        for shift in stride(from: 48, through: 0, by: -16) { groups.append(UInt16(truncatingIfNeeded: low >> UInt64(shift))) }
        // The longest run of at least two zero groups; the first one wins a tie.
        var bestStart = -1, bestLength = 1
        var runStart = 0, runLength = 0
        for (n, g) in groups.enumerated() {
            if g == 0 {
                if runLength == 0 { runStart = n }
                runLength += 1
                if runLength > bestLength { bestStart = runStart; bestLength = runLength }
            } else {
                runLength = 0
            }
        }
        func hex(_ g: UInt16) -> String { String(g, radix: 16) }
        if bestStart < 0 {
            return groups.map(hex).joined(separator: ":")
        }
        let before = groups[..<bestStart].map(hex).joined(separator: ":")
        let after = groups[(bestStart + bestLength)...].map(hex).joined(separator: ":")
        return before + "::" + after
    }
}
