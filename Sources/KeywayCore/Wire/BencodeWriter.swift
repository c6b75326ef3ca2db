/// Writes canonical bencode into one array's storage, through a bounds-checked cursor.
///
/// The building block of both encoders (``BencodeValue/encoded()`` and
/// ``KRPCMessage/encoded()``). It writes what it is told in the order it is told: keeping a
/// dictionary's keys sorted and distinct is the caller's job.
///
/// Encoders run it through ``makeBytes(capacity:_:)``, which allocates the array once at a
/// capacity the caller estimates; every write checks the room left, and if the estimate was
/// short the writer notes it and the encoding runs again with twice the room. So writes cost a
/// comparison and a copy, never a reallocation or a uniqueness check, and a wrong estimate can
/// only cost time, never memory safety.
struct BencodeWriter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Number of bytes written.
    private(set) var count = 0
    /// Whether a write did not fit (and was dropped).
    private(set) var overflowed = false

    private init(buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    /// The bytes `write` produces, written into one array allocated with room for `capacity`
    /// bytes (retried with more room until it fits).
    static func makeBytes(capacity: Int, _ write: (inout BencodeWriter) -> Void) -> [UInt8] {
        var room = max(capacity, minimumCapacity)
        while true {
            var overflowed = false
            let bytes = [UInt8](unsafeUninitializedCapacity: room) { buffer, initializedCount in
                var writer = BencodeWriter(buffer: buffer)
                write(&writer)
                overflowed = writer.overflowed
                initializedCount = overflowed ? 0 : writer.count
            }
            if !overflowed { return bytes }
            room = room.multipliedReportingOverflow(by: 2).overflow ? Int.max : room * 2
        }
    }

    /// The smallest buffer allocated, so that the buffer always has an address.
    private static let minimumCapacity = 16

    // MARK: Values

    /// `i<value>e`.
    @inline(__always)
    mutating func integer(_ value: Int64) {
        byte(BencodeByte.i)
        if value < 0 { byte(BencodeByte.minus) }
        decimal(value.magnitude)
        byte(BencodeByte.e)
    }

    /// `<count>:<contents>`.
    @inline(__always)
    mutating func string(_ contents: [UInt8]) {
        stringHeader(count: contents.count)
        raw(contents)
    }

    /// A string holding the UTF-8 of `text`.
    @inline(__always)
    mutating func string(utf8 text: String) {
        var text = text
        text.withUTF8 { utf8 in
            stringHeader(count: utf8.count)
            if let start = utf8.baseAddress { copy(from: start, count: utf8.count) }
        }
    }

    /// A dictionary key (or any string) given as a literal.
    @inline(__always)
    mutating func key(_ name: StaticString) {
        stringHeader(count: name.utf8CodeUnitCount)
        copy(from: name.utf8Start, count: name.utf8CodeUnitCount)
    }

    /// The length prefix of a string whose `count` content bytes the caller writes itself.
    @inline(__always)
    mutating func stringHeader(count: Int) {
        decimal(UInt64(count))
        byte(BencodeByte.colon)
    }

    /// Bytes written as they are: string contents, or values that are already bencoded.
    @inline(__always)
    mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { source in
            if let start = source.baseAddress { copy(from: start, count: source.count) }
        }
    }

    /// `d`: the start of a dictionary.
    @inline(__always)
    mutating func beginDictionary() { byte(BencodeByte.d) }

    /// `l`: the start of a list.
    @inline(__always)
    mutating func beginList() { byte(BencodeByte.l) }

    /// `e`: the end of the innermost open list or dictionary.
    @inline(__always)
    mutating func end() { byte(BencodeByte.e) }

    /// `value`'s bytes, most significant first (for the compact forms inside strings).
    @inline(__always)
    mutating func bigEndian<Integer: FixedWidthInteger>(_ value: Integer) {
        guard let target = reserve(MemoryLayout<Integer>.size) else { return }
        UnsafeMutableRawPointer(target).storeBytes(of: value.bigEndian, as: Integer.self)
    }

    /// Number of decimal digits of `value`.
    static func decimalDigitCount(_ value: UInt64) -> Int {
        var count = 1, rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }

    // MARK: Cursor

    /// The decimal digits of `value`, most significant first, formed in place.
    @inline(__always)
    private mutating func decimal(_ value: UInt64) {
        if value < 10 {
            byte(BencodeByte.zero &+ UInt8(truncatingIfNeeded: value))
            return
        }
        let digits = BencodeWriter.decimalDigitCount(value)
        guard let target = reserve(digits) else { return }
        var index = digits, rest = value
        while index > 0 {
            index -= 1
            target[index] = BencodeByte.zero &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        }
    }

    @inline(__always)
    private mutating func byte(_ value: UInt8) {
        reserve(1)?.initialize(to: value)
    }

    @inline(__always)
    private mutating func copy(from source: UnsafePointer<UInt8>, count length: Int) {
        reserve(length)?.initialize(from: source, count: length)
    }

    /// Where the next `length` bytes go, advancing past them; `nil` (and `overflowed` set)
    /// when they do not fit.
    @inline(__always)
    private mutating func reserve(_ length: Int) -> UnsafeMutablePointer<UInt8>? {
        guard !overflowed, length <= buffer.count &- count, let base = buffer.baseAddress else {
            overflowed = true
            return nil
        }
        defer { count &+= length }
        return base + count
    }
}
