import KeywayCrypto

/// A 160-bit Kademlia identifier: a node's routing ID or an item's target.
///
/// Definitions (BEP 5): the distance between two IDs is their bitwise XOR read as an unsigned
/// big-endian integer. A keyway node's ID is SHA-1 of its Ed25519 public key, which is also the
/// BEP 44 target of its endpoint record, so the nodes closest to a node hold its record.
///
/// Stored as three integers so XOR and comparison cost a few instructions, not a loop.
public struct NodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Bytes 0..<8, big-endian.
    public var high: UInt64
    /// Bytes 8..<16, big-endian.
    public var middle: UInt64
    /// Bytes 16..<20, big-endian.
    public var low: UInt32

    /// Length of an ID on the wire.
    public static let byteCount = 20
    /// Number of bits in an ID.
    public static let bitCount = 160

    /// An ID from its three parts.
    public init(high: UInt64, middle: UInt64, low: UInt32) {
        self.high = high
        self.middle = middle
        self.low = low
    }

    /// An ID from exactly 20 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == NodeID.byteCount else { return nil }
        var h: UInt64 = 0, m: UInt64 = 0, l: UInt32 = 0
        for (i, b) in bytes.enumerated() {
            switch i {
            case 0..<8: h = h << 8 | UInt64(b)
            case 8..<16: m = m << 8 | UInt64(b)
            default: l = l << 8 | UInt32(b)
            }
        }
        self.init(high: h, middle: m, low: l)
    }

    /// The routing ID of a node with `publicKey`, and the target of its endpoint record.
    public init(publicKey: Ed25519.PublicKey) {
        self = NodeID(bytes: SHA1.hash(publicKey.bytes))!
    }

    /// A uniformly random ID.
    public static func random(using rng: inout some RandomNumberGenerator) -> NodeID {
        NodeID(high: rng.next(), middle: rng.next(), low: UInt32(truncatingIfNeeded: rng.next()))
    }

    /// The 20 big-endian bytes.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(20)
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(s))) }
        for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: middle >> UInt64(s))) }
        for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt32(s))) }
        return out
    }

    /// The XOR distance to `other`, itself an ID-sized number.
    @inline(__always)
    public func distance(to other: NodeID) -> NodeID {
        NodeID(high: high ^ other.high, middle: middle ^ other.middle, low: low ^ other.low)
    }

    /// Number of leading bits this ID shares with `other` (160 when they are equal).
    @inline(__always)
    public func commonPrefixLength(with other: NodeID) -> Int {
        let d = distance(to: other)
        if d.high != 0 { return d.high.leadingZeroBitCount }
        if d.middle != 0 { return 64 + d.middle.leadingZeroBitCount }
        if d.low != 0 { return 128 + d.low.leadingZeroBitCount }
        return 160
    }

    /// The value of bit `index` (0 is the most significant).
    public func bit(_ index: Int) -> Bool {
        switch index {
        case 0..<64: return (high >> UInt64(63 - index)) & 1 == 1
        case 64..<128: return (middle >> UInt64(127 - index)) & 1 == 1
        default: return (low >> UInt32(159 - index)) & 1 == 1
        }
    }

    /// This ID with bit `index` flipped.
    public func flippingBit(_ index: Int) -> NodeID {
        var copy = self
        switch index {
        case 0..<64: copy.high ^= 1 << UInt64(63 - index)
        case 64..<128: copy.middle ^= 1 << UInt64(127 - index)
        default: copy.low ^= 1 << UInt32(159 - index)
        }
        return copy
    }

    /// Numeric order of the big-endian value; on distances this is "closer than".
    @inline(__always)
    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        if lhs.high != rhs.high { return lhs.high < rhs.high }
        if lhs.middle != rhs.middle { return lhs.middle < rhs.middle }
        return lhs.low < rhs.low
    }

    /// 40 lowercase hex digits.
    public var description: String { bytes.hexString }
}

extension Sequence<UInt8> {
    /// Lowercase hexadecimal text of the bytes.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in self { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xf)]) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Bytes from hexadecimal text (either case, even length); `nil` for anything else.
    public init?(hex: some StringProtocol) {
        var out = [UInt8]()
        var pending: UInt8? = nil
        for c in hex.utf8 {
            guard let digit = ASCII.hexDigit(c) else { return nil }
            let v = UInt8(digit)
            if let p = pending { out.append(p << 4 | v); pending = nil } else { pending = v }
        }
        if pending != nil { return nil }
        self = out
    }
}
