#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCore
import NIOCore
import NIOPosix

/// Looking DNS names up with the system resolver (`getaddrinfo`, so `/etc/hosts`, DNS and
/// whatever else `nsswitch.conf` names), on SwiftNIO's blocking-I/O thread pool so that no event
/// loop or async task waits on it.
public enum HostResolver {
    /// Addresses kept of one name at most (a name with more is cut, in the resolver's order).
    public static let maximumAddresses = 16

    /// Every IPv4 and IPv6 address of `name` (A and AAAA), in the resolver's order of
    /// preference, without repeats, at most ``maximumAddresses``. Throws
    /// ``HostResolutionError`` when the name has none.
    public static func addresses(of name: String) async throws(HostResolutionError) -> [IPAddress] {
        let outcome: Result<[IPAddress], HostResolutionError>
        do {
            outcome = try await NIOThreadPool.singleton.runIfActive { lookUp(name) }
        } catch {
            throw HostResolutionError(name: name, reason: "\(error)")
        }
        return try outcome.get()
    }

    /// The endpoints of `hostPort`: itself when it holds an address, else one per address of
    /// its name with its port.
    public static func endpoints(of hostPort: HostPort) async throws(HostResolutionError) -> [Endpoint] {
        switch hostPort.host {
        case let .address(address): return [Endpoint(address: address, port: hostPort.port)]
        case let .name(name): return try await addresses(of: name).map { Endpoint(address: $0, port: hostPort.port) }
        }
    }

    /// The blocking lookup.
    private static func lookUp(_ name: String) -> Result<[IPAddress], HostResolutionError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        // One entry per address, not one per socket type.
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        #else
        hints.ai_socktype = SOCK_DGRAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else {
            return .failure(HostResolutionError(name: name, reason: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(list) }
        var addresses = [IPAddress]()
        var entry = list
        while let current = entry, addresses.count < maximumAddresses {
            entry = current.pointee.ai_next
            guard let raw = current.pointee.ai_addr else { continue }
            let address: IPAddress?
            switch current.pointee.ai_family {
            case AF_INET:
                let socket = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in.self)
                address = SocketAddress(socket, host: "").endpoint?.address
            case AF_INET6:
                let socket = UnsafeRawPointer(raw).loadUnaligned(as: sockaddr_in6.self)
                address = SocketAddress(socket, host: "").endpoint?.address
            default:
                address = nil
            }
            if let address, !addresses.contains(address) { addresses.append(address) }
        }
        guard !addresses.isEmpty else { return .failure(HostResolutionError(name: name, reason: "no IPv4 or IPv6 address")) }
        return .success(addresses)
    }
}

/// A name the system resolver could not turn into an address; the description is one line.
public struct HostResolutionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name.
    public var name: String
    /// The resolver's reason (`gai_strerror`).
    public var reason: String

    /// An error for `name`, for `reason`.
    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }

    /// One line naming the name and the reason.
    public var description: String { "cannot resolve \"\(name)\": \(reason)" }
}
