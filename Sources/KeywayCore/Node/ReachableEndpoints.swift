/// Which destinations one UDP socket can reach.
public enum SocketFamily: Sendable, Equatable {
    /// An `AF_INET` socket: IPv4 only.
    case ipv4
    /// An `AF_INET6` socket bound to a specific IPv6 address, or with `IPV6_V6ONLY` on.
    case ipv6
    /// An `AF_INET6` socket bound to `[::]` with `IPV6_V6ONLY` off: both families, IPv4 as
    /// IPv4-mapped addresses.
    case dualStack

    /// The family of a socket bound to `endpoint`, with `dualStack` when `[::]` is asked to
    /// serve IPv4 too.
    public init(binding endpoint: Endpoint, dualStack: Bool) {
        switch endpoint.address {
        case .v4: self = .ipv4
        case .v6: self = endpoint.address.isUnspecified && dualStack ? .dualStack : .ipv6
        }
    }

    /// Whether a socket of this family sends and receives for `address`.
    public func carries(_ address: IPAddress) -> Bool {
        switch (address, self) {
        case (.v4, .ipv4), (.v4, .dualStack), (.v6, .ipv6), (.v6, .dualStack): return true
        default: return false
        }
    }
}

/// The node's UDP socket as the shell sees it: an input of the core, which has no sockets.
/// The shell binds it and lists the host's interfaces (I/O); what to publish from that is the
/// core's decision (``ReachableEndpoints``).
public struct LocalSocket: Sendable, Equatable {
    /// The address the socket is bound to (a wildcard when listening on all addresses), with
    /// the real port.
    public var bound: Endpoint
    /// Which destinations it reaches.
    public var family: SocketFamily
    /// The host's interface addresses (only looked at when ``bound`` is a wildcard).
    public var interfaces: [IPAddress]

    /// A socket bound to `bound`, of `family`, on a host with `interfaces`.
    public init(bound: Endpoint, family: SocketFamily, interfaces: [IPAddress] = []) {
        self.bound = bound
        self.family = family
        self.interfaces = interfaces
    }

    /// The socket's own endpoints, for the DHT's reachability evidence
    /// (``DHTNode/setLocalEndpoints(_:)``): the bound endpoint, or, bound to a wildcard, each
    /// interface address of the socket's families with its port.
    public var endpoints: [Endpoint] {
        guard bound.address.isUnspecified else { return [bound] }
        return interfaces.filter { family.carries($0) }.map { Endpoint(address: $0, port: bound.port) }
    }
}

/// What a node publishes in its endpoint record: every endpoint where peers can reach it, and
/// never a wildcard.
///
/// In order of preference (the record lists the most preferred first):
/// 1. the `--announce` endpoints, because an operator who names an address knows best (a port
///    forward, a load balancer);
/// 2. the external endpoint peers observe (BEP 42 `ip`), once a quorum of them agree and there
///    is evidence that peers can reach the node there unasked (``DHTNode/confirmedExternalEndpoint``);
/// 3. the bound endpoint, or, when bound to a wildcard, each interface address of the socket's
///    families with the bound port.
///
/// Interface addresses leave out IPv6 link-local addresses (`fe80::/10`: useless without a
/// scope), and loopback addresses unless nothing else is there (a host with only `lo` is only
/// reachable from itself). Duplicates are dropped and the list is cut at the record's limit.
public struct ReachableEndpoints: Equatable, Sendable {
    /// The endpoints, most preferred first.
    public var endpoints: [Endpoint]

    /// The endpoints for `socket`, with the confirmed `external` endpoint and the `announced`
    /// ones, at most `limit`.
    public init(socket: LocalSocket, external: Endpoint?, announced: [Endpoint], limit: Int) {
        self.init(bound: socket.bound, family: socket.family, interfaces: socket.interfaces,
                  external: external, announced: announced, limit: limit)
    }

    /// The endpoints for a socket bound to `bound` of `family`.
    public init(bound: Endpoint, family: SocketFamily, interfaces: [IPAddress], external: Endpoint?, announced: [Endpoint], limit: Int) {
        var result = [Endpoint]()
        var seen = Set<Endpoint>()
        func add(_ endpoint: Endpoint) {
            guard result.count < limit, !endpoint.address.isUnspecified, endpoint.port != 0,
                  seen.insert(endpoint).inserted else { return }
            result.append(endpoint)
        }
        announced.forEach(add)
        if let external { add(external) }
        if bound.address.isUnspecified {
            let usable = interfaces.filter { address in
                family.carries(address) && !ReachableEndpoints.isLinkLocal(address)
            }
            let routable = usable.filter { !$0.isLoopback }
            for address in (routable.isEmpty ? usable : routable) {
                add(Endpoint(address: address, port: bound.port))
            }
        } else {
            add(bound)
        }
        endpoints = result
    }

    /// Whether `address` is an IPv6 link-local address (`fe80::/10`).
    public static func isLinkLocal(_ address: IPAddress) -> Bool {
        guard case let .v6(high, _) = address else { return false }
        return high >> 54 == 0xfe80 >> 6
    }
}
