#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCore
import NIOCore

/// Conversions between NIO's socket addresses and the core's ``Endpoint``.
///
/// On a dual-stack socket (bound to `[::]` with `IPV6_V6ONLY` off) IPv4 peers appear as
/// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`). The core must see them as the IPv4 endpoints
/// they are (to answer with `nodes`, not `nodes6`, and to compare addresses), so ``endpoint``
/// maps them back; ``socketAddress(for:family:)`` maps IPv4 destinations forward again.
extension SocketAddress {
    /// The endpoint this address names, with IPv4-mapped IPv6 addresses turned back into IPv4;
    /// `nil` for a Unix domain socket address. Allocation-free: it runs once per datagram.
    var endpoint: Endpoint? {
        switch self {
        case let .v4(address):
            let host = UInt32(bigEndian: address.address.sin_addr.s_addr)
            return Endpoint(address: .v4(host), port: UInt16(bigEndian: address.address.sin_port))
        case let .v6(address):
            let port = UInt16(bigEndian: address.address.sin6_port)
            // The 16 bytes in network order, as two big-endian halves.
            let (high, low) = withUnsafeBytes(of: address.address.sin6_addr) {
                (UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            if high == 0, low >> 32 == 0xffff {
                return Endpoint(address: .v4(UInt32(truncatingIfNeeded: low)), port: port)
            }
            return Endpoint(address: .v6(high: high, low: low), port: port)
        case .unixDomainSocket:
            return nil
        }
    }

    /// The socket address to send to `endpoint` from a socket of `family`, or `nil` when that
    /// socket cannot reach it (an IPv6 destination from an IPv4 socket, or the reverse).
    ///
    /// Built straight from `sockaddr_in`/`sockaddr_in6` with an empty host name: NIO's other
    /// initializers format the address as text (`inet_ntop`), which nothing here reads.
    static func destination(for endpoint: Endpoint, family: SocketFamily) -> SocketAddress? {
        switch (endpoint.address, family) {
        case let (.v4(host), .ipv4):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            address.sin_addr.s_addr = host.bigEndian
            return SocketAddress(address, host: "")
        case let (.v4(host), .dualStack):
            return v6(high: 0, low: 0xffff_0000_0000 | UInt64(host), port: endpoint.port)
        case let (.v6(high, low), .ipv6), let (.v6(high, low), .dualStack):
            return v6(high: high, low: low, port: endpoint.port)
        case (.v6, .ipv4), (.v4, .ipv6):
            return nil
        }
    }

    private static func v6(high: UInt64, low: UInt64, port: UInt16) -> SocketAddress {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &address.sin6_addr) {
            $0.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            $0.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return SocketAddress(address, host: "")
    }

    /// The socket address to bind for `endpoint`.
    static func binding(_ endpoint: Endpoint) throws -> SocketAddress {
        var buffer = ByteBuffer()
        buffer.writeBytes(endpoint.address.bytes)
        return try SocketAddress(packedIPAddress: buffer, port: Int(endpoint.port))
    }
}
