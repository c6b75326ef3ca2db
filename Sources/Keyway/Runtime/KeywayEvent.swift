import KeywayCore
import KeywayCrypto

/// What a running node reports through ``KeywayNode/events()``.
public enum KeywayEvent: Sendable, Equatable {
    /// The node has joined the DHT; `contacts` is the size of its routing table then.
    case bootstrapped(contacts: Int)
    /// No seed answered; the core tries again after `retryIn` (doubling up to a limit).
    case seedsUnreachable(attempt: Int, retryIn: Duration)
    /// The seed at this endpoint answered with another key than the one given for it.
    case seedKeyMismatch(Endpoint)
    /// The endpoints the node would publish changed (interfaces, external endpoint).
    case reachableEndpointsChanged([Endpoint])
    /// Peers agree that they see this node at `endpoint` (BEP 42). It is published only once
    /// ``externalEndpointConfirmed(_:)`` follows.
    case externalEndpointChanged(Endpoint)
    /// There is evidence that peers can reach this node at its external `endpoint` unasked (an
    /// unsolicited query or handshake arrived, or the socket is bound there): it is published.
    case externalEndpointConfirmed(Endpoint)
    /// What kind of NAT the peers' reports show changed (``NATClass``), with the endpoint peers
    /// reach this node at for `open` and `eim`.
    case natClassChanged(NATClass, endpoint: Endpoint?)
    /// This node's record was put on `storedOn` nodes (this one included when it is among the
    /// closest to its own key).
    case published(EndpointRecord, storedOn: Int)
    /// An encrypted session with `peer` is established (first time, or after it restarted).
    case sessionEstablished(peer: Ed25519.PublicKey, endpoint: Endpoint)
    /// `peer` restarted (it lost its session state); streams that had reached it were reset.
    case peerRestarted(Ed25519.PublicKey)
    /// The session with `peer` now goes to `to`: an authenticated packet came from there, or a
    /// newer record lists it.
    case peerMoved(peer: Ed25519.PublicKey, to: Endpoint, reason: RebindReason)
    /// `peer` did not answer handshakes for ``TransportConfiguration/handshakeGiveUpAfter``.
    case peerUnreachable(Ed25519.PublicKey)
    /// `peer` tried to open a session and ``TransportConfiguration/peerPolicy`` refused it.
    case peerRefused(Ed25519.PublicKey)
    /// A DHT lookup of the core finished (a resolve's `get`s or a publish's `put`s), after
    /// `duration`: for metrics.
    case lookupFinished(LookupKind, duration: Duration)
}

/// What a DHT lookup was for.
public enum LookupKind: String, Sendable, Equatable {
    /// Finding an item (``KeywayNode/resolve(_:timeout:)``, a connect by key).
    case get
    /// Storing an item (publishing the node's record).
    case put
}
