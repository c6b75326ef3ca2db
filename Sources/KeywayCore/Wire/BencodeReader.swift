/// A strict, validating cursor over bencoded bytes: the one place that knows bencode's grammar.
///
/// Both the tree decoder (``BencodeValue/decode(_:limits:)``) and the KRPC decoder walk input
/// with it, so both refuse exactly the same inputs. It reads in place and allocates nothing on
/// the common path: strings come back as ranges of the input, not copies. The only allocation is
/// a scratch list of key ranges, made when a dictionary arrives with its keys out of order.
///
/// It must not outlive the buffer it reads. Every read checks bounds against the buffer's
/// count first, and all arithmetic on input-driven numbers reports overflow, so no input can
/// make it trap; recursion (in ``skipValue()`` and the tree decoder) is bounded by the depth
/// limit, which ``enterContainer()`` checks before a caller descends.
struct BencodeReader {
    /// The kinds of value, told apart by their first byte.
    enum Kind {
        case integer, bytes, list, dictionary
    }

    /// Where a dictionary's walk stands; ``beginDictionary()`` makes one, ``nextKey(_:)``
    /// advances it.
    struct DictionaryState {
        /// Offset of the first byte after the `d`.
        let contentStart: Int
        /// The previous key's contents, while keys have arrived in strictly ascending order.
        var previousKey: Range<Int>? = nil
        /// Set once a key arrived out of order: from then on the keys are collected in the
        /// reader's scratch list from this index, and checked for duplicates at the `e`.
        var unsortedBase: Int? = nil

        /// Whether the keys arrived out of order (final once ``nextKey(_:)`` returned `nil`).
        var wasUnsorted: Bool { unsortedBase != nil }
    }

    /// The input.
    let bytes: UnsafeBufferPointer<UInt8>
    /// Offset of the next byte to read.
    private(set) var position: Int
    /// Number of lists and dictionaries open at `position`.
    private(set) var depth = 0
    private var elementCount = 0
    private let maxDepth: Int
    private let maxStringLength: Int
    private let maxElementCount: Int
    /// Key ranges of the open dictionaries that arrived unsorted (see ``DictionaryState``).
    private var unsortedKeys: [Range<Int>] = []

    /// A reader at `position` in `bytes`; throws if the input is longer than the limits allow.
    init(_ bytes: UnsafeBufferPointer<UInt8>, limits: BencodeLimits, position: Int = 0) throws(BencodeError) {
        guard bytes.count <= limits.maxInputLength else {
            throw .inputTooLong(offset: max(0, limits.maxInputLength))
        }
        guard position >= 0, position <= bytes.count else { throw .unexpectedEnd(offset: position) }
        self.bytes = bytes
        self.position = position
        self.maxDepth = min(limits.maxDepth, BencodeLimits.depthCeiling)
        self.maxStringLength = limits.maxStringLength
        self.maxElementCount = limits.maxElementCount
    }

    // MARK: Looking ahead

    /// The next byte, without consuming it.
    @inline(__always)
    func peek() throws(BencodeError) -> UInt8 {
        guard position < bytes.count else { throw .unexpectedEnd(offset: position) }
        return bytes[position]
    }

    /// The kind of the value at `position`.
    @inline(__always)
    func peekKind() throws(BencodeError) -> Kind {
        switch try peek() {
        case BencodeByte.i: return .integer
        case BencodeByte.l: return .list
        case BencodeByte.d: return .dictionary
        case BencodeByte.zero...BencodeByte.nine: return .bytes
        default: throw .invalidValueStart(offset: position)
        }
    }

    /// Throws unless every byte has been read.
    func finish() throws(BencodeError) {
        guard position == bytes.count else { throw .trailingBytes(offset: position) }
    }

    // MARK: Scalars

    /// Reads `i…e` at `position`.
    mutating func readInteger() throws(BencodeError) -> Int64 {
        let start = position
        try countElement()
        let end = bytes.count
        var p = start + 1  // past the `i`
        var negative = false
        if p < end, bytes[p] == BencodeByte.minus {
            negative = true
            p += 1
        }
        guard p < end else { throw .unexpectedEnd(offset: p) }
        let first = bytes[p]
        guard BencodeByte.isDigit(first) else { throw .invalidInteger(offset: p) }  // `ie`, `i-e`
        if first == BencodeByte.zero {
            if negative { throw .invalidInteger(offset: p) }  // `i-0e`, `i-03e`
            if p + 1 < end, BencodeByte.isDigit(bytes[p + 1]) { throw .invalidInteger(offset: p) }  // `i03e`
        }
        var value: Int64 = 0
        while p < end, BencodeByte.isDigit(bytes[p]) {
            let digit = Int64(bytes[p] &- BencodeByte.zero)
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            // Negative numbers accumulate downwards so that Int64.min itself fits.
            let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            if overflow || overflow2 { throw .integerOutOfRange(offset: start) }
            value = next
            p += 1
        }
        guard p < end else { throw .unexpectedEnd(offset: p) }
        guard bytes[p] == BencodeByte.e else { throw .invalidInteger(offset: p) }
        position = p + 1
        return value
    }

