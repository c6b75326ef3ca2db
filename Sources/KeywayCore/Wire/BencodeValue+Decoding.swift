extension BencodeValue {
    /// Decodes exactly one bencoded value that fills all of `input`.
    ///
    /// Strict: refuses non-canonical integers and string lengths, integers outside `Int64`,
    /// strings that run past the input, non-string or repeated dictionary keys, bytes after the
    /// value, and anything beyond `limits`. Dictionaries whose keys arrive unsorted are accepted
    /// (their entries come back sorted). Never traps, whatever the input.
    @inlinable
    public static func decode(_ input: some Collection<UInt8>, limits: BencodeLimits = .default) throws(BencodeError) -> BencodeValue {
        try withContiguousBytes(input) { buffer throws(BencodeError) in try decode(contiguous: buffer, limits: limits) }
    }

    /// ``decode(_:limits:)`` on bytes already in one buffer; not generic, so compiled once.
    @usableFromInline
    static func decode(contiguous buffer: UnsafeBufferPointer<UInt8>, limits: BencodeLimits) throws(BencodeError) -> BencodeValue {
        var reader = try BencodeReader(buffer, limits: limits)
        let value = try reader.readValue()
        try reader.finish()
        return value
    }

    /// The byte range of the one complete value that starts `offset` bytes into `input`,
    /// validated as strictly as ``decode(_:limits:)`` does; bytes after it are not looked at.
    ///
    /// This is how a value is kept exactly as it was bencoded (BEP 44 signs `v` in its wire
    /// form, so `v` must never be re-encoded): `input[range]` are those bytes.
    @inlinable
    public static func rangeOfValue(in input: some Collection<UInt8>, at offset: Int = 0, limits: BencodeLimits = .default) throws(BencodeError) -> Range<Int> {
        try withContiguousBytes(input) { buffer throws(BencodeError) in try rangeOfValue(contiguous: buffer, at: offset, limits: limits) }
    }

    /// ``rangeOfValue(in:at:limits:)`` on bytes already in one buffer.
    @usableFromInline
    static func rangeOfValue(contiguous buffer: UnsafeBufferPointer<UInt8>, at offset: Int, limits: BencodeLimits) throws(BencodeError) -> Range<Int> {
        var reader = try BencodeReader(buffer, limits: limits, position: offset)
        return try reader.skipValue()
    }
}

extension BencodeReader {
    /// Reads the value at `position` into a tree. Recurses once per nesting level, which
    /// ``enterContainer()`` has bounded by the depth limit before each descent.
    mutating func readValue() throws(BencodeError) -> BencodeValue {
        switch try peekKind() {
        case .integer:
            return .integer(try readInteger())
        case .bytes:
            return .bytes(bytes.array(try readBytes()))
        case .list:
            try enterContainer()
            var elements = [BencodeValue]()
            while try listHasNext() { elements.append(try readValue()) }
            return .list(elements)
        case .dictionary:
            var state = try beginDictionary()
            var entries = [BencodeValue.Entry]()
            while let key = try nextKey(&state) {
                entries.append(BencodeValue.Entry(key: bytes.array(key), value: try readValue()))
            }
            if state.wasUnsorted {
                // Keys are known distinct here, so this order is total.
                entries.sort { $0.key.lexicographicallyPrecedes($1.key) }
            }
            return .dictionary(entries)
        }
    }
}
