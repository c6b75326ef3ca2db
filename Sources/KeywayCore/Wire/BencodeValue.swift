/// One bencoded value (BEP 3): an integer, a byte string, a list or a dictionary.
///
/// Decoding lives in `BencodeValue+Decoding.swift`, encoding in `BencodeValue+Encoding.swift`.
/// KRPC messages do not go through this tree; their codec reads and writes bytes directly.
///
/// A decoded dictionary's entries are in ascending byte order of their keys, whatever order
/// the input had, so two decodings of the same dictionary compare equal and
/// `decode(v.encoded()) == v` for every decoded `v`. A dictionary built by hand may list its
/// entries in any order (the encoder sorts them), but must not repeat a key: the encoder
/// writes what it is given, and a repeated key makes output no strict decoder accepts.
public enum BencodeValue: Hashable, Sendable {
    /// `i<decimal>e`.
    case integer(Int64)
    /// `<length>:<bytes>`.
    case bytes([UInt8])
    /// `l<values>e`.
    case list([BencodeValue])
    /// `d<key><value>…e`.
    case dictionary([Entry])

    /// One key and its value in a dictionary.
    public struct Entry: Hashable, Sendable {
        /// The key (bencode keys are byte strings).
        public var key: [UInt8]
        /// The value.
        public var value: BencodeValue

        /// An entry from its parts.
        public init(key: [UInt8], value: BencodeValue) {
            self.key = key
            self.value = value
        }

        /// An entry whose key is the UTF-8 of `key`.
        public init(_ key: String, _ value: BencodeValue) {
            self.init(key: Array(key.utf8), value: value)
        }
    }

    /// The integer, if this is one.
    public var integer: Int64? {
        if case let .integer(value) = self { return value } else { return nil }
    }

    /// The byte string, if this is one.
    public var bytes: [UInt8]? {
        if case let .bytes(value) = self { return value } else { return nil }
    }

    /// The elements, if this is a list.
    public var list: [BencodeValue]? {
        if case let .list(value) = self { return value } else { return nil }
    }

    /// The entries, if this is a dictionary.
    public var entries: [Entry]? {
        if case let .dictionary(value) = self { return value } else { return nil }
    }

    /// The value under `key` (its UTF-8 bytes) if this is a dictionary that has it.
    public subscript(key: String) -> BencodeValue? {
        guard case let .dictionary(entries) = self else { return nil }
        let wanted = Array(key.utf8)
        return entries.first { $0.key == wanted }?.value
    }
}

extension BencodeValue: ExpressibleByIntegerLiteral {
    /// An integer value from a literal.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension BencodeValue: ExpressibleByStringLiteral {
    /// A byte string holding the literal's UTF-8.
    public init(stringLiteral value: String) { self = .bytes(Array(value.utf8)) }
}

extension BencodeValue: ExpressibleByArrayLiteral {
    /// A list from a literal.
    public init(arrayLiteral elements: BencodeValue...) { self = .list(elements) }
}

extension BencodeValue: ExpressibleByDictionaryLiteral {
    /// A dictionary from a literal whose keys are text (stored as their UTF-8).
    public init(dictionaryLiteral elements: (String, BencodeValue)...) {
        self = .dictionary(elements.map { Entry($0.0, $0.1) })
    }
}
