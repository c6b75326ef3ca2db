import Collections

/// The vote that decides this node's external endpoint from what responders report in BEP 42's
/// `ip` field, built so that one operator cannot steer it.
///
/// Definitions: a *voter* is the network a report came from — the source address cut to
/// ``DHTConfiguration/observedAddressIPv4PrefixLength`` (a /24) or
/// ``DHTConfiguration/observedAddressIPv6PrefixLength`` (a /64) with ``AddressPrefix``, never the
/// node ID a responder claims (IDs cost nothing) nor its port. Each voter holds one vote, its
/// latest report; an endpoint is believed once ``DHTConfiguration/observedAddressQuorum``
/// distinct voters report it. Only answers to our own queries, from the endpoint the query went
/// to and with the ID we expected there, are counted (the caller checks that): a spoofed source
/// never sees our transaction ID.
///
/// Sources on a local network (``IPAddress/isLocalNetwork``) vote per endpoint when
/// ``DHTConfiguration/observedAddressVotesExemptLocalNetworks`` is on, so a mesh on one host's
/// loopback or one LAN still learns its address, as the routing prefix limits exempt them.
/// At most ``DHTConfiguration/observedAddressReportLimit`` voters are remembered; the one heard
/// from longest ago is forgotten first.
struct ObservedAddressVotes: Sendable {
    /// Who casts a vote: a source network on the internet, or a source endpoint on a local
    /// network when those are exempt.
    typealias Voter = NetworkKey

    private var votes: OrderedDictionary<Voter, Endpoint> = [:]
    private let sharedConfiguration: SharedDHTConfiguration
    private var configuration: DHTConfiguration { sharedConfiguration.value }

    /// No votes yet.
    init(configuration: DHTConfiguration) { self.init(shared: SharedDHTConfiguration(configuration)) }

    /// No votes yet; the limits are read from `shared`.
    init(shared: SharedDHTConfiguration) { self.sharedConfiguration = shared }

    /// Voters currently remembered.
    var voterCount: Int { votes.count }

    /// The latest report of each voter remembered (for ``NATClassifier``).
    var reports: [Endpoint] { Array(votes.values) }

    /// The voter a report from `source` counts for.
    func voter(for source: Endpoint) -> Voter {
        NetworkKey(
            source, ipv4Bits: configuration.observedAddressIPv4PrefixLength,
            ipv6Bits: configuration.observedAddressIPv6PrefixLength,
            localPerEndpoint: configuration.observedAddressVotesExemptLocalNetworks)
    }

    /// Records that `source` sees us at `observed`. `believed` is `observed` when it has just
    /// reached the quorum and differs from `current` (the endpoint believed so far), `nil`
    /// otherwise; `changed` says whether the reports changed at all (a new voter, a new report,
    /// a voter forgotten), which a voter repeating itself does not.
    mutating func record(_ observed: Endpoint, from source: Endpoint, current: Endpoint?) -> (believed: Endpoint?, changed: Bool) {
        guard !observed.address.isUnspecified, observed.port != 0 else { return (nil, false) }
        let voter = voter(for: source)
        let previous = votes.removeValue(forKey: voter)
        var changed = previous != observed
        // Make room before inserting, so the table never holds one over its limit (which would
        // double its storage for good).
        while votes.count >= max(1, configuration.observedAddressReportLimit) {
            votes.removeFirst()
            changed = true
        }
        votes[voter] = observed
        guard observed != current else { return (nil, changed) }
        let count = votes.values.reduce(0) { $0 + ($1 == observed ? 1 : 0) }
        return (count >= max(1, configuration.observedAddressQuorum) ? observed : nil, changed)
    }
}
