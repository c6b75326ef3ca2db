/// An IPv4 or IPv6 address, without a port. Text forms live in `IPAddress+Text.swift`.
public enum IPAddress: Hashable, Sendable, Comparable {
    /// An IPv4 address in host byte order (`0x7f000001` is 127.0.0.1).
    case v4(UInt32)
    /// An IPv6 address as two 64-bit halves in host byte order (`high` holds the first 8 bytes).
    case v6(high: UInt64, low: UInt64)

    /// The address from 4 or 16 network-order bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4:
            var v: UInt32 = 0
            for b in bytes { v = v << 8 | UInt32(b) }
            self = .v4(v)
        case 16:
            var high: UInt64 = 0, low: UInt64 = 0
            for (i, b) in bytes.enumerated() {
                if i < 8 { high = high << 8 | UInt64(b) } else { low = low << 8 | UInt64(b) }
            }
            self = .v6(high: high, low: low)
        default:
            return nil
        }
    }

    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch self {
        case let .v4(v):
            return [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        case let .v6(high, low):
            var out = [UInt8]()
            out.reserveCapacity(16)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: high >> UInt64(shift))) }
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: low >> UInt64(shift))) }
            return out
        }
    }

    /// Whether this is an IPv4 address.
    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }

    /// `0.0.0.0` or `::`, which may be bound but never published or contacted.
    public var isUnspecified: Bool {
        switch self {
        case let .v4(v): return v == 0
        case let .v6(high, low): return high == 0 && low == 0
        }
    }

    /// `127.0.0.0/8` or `::1`.
    public var isLoopback: Bool {
        switch self {
        case let .v4(v): return v >> 24 == 127
        case let .v6(high, low): return high == 0 && low == 1
        }
    }

    /// A loopback address, or one of a private network that the public internet does not
    /// route: IPv4 `10/8`, `172.16/12`, `192.168/16` (RFC 1918), `169.254/16` (link-local);
    /// IPv6 `fc00::/7` (unique local, RFC 4193) and `fe80::/10` (link-local).
    public var isLocalNetwork: Bool {
        if isLoopback { return true }
        switch self {
        case let .v4(v):
            return v >> 24 == 10 || v >> 20 == 0xAC1 || v >> 16 == 0xC0A8 || v >> 16 == 0xA9FE
        case let .v6(high, _):
            return high >> 57 == 0x7E || high >> 54 == 0x3FA
        }
    }

    /// IPv4 sorts before IPv6; within a family, numeric order.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case let (.v4(a), .v4(b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        case let (.v6(ah, al), .v6(bh, bl)): return (ah, al) < (bh, bl)
        }
    }
}

/// A UDP endpoint: an address and a port. Used for peers on the wire and in endpoint records.
public struct Endpoint: Hashable, Sendable, Comparable {
    /// The IP address.
    public var address: IPAddress
    /// The UDP port.
    public var port: UInt16

    /// An endpoint from its parts.
    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Length of a compact IPv4 endpoint (BEP 5): 4 address bytes and 2 port bytes.
    public static let compactIPv4Length = 6
    /// Length of a compact IPv6 endpoint (BEP 32): 16 address bytes and 2 port bytes.
    public static let compactIPv6Length = 18

    /// The compact form: address bytes then the port, big-endian (6 or 18 bytes).
    public var compact: [UInt8] {
        address.bytes + [UInt8(port >> 8), UInt8(port & 0xff)]
    }

    /// Parses a compact endpoint of 6 or 18 bytes; `nil` for any other length.
    public init?(compact bytes: some Collection<UInt8>) {
        let array = Array(bytes)
        guard array.count == Endpoint.compactIPv4Length || array.count == Endpoint.compactIPv6Length,
              let address = IPAddress(bytes: array[0..<(array.count - 2)]) else { return nil }
        self.address = address
        self.port = UInt16(array[array.count - 2]) << 8 | UInt16(array[array.count - 1])
    }

    /// Address order, then port order.
    public static func < (lhs: Endpoint, rhs: Endpoint) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}