    /// Reads `<length>:<contents>` at `position` and returns the range of the contents.
    mutating func readBytes() throws(BencodeError) -> Range<Int> {
        let start = position
        try countElement()
        let end = bytes.count
        // Fast path: a one-digit length, as most keys and many values have.
        if start + 1 < end, bytes[start + 1] == BencodeByte.colon, BencodeByte.isDigit(bytes[start]) {
            let length = Int(bytes[start] &- BencodeByte.zero), contents = start + 2
            guard length <= end - contents else { throw .stringBeyondInput(offset: start) }
            guard length <= maxStringLength else { throw .stringTooLong(offset: start) }
            position = contents + length
            return contents..<position
        }
        var p = start
        guard p < end, BencodeByte.isDigit(bytes[p]) else { throw .invalidStringLength(offset: p) }
        if bytes[p] == BencodeByte.zero, p + 1 < end, BencodeByte.isDigit(bytes[p + 1]) {
            throw .invalidStringLength(offset: p)  // `01:a`
        }
        var length = 0
        while p < end, BencodeByte.isDigit(bytes[p]) {
            length = length &* 10 &+ Int(bytes[p] &- BencodeByte.zero)
            // Stop as soon as the length cannot fit, which also keeps the arithmetic above
            // from overflowing (length stays at most the input's count before each step).
            if length > end { throw .stringBeyondInput(offset: start) }
            p += 1
        }
        guard p < end else { throw .unexpectedEnd(offset: p) }
        guard bytes[p] == BencodeByte.colon else { throw .invalidStringLength(offset: p) }
        p += 1
        guard length <= end - p else { throw .stringBeyondInput(offset: start) }
        guard length <= maxStringLength else { throw .stringTooLong(offset: start) }
        position = p + length
        return p..<(p + length)
    }

    // MARK: Containers

    /// Consumes the `l` or `d` at `position`, after checking the depth and element limits.
    /// Call it before descending into a container: it is what bounds recursion.
    @inline(__always)
    mutating func enterContainer() throws(BencodeError) {
        try countElement()
        guard depth < maxDepth else { throw .nestingTooDeep(offset: position) }
        depth += 1
        position += 1
    }

    /// Inside a list: `true` when another element follows, `false` after consuming the list's
    /// closing `e`.
    @inline(__always)
    mutating func listHasNext() throws(BencodeError) -> Bool {
        guard try peek() == BencodeByte.e else { return true }
        position += 1
        depth -= 1
        return false
    }

    /// Consumes the `d` at `position` and starts a walk over its keys.
    mutating func beginDictionary() throws(BencodeError) -> DictionaryState {
        try enterContainer()
        return DictionaryState(contentStart: position)
    }

    /// The next key's contents, leaving `position` at its value (which the caller must read
    /// or skip before asking again); `nil` after consuming the dictionary's closing `e`.
    ///
    /// Keys in strictly ascending order, as canonical bencode has them, cost one comparison
    /// each. Keys out of order are accepted (real clients send them): the dictionary's keys are
    /// then collected and checked for duplicates when it closes.
    mutating func nextKey(_ state: inout DictionaryState) throws(BencodeError) -> Range<Int>? {
        let byte = try peek()
        if byte == BencodeByte.e {
            if let base = state.unsortedBase {
                try checkForDuplicateKeys(from: base)
                unsortedKeys.removeSubrange(base...)
            }
            position += 1
            depth -= 1
            return nil
        }
        guard BencodeByte.isDigit(byte) else { throw .nonStringKey(offset: position) }
        let keyStart = position
        let key = try readBytes()
        if state.unsortedBase != nil {
            unsortedKeys.append(key)
        } else if let previous = state.previousKey {
            let order = compare(previous, key)
            if order == 0 { throw .duplicateKey(offset: key.lowerBound) }
            if order > 0 {
                state.unsortedBase = unsortedKeys.count
                collectKeys(from: state.contentStart, to: keyStart)
                unsortedKeys.append(key)
            }
        }
        state.previousKey = key
        return key
    }

