/// What kind of NAT (if any) stands between this node and the internet, as far as the peers'
/// reports tell (issue 13, item 1). Classified from what the node already has: the BEP 42 votes
/// (``ObservedAddressVotes``: the latest endpoint each source network saw this node at), the
/// socket's own endpoints, and whether unsolicited traffic arrives (``RecentDestinations``).
public enum NATClass: String, Sendable, Equatable, CaseIterable {
    /// Peers see the socket's own endpoint, and unsolicited queries or handshakes arrive: no NAT,
    /// no filtering firewall.
    case open
    /// Endpoint-independent mapping (RFC 4787 §4.1): at least
    /// ``DHTConfiguration/natClassificationMinimumVoters`` source networks see the node at one
    /// and the same endpoint. Full cone, restricted and port-restricted NATs are all this;
    /// hole punching between two of them works directly.
    case eim
    /// Endpoint-dependent mapping (symmetric NAT): source networks see the node's address with
    /// different ports and no port gathers a quorum, so an endpoint learned from one peer is
    /// useless to another.
    case edm
    /// Too few reports, or reports that agree on nothing yet.
    case unknown
}

/// The classification's inputs, gathered by ``DHTNode``, and the rule.
///
/// Rule, over the votes for the address most voters report (`A`, with `n` voters):
/// - `open` when the believed external endpoint is one of the socket's own and unsolicited
///   traffic arrived (from a source not sent to within ``DHTConfiguration/reachabilityEvidenceWindow``);
/// - `eim` when `n >= natClassificationMinimumVoters` and one endpoint at `A` has the quorum and
///   at least half of the `n` votes (a NAT that rebound its port has old and new votes for a while);
/// - `edm` when `n >= natClassificationMinimumVoters`, no endpoint at `A` has the quorum, and the
///   votes at `A` name at least `natClassificationMinimumVoters` distinct ports;
/// - `unknown` otherwise.
struct NATClassifier: Sendable {
    /// The latest reports, one per voter (``ObservedAddressVotes/reports``).
    var reports: [Endpoint]
    /// The endpoint the quorum believes (``DHTNode/externalEndpoint``).
    var believed: Endpoint?
    /// The socket's own endpoints.
    var localEndpoints: Set<Endpoint>
    /// Whether unsolicited traffic arrived since the node's endpoints last changed.
    var unsolicitedInboundSeen: Bool
    let configuration: DHTConfiguration

    /// The class and the endpoint peers reach the node at (the believed one; `nil` for `edm`
    /// and `unknown`).
    var classification: (NATClass, Endpoint?) {
        if let believed, localEndpoints.contains(believed), unsolicitedInboundSeen { return (.open, believed) }
        var votersByAddress: [IPAddress: Int] = [:]
        for report in reports { votersByAddress[report.address, default: 0] += 1 }
        guard let (address, voters) = votersByAddress.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }),
              voters >= max(1, configuration.natClassificationMinimumVoters) else { return (.unknown, nil) }
        var votesByPort: [UInt16: Int] = [:]
        for report in reports where report.address == address { votesByPort[report.port, default: 0] += 1 }
        let top = votesByPort.values.max() ?? 0
        if let believed, believed.address == address, let count = votesByPort[believed.port],
           count >= max(1, configuration.observedAddressQuorum), 2 * count >= voters {
            return (.eim, believed)
        }
        if top < max(1, configuration.observedAddressQuorum), votesByPort.count >= max(1, configuration.natClassificationMinimumVoters) {
            return (.edm, nil)
        }
        return (.unknown, nil)
    }
}
