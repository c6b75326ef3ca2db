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

    /// Writes the 20 big-endian bytes.
    @inline(__always)
    func write(to writer: inout BencodeWriter) {
        writer.bigEndian(high)
        writer.bigEndian(middle)
        writer.bigEndian(low)
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

    /// Writes the compact form: address bytes, then the port, big-endian.
    @inline(__always)
    func writeCompact(to writer: inout BencodeWriter) {
        switch address {
        case let .v4(value):
            writer.bigEndian(value)
        case let .v6(high, low):
            writer.bigEndian(high)
            writer.bigEndian(low)
        }
        writer.bigEndian(port)
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

    /// Writes the compact node info: the ID, then the compact endpoint.
    @inline(__always)
    func writeCompact(to writer: inout BencodeWriter) {
        id.write(to: &writer)
        endpoint.writeCompact(to: &writer)
    }
}

/// The unsigned big-endian integer in the `count` (at most 8) bytes at `offset`; the caller has
/// checked they lie inside `buffer`.
@inline(__always)
private func bigEndianInteger(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int, count: Int) -> UInt64 {
    guard count == 8, let base = buffer.baseAddress else {
        var value: UInt64 = 0
        for index in offset..<(offset + count) { value = value << 8 | UInt64(buffer[index]) }
        return value
    }
    return UInt64(bigEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self))
}