    /// Reads and validates one whole value of any kind, returning the bytes it occupies.
    mutating func skipValue() throws(BencodeError) -> Range<Int> {
        let start = position
        switch try peekKind() {
        case .integer:
            _ = try readInteger()
        case .bytes:
            _ = try readBytes()
        case .list:
            try enterContainer()
            while try listHasNext() { _ = try skipValue() }
        case .dictionary:
            var state = try beginDictionary()
            while try nextKey(&state) != nil { _ = try skipValue() }
        }
        return start..<position
    }

    // MARK: Helpers

    @inline(__always)
    private mutating func countElement() throws(BencodeError) {
        elementCount += 1
        guard elementCount <= maxElementCount else { throw .tooManyElements(offset: position) }
    }

    /// Byte-wise order of two ranges of the input: negative, zero or positive.
    @inline(__always)
    func compare(_ a: Range<Int>, _ b: Range<Int>) -> Int {
        BencodeReader.compare(bytes, a, b)
    }

    @inline(__always)
    private static func compare(_ bytes: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Int {
        let common = min(a.count, b.count)
        var i = 0
        while i < common {
            let x = bytes[a.lowerBound + i], y = bytes[b.lowerBound + i]
            if x != y { return x < y ? -1 : 1 }
            i += 1
        }
        return a.count - b.count
    }

    /// Sorts the scratch keys from `base` on and throws at the first repeated one.
    private mutating func checkForDuplicateKeys(from base: Int) throws(BencodeError) {
        let bytes = self.bytes
        unsortedKeys[base...].sort { a, b in
            let order = BencodeReader.compare(bytes, a, b)
            return order != 0 ? order < 0 : a.lowerBound < b.lowerBound
        }
        var i = base + 1
        while i < unsortedKeys.count {
            if compare(unsortedKeys[i - 1], unsortedKeys[i]) == 0 {
                throw .duplicateKey(offset: unsortedKeys[i].lowerBound)
            }
            i += 1
        }
    }

    /// Adds to the scratch list the keys of the part of a dictionary already read, from its
    /// first byte after `d` up to `end`. That part has been validated, so this walk only finds
    /// boundaries; it is iterative and stays inside the buffer whatever the bytes say.
    private mutating func collectKeys(from start: Int, to end: Int) {
        var p = start
        while p < end {
            guard let key = BencodeReader.stringBounds(bytes, at: p) else { return }
            unsortedKeys.append(key)
            p = BencodeReader.endOfValidatedValue(bytes, at: key.upperBound)
        }
    }

    /// The contents of the (already validated) string at `p`, or `nil` if there is none.
    private static func stringBounds(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        var p = start, length = 0
        while p < bytes.count, BencodeByte.isDigit(bytes[p]) {
            length = length &* 10 &+ Int(bytes[p] &- BencodeByte.zero)
            if length > bytes.count { return nil }
            p += 1
        }
        guard p < bytes.count, bytes[p] == BencodeByte.colon, length <= bytes.count - (p + 1) else { return nil }
        return (p + 1)..<(p + 1 + length)
    }

    /// The offset just past the (already validated) value starting at `start`.
    private static func endOfValidatedValue(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Int {
        var p = start, open = 0
        repeat {
            guard p < bytes.count else { return bytes.count }
            switch bytes[p] {
            case BencodeByte.l, BencodeByte.d:
                open += 1
                p += 1
            case BencodeByte.e:
                open -= 1
                p += 1
            case BencodeByte.i:
                while p < bytes.count, bytes[p] != BencodeByte.e { p += 1 }
                p += 1
            default:
                guard let contents = stringBounds(bytes, at: p) else { return bytes.count }
                p = contents.upperBound
            }
        } while open > 0
        return p
    }
}

/// The bytes bencode's grammar is made of.
enum BencodeByte {
    static let i = UInt8(ascii: "i")
    static let l = UInt8(ascii: "l")
    static let d = UInt8(ascii: "d")
    static let e = UInt8(ascii: "e")
    static let minus = UInt8(ascii: "-")
    static let colon = UInt8(ascii: ":")
    static let zero = UInt8(ascii: "0")
    static let nine = UInt8(ascii: "9")

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- zero < 10 }
}
