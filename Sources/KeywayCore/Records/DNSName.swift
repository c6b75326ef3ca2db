/// A domain name: a sequence of labels, the root (empty) label implied at the end.
///
/// Every value is valid: labels are 1 to ``DNSSpec/maximumLabelLength`` bytes and the
/// uncompressed wire form is at most ``DNSSpec/maximumNameLength`` bytes. Labels are arbitrary
/// bytes, kept exactly as written; `==` compares them exactly (so a decoded packet re-encodes to
/// the same bytes), while ``isEquivalent(to:)`` compares them as DNS does, ignoring ASCII case
/// (RFC 4343).
///
/// The text form is the zone-file presentation (RFC 1035 5.1) without the final dot: labels
/// joined by `.`, with `\.` and `\\` for a literal dot or backslash in a label and `\DDD`
/// (three decimal digits) for a byte that is not printable ASCII. The root is written `.`.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// The labels, most specific first (`_keyway`, then the key, for `_keyway.<key>`).
    public let labels: [[UInt8]]

    /// The root name, with no labels.
    public static let root = DNSName(validatedLabels: [])

    /// A name from its labels; throws when a label is empty or too long, or the name too long.
    public init(labels: [[UInt8]]) throws(DNSNameError) {
        var length = 1
        for label in labels {
            if label.isEmpty { throw .emptyLabel }
            if label.count > DNSSpec.maximumLabelLength { throw .labelTooLong(label.count) }
            length += 1 + label.count
        }
        if length > DNSSpec.maximumNameLength { throw .nameTooLong(length) }
        self.labels = labels
    }

    /// A name from labels the caller has already checked.
    init(validatedLabels: [[UInt8]]) {
        self.labels = validatedLabels
    }

    /// Parses the presentation form; a final dot is allowed, and `""` or `"."` is the root.
    public init(_ text: some StringProtocol) throws(DNSNameError) {
        let bytes = Array(text.utf8)
        if bytes.isEmpty || bytes == [UInt8(ascii: ".")] {
            self = .root
            return
        }
        var labels = [[UInt8]]()
        var current = [UInt8]()
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count else { throw .invalidEscape }
                if let d0 = ASCII.decimalDigit(bytes[i + 1]) {
                    guard i + 3 < bytes.count,
                          let d1 = ASCII.decimalDigit(bytes[i + 2]),
                          let d2 = ASCII.decimalDigit(bytes[i + 3]),
                          d0 * 100 + d1 * 10 + d2 <= Int(UInt8.max)
                    else { throw .invalidEscape }
                    current.append(UInt8(d0 * 100 + d1 * 10 + d2))
                    i += 4
                } else {
                    current.append(bytes[i + 1])
                    i += 2
                }
            } else if c == UInt8(ascii: ".") {
                labels.append(current)
                current = []
                i += 1
                // A final dot ends the name; it does not start an empty label.
                if i == bytes.count { try self.init(labels: labels); return }
            } else {
                current.append(c)
                i += 1
            }
        }
        labels.append(current)
        try self.init(labels: labels)
    }

    /// Length of the uncompressed wire form: a length byte and the bytes of each label, then
    /// the root's zero byte.
    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// The uncompressed wire form.
    public var wireBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(wireLength)
        for label in labels {
            out.append(UInt8(label.count))
            out += label
        }
        out.append(0)
        return out
    }

    /// Whether the two names are the same name to DNS: equal labels, ignoring ASCII case.
    public func isEquivalent(to other: DNSName) -> Bool {
        guard labels.count == other.labels.count else { return false }
        for (a, b) in zip(labels, other.labels) {
            guard a.count == b.count else { return false }
            for i in a.indices where ASCII.lowercased(a[i]) != ASCII.lowercased(b[i]) { return false }
        }
        return true
    }

    /// This name with `suffix`'s labels after its own (`_keyway` + `<key>` is `_keyway.<key>`).
    public func appending(_ suffix: DNSName) throws(DNSNameError) -> DNSName {
        try DNSName(labels: labels + suffix.labels)
    }

    /// The presentation form: labels joined by dots, with escapes; `.` for the root.
    public var description: String {
        if labels.isEmpty { return "." }
        var out = [UInt8]()
        for (n, label) in labels.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ".")) }
            for b in label {
                switch b {
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    out += [UInt8(ascii: "\\"), b]
                case 0x21..<0x7f:
                    out.append(b)
                default:
                    out.append(UInt8(ascii: "\\"))
                    out += [b / 100, b / 10 % 10, b % 10].map { $0 + UInt8(ascii: "0") }
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Why labels or text do not make a ``DNSName``.
public enum DNSNameError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A label between two dots (or at the start) was empty.
    case emptyLabel
    /// A label had this many bytes, more than ``DNSSpec/maximumLabelLength``.
    case labelTooLong(Int)
    /// The wire form would have this many bytes, more than ``DNSSpec/maximumNameLength``.
    case nameTooLong(Int)
    /// A backslash ended the text or began a `\DDD` escape that is not three digits up to 255.
    case invalidEscape

    /// One line naming what was wrong.
    public var description: String {
        switch self {
        case .emptyLabel: return "empty label in domain name"
        case let .labelTooLong(n): return "domain name label of \(n) bytes (at most \(DNSSpec.maximumLabelLength))"
        case let .nameTooLong(n): return "domain name of \(n) bytes (at most \(DNSSpec.maximumNameLength))"
        case .invalidEscape: return "invalid escape in domain name (use \\. \\\\ or \\DDD up to 255)"
        }
    }
}
