/// Appends canonical bencode to one growing byte array.
///
/// The building block of both encoders (``BencodeValue/encoded()`` and
/// ``KRPCMessage/encoded()``). It writes what it is told in the order it is told: keeping a
/// dictionary's keys sorted and distinct is the caller's job.
struct BencodeWriter {
    /// Everything written so far.
    var bytes: [UInt8]

    /// A writer whose buffer has room for `capacity` bytes before it must grow.
    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// `i<value>e`.
    @inline(__always)
    mutating func integer(_ value: Int64) {
        bytes.append(ASCII.i)
        if value < 0 { bytes.append(ASCII.minus) }
        decimal(value.magnitude)
        bytes.append(ASCII.e)
    }

    /// `<count>:<contents>`.
    @inline(__always)
    mutating func string(_ contents: [UInt8]) {
        decimal(UInt64(contents.count))
        bytes.append(ASCII.colon)
        bytes.append(contentsOf: contents)
    }

    /// A dictionary key (or any string) given as a literal.
    @inline(__always)
    mutating func key(_ name: StaticString) {
        decimal(UInt64(name.utf8CodeUnitCount))
        bytes.append(ASCII.colon)
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
    }

    /// The length prefix of a string whose `count` content bytes the caller appends itself.
    @inline(__always)
    mutating func stringHeader(count: Int) {
        decimal(UInt64(count))
        bytes.append(ASCII.colon)
    }

    /// Bytes that are already bencoded, copied as they are.
    @inline(__always)
    mutating func raw(_ encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }

    /// `d`: the start of a dictionary.
    @inline(__always)
    mutating func beginDictionary() { bytes.append(ASCII.d) }

    /// `l`: the start of a list.
    @inline(__always)
    mutating func beginList() { bytes.append(ASCII.l) }

    /// `e`: the end of the innermost open list or dictionary.
    @inline(__always)
    mutating func end() { bytes.append(ASCII.e) }

    /// The decimal digits of `value`, most significant first, with no allocation.
    @inline(__always)
    private mutating func decimal(_ value: UInt64) {
        if value < 10 {
            bytes.append(ASCII.zero &+ UInt8(truncatingIfNeeded: value))
            return
        }
        let start = bytes.count
        var rest = value
        while rest > 0 {
            bytes.append(ASCII.zero &+ UInt8(truncatingIfNeeded: rest % 10))
            rest /= 10
        }
        bytes[start...].reverse()
    }

    /// Number of decimal digits of `value`.
    static func decimalDigitCount(_ value: UInt64) -> Int {
        var count = 1, rest = value
        while rest >= 10 { rest /= 10; count += 1 }
        return count
    }
}
