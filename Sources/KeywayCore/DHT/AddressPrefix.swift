/// The network an address belongs to, for limits that must not be escaped by changing port or
/// host number: an IPv4 address cut to its first few bits
/// (normally /24), an IPv6 address to its first 48 or 64 bits.
///
/// One host, a NAT, or a small network an attacker rents all fall into one prefix, so tables a
/// peer can grow are keyed by it (never by port, which costs an attacker nothing).
public struct AddressPrefix: Hashable, Sendable, CustomStringConvertible {
    /// The address with every bit beyond the prefix length cleared.
    public let network: IPAddress

    /// The prefix of `address` at `ipv4Bits` (0...32) or `ipv6Bits` (0...128); out-of-range
    /// lengths are clamped.
    public init(_ address: IPAddress, ipv4Bits: Int, ipv6Bits: Int) {
        switch address {
        case let .v4(value):
            let bits = max(0, min(32, ipv4Bits))
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
            network = .v4(value & mask)
        case let .v6(high, low):
            let bits = max(0, min(128, ipv6Bits))
            let highMask: UInt64 = bits >= 64 ? ~0 : (bits == 0 ? 0 : ~UInt64(0) << UInt64(64 - bits))
            let lowMask: UInt64 = bits <= 64 ? 0 : (bits == 128 ? ~0 : ~UInt64(0) << UInt64(128 - bits))
            network = .v6(high: high & highMask, low: low & lowMask)
        }
    }

    /// The network address, e.g. `192.0.2.0`.
    public var description: String { network.description }
}
