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
    /// `nil` for a Unix domain socket address.
    var endpoint: Endpoint? {
        switch self {
        case let .v4(address):
            let host = UInt32(bigEndian: address.address.sin_addr.s_addr)
            return Endpoint(address: .v4(host), port: UInt16(bigEndian: address.address.sin_port))
        case let .v6(address):
            var raw = address.address.sin6_addr
            let bytes = withUnsafeBytes(of: &raw) { Array($0) }
            let port = UInt16(bigEndian: address.address.sin6_port)
            if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff,
               let v4 = IPAddress(bytes: bytes[12..<16]) {
                return Endpoint(address: v4, port: port)
            }
            guard let v6 = IPAddress(bytes: bytes) else { return nil }
            return Endpoint(address: v6, port: port)
        case .unixDomainSocket:
            return nil
        }
    }

    /// The socket address to send to `endpoint` from a socket of `family`, or `nil` when that
    /// socket cannot reach it (an IPv6 destination from an IPv4 socket, or the reverse).
    static func destination(for endpoint: Endpoint, family: SocketFamily) -> SocketAddress? {
        let bytes: [UInt8]
        switch (endpoint.address, family) {
        case (.v4, .ipv4), (.v6, .ipv6), (.v6, .dualStack):
            bytes = endpoint.address.bytes
        case (.v4, .dualStack):
            bytes = [UInt8](repeating: 0, count: 10) + [0xff, 0xff] + endpoint.address.bytes
        case (.v6, .ipv4), (.v4, .ipv6):
            return nil
        }
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return try? SocketAddress(packedIPAddress: buffer, port: Int(endpoint.port))
    }

    /// The socket address to bind for `endpoint`.
    static func binding(_ endpoint: Endpoint) throws -> SocketAddress {
        var buffer = ByteBuffer()
        buffer.writeBytes(endpoint.address.bytes)
        return try SocketAddress(packedIPAddress: buffer, port: Int(endpoint.port))
    }
}

/// Which destinations one UDP socket can reach.
enum SocketFamily: Sendable, Equatable {
    /// An `AF_INET` socket: IPv4 only.
    case ipv4
    /// An `AF_INET6` socket bound to a specific IPv6 address, or with `IPV6_V6ONLY` on.
    case ipv6
    /// An `AF_INET6` socket bound to `[::]` with `IPV6_V6ONLY` off: both families, IPv4 as
    /// IPv4-mapped addresses.
    case dualStack

    /// The family of a socket bound to `endpoint`, with `dualStack` when `[::]` is asked to
    /// serve IPv4 too.
    init(binding endpoint: Endpoint, dualStack: Bool) {
        switch endpoint.address {
        case .v4: self = .ipv4
        case .v6: self = endpoint.address.isUnspecified && dualStack ? .dualStack : .ipv6
        }
    }
}
