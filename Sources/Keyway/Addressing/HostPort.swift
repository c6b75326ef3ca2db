import KeywayCore

/// A `HOST:PORT` text whose `HOST` may also be a DNS name: what `--seed`, `--listen`,
/// `--announce`, `--forward` and `KEYWAY_SEEDS` accept. A name is kept as it is written and
/// looked up with the system resolver when it is used (``HostResolver``), so it can be looked
/// up again when the addresses behind it change.
///
/// Literals (`192.0.2.1`, `[2001:db8::1]`) and `localhost` (`127.0.0.1`, without a lookup) are
/// parsed as ``EndpointArgument`` parses them.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    /// What `HOST` is.
    public enum Host: Hashable, Sendable {
        /// An address, written as one (or `localhost`).
        case address(IPAddress)
        /// A DNS name, in lower case, to be resolved.
        case name(String)
    }

    /// The host.
    public var host: Host
    /// The port.
    public var port: UInt16

    /// The longest DNS name, in characters without the trailing dot (RFC 1035's 255 octets on
    /// the wire).
    public static let maximumNameLength = 253
    /// The longest label of a DNS name (RFC 1035).
    public static let maximumLabelLength = 63

    /// `HOST:PORT` for an endpoint.
    public init(_ endpoint: Endpoint) {
        host = .address(endpoint.address)
        port = endpoint.port
    }

    /// `NAME:PORT`.
    public init(name: String, port: UInt16) {
        host = .name(name)
        self.port = port
    }

    /// The endpoint, when `HOST` is an address.
    public var endpoint: Endpoint? {
        guard case let .address(address) = host else { return nil }
        return Endpoint(address: address, port: port)
    }

    /// `NAME:PORT`, or the endpoint's text.
    public var description: String {
        switch host {
        case let .address(address): return Endpoint(address: address, port: port).description
        case let .name(name): return "\(name):\(port)"
        }
    }

    /// Parses `HOST:PORT` for `use`; throws an error whose description is one line.
    public static func parse(_ text: String, for use: EndpointArgument.Use) throws(EndpointArgumentError) -> HostPort {
        do {
            return HostPort(try EndpointArgument.parse(text, for: use))
        } catch {
            guard case .malformed = error else { throw error }
        }
        guard let colon = text.lastIndex(of: ":"), isHostName(text[..<colon]),
              let port = Endpoint("127.0.0.1:" + text[text.index(after: colon)...])?.port else {
            throw .malformedHost(text)
        }
        if case .contact = use, port == 0 { throw .zeroPort(text) }
        var name = text[..<colon].lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return HostPort(name: name, port: port)
    }

    /// Whether `text` is a DNS host name (RFC 1123): dot-separated labels of letters, digits and
    /// hyphens, none starting or ending with a hyphen, at most ``maximumLabelLength`` each and
    /// ``maximumNameLength`` in all, one trailing dot allowed; the last label is not all digits,
    /// so `1.2.3` is neither an address nor a name (the resolver would read it as `1.2.0.3`).
    public static func isHostName(_ text: Substring) -> Bool {
        var name = text
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty, name.count <= maximumNameLength else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.count <= maximumLabelLength, label.first != "-", label.last != "-",
                  label.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return false }
        }
        return labels.last.map { !$0.allSatisfy(\.isNumber) } ?? false
    }
}
