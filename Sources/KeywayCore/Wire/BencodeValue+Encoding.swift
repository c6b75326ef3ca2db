extension BencodeValue {
    /// The canonical encoding: dictionary keys in ascending byte order, integers and lengths
    /// without leading zeros. Written into one buffer of exactly ``encodedLength`` bytes.
    public func encoded() -> [UInt8] {
        BencodeWriter.makeBytes(capacity: encodedLength) { $0.value(self) }
    }

    /// The number of bytes ``encoded()`` produces, computed without encoding.
    public var encodedLength: Int {
        switch self {
        case let .integer(value):
            return 2 + (value < 0 ? 1 : 0) + BencodeWriter.decimalDigitCount(value.magnitude)
        case let .bytes(contents):
            return BencodeValue.stringLength(contents)
        case let .list(elements):
            return elements.reduce(2) { $0 + $1.encodedLength }
        case let .dictionary(entries):
            return entries.reduce(2) { $0 + BencodeValue.stringLength($1.key) + $1.value.encodedLength }
        }
    }

    private static func stringLength(_ contents: [UInt8]) -> Int {
        BencodeWriter.decimalDigitCount(UInt64(contents.count)) + 1 + contents.count
    }
}

extension BencodeWriter {
    /// Writes `value` canonically: a dictionary's entries go out sorted by key whatever their
    /// order in the value. Recurses once per nesting level of `value`.
    mutating func value(_ value: BencodeValue) {
        switch value {
        case let .integer(number):
            integer(number)
        case let .bytes(contents):
            string(contents)
        case let .list(elements):
            beginList()
            for element in elements { self.value(element) }
            end()
        case let .dictionary(entries):
            beginDictionary()
            if BencodeWriter.isSorted(entries) {
                for entry in entries { string(entry.key); self.value(entry.value) }
            } else {
                for entry in entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
                    string(entry.key)
                    self.value(entry.value)
                }
            }
            end()
        }
    }

    private static func isSorted(_ entries: [BencodeValue.Entry]) -> Bool {
        var index = 1
        while index < entries.count {
            if !entries[index - 1].key.lexicographicallyPrecedes(entries[index].key) { return false }
            index += 1
        }
        return true
    }
}
