import KeywayCore

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
    /// Peers agree that they see this node at `endpoint` (BEP 42).
    case externalEndpointChanged(Endpoint)
    /// This node's record was put on `storedOn` nodes (this one included when it is among the
    /// closest to its own key).
    case published(EndpointRecord, storedOn: Int)
}
