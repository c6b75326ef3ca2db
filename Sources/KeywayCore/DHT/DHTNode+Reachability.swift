/// Publishing the observed endpoint only on evidence that peers can reach this node there.
///
/// The vote (``ObservedAddressVotes``) says where peers see this node; it does not say that
/// anyone can reach it there unasked: behind a NAT that drops unsolicited packets, the endpoint
/// peers see only carries answers to what this node sent. So the believed endpoint becomes
/// ``DHTNode/confirmedExternalEndpoint`` (what a node publishes) only on evidence:
/// - it is one of the socket's own endpoints (``DHTNode/setLocalEndpoints(_:)``); or
/// - a KRPC query, or an authenticated transport handshake initiation (which the caller reports
///   through ``KeywayNodeCore``), arrives from a source this node has not sent to within
///   ``DHTConfiguration/reachabilityEvidenceWindow`` (``RecentDestinations``): no mapping of
///   ours let it in. For a believed endpoint on the internet the source must be on the internet
///   too (a peer on our LAN reaches us without crossing the NAT), and of the same family.
///
/// Answers never count, whoever sends them: they come back through the mapping our query
/// opened. The confirmation holds until the believed endpoint changes; then it starts over,
/// because a new endpoint is a new mapping (or a new network) whose filtering is unknown.
///
/// What it does not prove: with a wildcard socket the core cannot see which destination address
/// an unsolicited packet was sent to, so the evidence is that this node accepts unsolicited
/// packets from the internet at all, not that the quorum's endpoint is the one they used.
/// Steering the endpoint still takes the quorum of distinct networks; a node whose sender
/// reaches it some other way (a port forward) should use `--announce`.
extension DHTNode {
    /// Tells the core the socket's own endpoints: the bound endpoint when the socket is bound to
    /// a specific address, or, bound to a wildcard, each interface address with the bound port.
    /// A believed external endpoint among them is confirmed at once (no NAT is in between).
    /// Unspecified addresses and port 0 are ignored. Call it again when they change.
    public mutating func setLocalEndpoints(_ endpoints: [Endpoint]) {
        let own = Set(endpoints.filter { !$0.address.isUnspecified && $0.port != 0 })
        // New endpoints are a new network, whose filtering is not known yet.
        if own != localEndpoints { unsolicitedInboundSeen = false }
        localEndpoints = own
        defer { classifyNAT() }
        if let believed = externalEndpoint, confirmedExternalEndpoint != believed, localEndpoints.contains(believed) {
            confirmExternalEndpoint(believed, evidence: .localEndpoint)
        }
    }

    /// Notes a datagram the transport sent to `endpoint` at `now` (the DHT notes its own), so
    /// that what comes back through the mapping it opened is not taken as unsolicited.
    mutating func recordTransportSend(to endpoint: Endpoint, now: Instant) {
        recentDestinations.record(endpoint, now: now)
    }

    /// An authenticated transport handshake initiation arrived from `source`.
    mutating func noteAuthenticatedInitiation(from source: Endpoint, now: Instant) {
        noteInbound(from: source, evidence: .unsolicitedHandshake(from: source), now: now)
    }

    /// A packet that asks for something (a query, an initiation) arrived from `source`:
    /// confirms the believed endpoint when nothing of ours let it in.
    mutating func noteInbound(from source: Endpoint, evidence: ReachabilityEvidence, now: Instant) {
        noteUnsolicitedForNAT(from: source, now: now)
        guard let believed = externalEndpoint, confirmedExternalEndpoint != believed,
              !source.address.isUnspecified, source.port != 0,
              source.address.isIPv4 == believed.address.isIPv4,
              believed.address.isLocalNetwork || !source.address.isLocalNetwork,
              !recentDestinations.contains(source, now: now) else { return }
        confirmExternalEndpoint(believed, evidence: evidence)
    }

    /// Notes that a packet asking for something arrived from `source` unsolicited (nothing of
    /// ours went there within the evidence window), for ``natClass``.
    mutating func noteUnsolicitedForNAT(from source: Endpoint, now: Instant) {
        // A source on a local network proves nothing about the internet unless the node has
        // only local addresses itself (a loopback mesh, a LAN).
        guard !unsolicitedInboundSeen, !source.address.isUnspecified, source.port != 0,
              !source.address.isLocalNetwork || localEndpoints.allSatisfy({ $0.address.isLocalNetwork }),
              !recentDestinations.contains(source, now: now) else { return }
        unsolicitedInboundSeen = true
        classifyNAT()
    }

    /// Recomputes ``natClass`` and reports a change (``DHTEvent/natClassChanged(_:endpoint:)``).
    mutating func classifyNAT() {
        let classifier = NATClassifier(
            reports: observedVotes.reports, believed: externalEndpoint, localEndpoints: localEndpoints,
            unsolicitedInboundSeen: unsolicitedInboundSeen, configuration: configuration)
        let (kind, endpoint) = classifier.classification
        guard kind != natClass || endpoint != natEndpoint else { return }
        natClass = kind
        natEndpoint = endpoint
        events.append(.natClassChanged(kind, endpoint: endpoint))
    }

    /// A new external endpoint is believed: its confirmation starts over.
    mutating func externalEndpointBelieved() {
        confirmedExternalEndpoint = nil
        guard let believed = externalEndpoint else { return }
        if !configuration.requireReachabilityEvidence {
            confirmExternalEndpoint(believed, evidence: .notRequired)
        } else if localEndpoints.contains(believed) {
            confirmExternalEndpoint(believed, evidence: .localEndpoint)
        }
    }

    private mutating func confirmExternalEndpoint(_ endpoint: Endpoint, evidence: ReachabilityEvidence) {
        confirmedExternalEndpoint = endpoint
        events.append(.externalEndpointConfirmed(endpoint, evidence: evidence))
    }
}
