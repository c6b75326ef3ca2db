import KeywayCore

/// The `HOST:PORT` texts of the command line and of configuration: where to listen, which seeds
/// to contact, which addresses to announce.
///
/// `HOST` is an IPv4 literal (`192.0.2.1`), an IPv6 literal in brackets (`[2001:db8::1]`) or
/// `localhost`, which means `127.0.0.1`. Other names are not looked up here: ``HostPort`` accepts
/// them where the command line allows DNS names, and ``HostResolver`` resolves them.
public enum EndpointArgument {
    /// The one host name accepted, and the address it stands for.
    public static let localhostName = "localhost"
    /// What ``localhostName`` means.
    public static let localhostAddress = IPAddress.v4(0x7f00_0001)

    /// Which endpoints a use admits.
    public enum Use: Sendable {
        /// An address to bind: the wildcard (`0.0.0.0`, `[::]`) and port 0 (any free port) are allowed.
        case listen
        /// An address to send to or to publish: neither wildcard nor port 0.
        case contact
    }

    /// Parses `HOST:PORT` for `use`; throws an error whose description is one line.
    public static func parse(_ text: String, for use: Use) throws(EndpointArgumentError) -> Endpoint {
        let endpoint: Endpoint
        if let parsed = Endpoint(text) {
            endpoint = parsed
        } else if let parsed = parseLocalhost(text) {
            endpoint = parsed
        } else {
            throw .malformed(text)
        }
        if case .contact = use {
            guard !endpoint.address.isUnspecified else { throw .unspecifiedAddress(text) }
            guard endpoint.port != 0 else { throw .zeroPort(text) }
        }
        return endpoint
    }

    /// `localhost:PORT` in any letter case, or `nil`.
    private static func parseLocalhost(_ text: String) -> Endpoint? {
        let prefix = localhostName + ":"
        guard text.count > prefix.count, text.prefix(prefix.count).lowercased() == prefix else { return nil }
        guard let port = Endpoint("127.0.0.1:" + text.dropFirst(prefix.count))?.port else { return nil }
        return Endpoint(address: localhostAddress, port: port)
    }
}

/// Why a `HOST:PORT` text was refused; the description is one line naming the text.
public enum EndpointArgumentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not `IPv4:PORT`, `[IPv6]:PORT` or `localhost:PORT`.
    case malformed(String)
    /// `0.0.0.0` or `[::]` where a reachable address is needed.
    case unspecifiedAddress(String)
    /// Port 0 where a real port is needed.
    case zeroPort(String)
    /// Not `IPv4:PORT`, `[IPv6]:PORT` or `NAME:PORT`, where a DNS name is allowed too
    /// (``HostPort/parse(_:for:)``).
    case malformedHost(String)

    /// One line naming the text and what was wrong.
    public var description: String {
        switch self {
        case let .malformed(text):
            return "\"\(text)\" is not HOST:PORT (HOST: an IPv4 address, [IPv6] in brackets, or localhost; PORT: 0-65535)"
        case let .unspecifiedAddress(text):
            return "\"\(text)\" is a wildcard address, which cannot be contacted"
        case let .zeroPort(text):
            return "\"\(text)\" has port 0, which cannot be contacted"
        case let .malformedHost(text):
            return "\"\(text)\" is not HOST:PORT (HOST: an IPv4 address, [IPv6] in brackets, or a host name; PORT: 0-65535)"
        }
    }
}
