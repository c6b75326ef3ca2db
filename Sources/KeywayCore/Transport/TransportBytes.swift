/// Byte-level helpers of the transport wire format: little-endian fixed-width integers and
/// QUIC variable-length integers (RFC 9000 section 16).
enum TransportBytes {
    /// Appends `value` as `width` little-endian bytes.
    @inline(__always)
    static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { out.append(contentsOf: $0) }
    }

    /// Reads a little-endian integer at `offset`; the caller MUST have checked the length.
    @inline(__always)
    static func readLittleEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size {
            value |= T(truncatingIfNeeded: bytes[offset + i]) << (8 * i)
        }
        return value
    }

    /// Bytes the varint encoding of `value` takes (1, 2, 4 or 8).
    @inline(__always)
    static func varintLength(_ value: UInt64) -> Int {
        switch value {
        case 0..<(1 << 6): return 1
        case 0..<(1 << 14): return 2
        case 0..<(1 << 30): return 4
        default: return 8
        }
    }

    /// Appends `value` (at most ``TransportSpec/maximumVarint``) as a QUIC varint.
    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        precondition(value <= TransportSpec.maximumVarint, "varint out of range")
        let length = varintLength(value)
        let prefix: UInt64
        switch length {
        case 1: prefix = 0
        case 2: prefix = 1
        case 4: prefix = 2
        default: prefix = 3
        }
        let encoded = value | prefix << (UInt64(length) * 8 - 2)
        for i in stride(from: length - 1, through: 0, by: -1) {
            out.append(UInt8(truncatingIfNeeded: encoded >> (UInt64(i) * 8)))
        }
    }

    /// Reads a QUIC varint at `offset` and advances it; `nil` when the bytes run out.
    static func readVarint(_ bytes: [UInt8], at offset: inout Int) -> UInt64? {
        guard offset < bytes.count else { return nil }
        let first = bytes[offset]
        let length = 1 << Int(first >> 6)
        guard bytes.count - offset >= length else { return nil }
        var value = UInt64(first & 0x3f)
        for i in 1..<length { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += length
        return value
    }
}

/// A set of `UInt64` values kept as sorted, disjoint, non-adjacent half-open ranges: packet
/// numbers received, stream bytes acknowledged or waiting to be sent again.
struct RangeSet: Sendable, Equatable {
    /// The ranges in ascending order.
    private(set) var ranges: [Range<UInt64>] = []

    /// Whether the set is empty.
    var isEmpty: Bool { ranges.isEmpty }

    /// The lowest range.
    var first: Range<UInt64>? { ranges.first }

    /// The highest range.
    var last: Range<UInt64>? { ranges.last }

    /// Whether `value` is in the set.
    func contains(_ value: UInt64) -> Bool {
        let i = firstIndex(endingAfter: value)
        return i < ranges.count && ranges[i].lowerBound <= value
    }

    /// Adds `range`, merging with neighbours.
    mutating func insert(_ range: Range<UInt64>) {
        guard !range.isEmpty else { return }
        // Fast path: appending at the top, as in-order packet numbers and bytes do.
        if let top = ranges.last, top.upperBound <= range.lowerBound {
            if top.upperBound == range.lowerBound {
                ranges[ranges.count - 1] = top.lowerBound..<range.upperBound
            } else {
                ranges.append(range)
            }
            return
        }
        // The first range that touches or follows `range`.
        var start = firstIndex(endingAfter: range.lowerBound)
        if start > 0 && ranges[start - 1].upperBound == range.lowerBound { start -= 1 }
        var lower = range.lowerBound, upper = range.upperBound
        var end = start
        while end < ranges.count && ranges[end].lowerBound <= upper {
            lower = min(lower, ranges[end].lowerBound)
            upper = max(upper, ranges[end].upperBound)
            end += 1
        }
        ranges.replaceSubrange(start..<end, with: [lower..<upper])
    }

    /// Removes `range` from the set.
    mutating func remove(_ range: Range<UInt64>) {
        guard !range.isEmpty, !ranges.isEmpty else { return }
        let start = firstIndex(endingAfter: range.lowerBound)
        var end = start
        var replacement: [Range<UInt64>] = []
        while end < ranges.count && ranges[end].lowerBound < range.upperBound {
            let r = ranges[end]
            if r.lowerBound < range.lowerBound { replacement.append(r.lowerBound..<range.lowerBound) }
            if r.upperBound > range.upperBound { replacement.append(range.upperBound..<r.upperBound) }
            end += 1
        }
        if start < end { ranges.replaceSubrange(start..<end, with: replacement) }
    }

    /// Removes everything below `value`.
    mutating func removeAll(below value: UInt64) {
        remove(0..<value)
    }

    /// Drops the lowest ranges until at most `count` remain.
    mutating func keepHighest(_ count: Int) {
        if ranges.count > count { ranges.removeFirst(ranges.count - count) }
    }

    /// Whether `range` overlaps or adjoins a range of the set (inserting it adds no range).
    /// O(log n).
    func touches(_ range: Range<UInt64>) -> Bool {
        let i = firstIndex(endingAfter: range.lowerBound)
        if i > 0 && ranges[i - 1].upperBound == range.lowerBound { return true }
        return i < ranges.count && ranges[i].lowerBound <= range.upperBound
    }

    /// The number of ranges.
    var count: Int { ranges.count }

    /// The parts of `range` not in the set, in ascending order.
    func gaps(in range: Range<UInt64>) -> [Range<UInt64>] {
        var result: [Range<UInt64>] = []
        var cursor = range.lowerBound
        var i = firstIndex(endingAfter: range.lowerBound)
        while cursor < range.upperBound {
            guard i < ranges.count, ranges[i].lowerBound < range.upperBound else {
                result.append(cursor..<range.upperBound)
                break
            }
            if ranges[i].lowerBound > cursor { result.append(cursor..<ranges[i].lowerBound) }
            cursor = max(cursor, ranges[i].upperBound)
            i += 1
        }
        return result
    }

    /// The index of the first range whose upper bound is above `value`.
    private func firstIndex(endingAfter value: UInt64) -> Int {
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound <= value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
