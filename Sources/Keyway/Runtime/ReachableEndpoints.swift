import KeywayCore

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
struct ReachableEndpoints: Equatable, Sendable {
    /// The endpoints, most preferred first.
    var endpoints: [Endpoint]

    /// The endpoints for a socket bound to `bound` of `family`.
    init(bound: Endpoint, family: SocketFamily, interfaces: [IPAddress], external: Endpoint?, announced: [Endpoint], limit: Int) {
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
                ReachableEndpoints.family(family, carries: address) && !ReachableEndpoints.isLinkLocal(address)
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

    /// Whether a socket of `family` sends and receives for `address`.
    static func family(_ family: SocketFamily, carries address: IPAddress) -> Bool {
        switch (address, family) {
        case (.v4, .ipv4), (.v4, .dualStack), (.v6, .ipv6), (.v6, .dualStack): return true
        default: return false
        }
    }

    /// Whether `address` is an IPv6 link-local address (`fe80::/10`).
    static func isLinkLocal(_ address: IPAddress) -> Bool {
        guard case let .v6(high, _) = address else { return false }
        return high >> 54 == 0xfe80 >> 6
    }
}
