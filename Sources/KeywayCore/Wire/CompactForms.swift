// The compact binary forms KRPC carries inside byte strings (BEP 5, BEP 32): IDs, endpoints
// and node infos, read from and written to raw buffers without intermediate arrays.

extension NodeID {
    /// The ID in the 20 bytes at `offset`; the caller has checked they lie inside `buffer`.
    @inline(__always)
    init(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int) {
        self.init(
            high: bigEndianInteger(buffer, at: offset, count: 8),
            middle: bigEndianInteger(buffer, at: offset + 8, count: 8),
            low: UInt32(truncatingIfNeeded: bigEndianInteger(buffer, at: offset + 16, count: 4)))
    }

    /// Appends the 20 big-endian bytes.
    @inline(__always)
    func append(to bytes: inout [UInt8]) {
        appendBigEndian(high, count: 8, to: &bytes)
        appendBigEndian(middle, count: 8, to: &bytes)
        appendBigEndian(UInt64(low), count: 4, to: &bytes)
    }
}

extension Endpoint {
    /// The compact endpoint (6 bytes for IPv4, 18 for IPv6) in `range` of `buffer`; `nil` for
    /// any other length. The caller has checked `range` lies inside `buffer`.
    init?(compactIn buffer: UnsafeBufferPointer<UInt8>, range: Range<Int>) {
        let start = range.lowerBound
        switch range.count {
        case Endpoint.compactIPv4Length:
            address = .v4(UInt32(truncatingIfNeeded: bigEndianInteger(buffer, at: start, count: 4)))
        case Endpoint.compactIPv6Length:
            address = .v6(high: bigEndianInteger(buffer, at: start, count: 8), low: bigEndianInteger(buffer, at: start + 8, count: 8))
        default:
            return nil
        }
        port = UInt16(truncatingIfNeeded: bigEndianInteger(buffer, at: range.upperBound - 2, count: 2))
    }

    /// Length of the compact form: 6 for IPv4, 18 for IPv6.
    var compactLength: Int { address.isIPv4 ? Endpoint.compactIPv4Length : Endpoint.compactIPv6Length }

    /// Appends the compact form: address bytes, then the port, big-endian.
    @inline(__always)
    func appendCompact(to bytes: inout [UInt8]) {
        switch address {
        case let .v4(value):
            appendBigEndian(UInt64(value), count: 4, to: &bytes)
        case let .v6(high, low):
            appendBigEndian(high, count: 8, to: &bytes)
            appendBigEndian(low, count: 8, to: &bytes)
        }
        appendBigEndian(UInt64(port), count: 2, to: &bytes)
    }
}

extension NodeContact {
    /// The node infos packed in `range` of `buffer`, each `stride` bytes (26 for IPv4, 38 for
    /// IPv6); `nil` unless the range's length is a multiple of `stride`.
    static func compactList(in buffer: UnsafeBufferPointer<UInt8>, range: Range<Int>, stride: Int) -> [NodeContact]? {
        guard range.count % stride == 0 else { return nil }
        var contacts = [NodeContact]()
        contacts.reserveCapacity(range.count / stride)
        var offset = range.lowerBound
        while offset < range.upperBound {
            let next = offset + stride
            guard let endpoint = Endpoint(compactIn: buffer, range: (offset + NodeID.byteCount)..<next) else { return nil }
            contacts.append(NodeContact(id: NodeID(buffer, at: offset), endpoint: endpoint))
            offset = next
        }
        return contacts
    }

    /// Appends the compact node info: the ID, then the compact endpoint.
    @inline(__always)
    func appendCompact(to bytes: inout [UInt8]) {
        id.append(to: &bytes)
        endpoint.appendCompact(to: &bytes)
    }
}

/// The unsigned big-endian integer in the `count` (at most 8) bytes at `offset`.
@inline(__always)
private func bigEndianInteger(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int, count: Int) -> UInt64 {
    var value: UInt64 = 0
    for index in offset..<(offset + count) { value = value << 8 | UInt64(buffer[index]) }
    return value
}

/// Appends the low `count` bytes of `value`, most significant first.
@inline(__always)
private func appendBigEndian(_ value: UInt64, count: Int, to bytes: inout [UInt8]) {
    var shift = (count - 1) * 8
    while shift >= 0 {
        bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        shift -= 8
    }
}
