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

/// What a per-network table files an endpoint under: its ``AddressPrefix`` on the internet, or,
/// on a local network (``IPAddress/isLocalNetwork``: loopback, a LAN, one host's pod network,
/// which is one operator's) when the table exempts those, the endpoint itself, so many nodes on
/// one address still count apart. Shared by the query rate limiter, the observed-address vote
/// and the table of recent destinations.
public enum NetworkKey: Hashable, Sendable {
    /// A network on the internet.
    case prefix(AddressPrefix)
    /// An endpoint on a local network.
    case endpoint(Endpoint)

    /// The key of `endpoint`: its prefix at `ipv4Bits` or `ipv6Bits`, or the endpoint itself
    /// when `localPerEndpoint` and it is on a local network.
    public init(_ endpoint: Endpoint, ipv4Bits: Int, ipv6Bits: Int, localPerEndpoint: Bool) {
        if localPerEndpoint && endpoint.address.isLocalNetwork {
            self = .endpoint(endpoint)
        } else {
            self = .prefix(AddressPrefix(endpoint.address, ipv4Bits: ipv4Bits, ipv6Bits: ipv6Bits))
        }
    }
}
