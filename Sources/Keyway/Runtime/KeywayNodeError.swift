import KeywayCore

/// Why a ``KeywayNode`` could not start or do what was asked; the description is one line.
public enum KeywayNodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Another socket already uses this address and port.
    case addressInUse(Endpoint)
    /// Binding failed for another reason (`reason` is the system's word for it).
    case cannotBind(Endpoint, reason: String)
    /// The node has been stopped.
    case stopped
    /// The node knows no endpoint it could publish (no address, nothing announced).
    case nothingToPublish
    /// The endpoints could not form a record.
    case invalidRecord(EndpointRecordError)
    /// The newest item under this key is validly signed but is not a keyway endpoint record.
    case notAnEndpointRecord(key: String, EndpointRecordError)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case let .addressInUse(endpoint): return "cannot listen on \(endpoint): address already in use"
        case let .cannotBind(endpoint, reason): return "cannot listen on \(endpoint): \(reason)"
        case .stopped: return "the node has stopped"
        case .nothingToPublish: return "no endpoint to publish: no usable address and nothing announced"
        case let .invalidRecord(error): return "cannot publish: \(error)"
        case let .notAnEndpointRecord(key, error): return "the record of \(key) is not a keyway endpoint record: \(error)"
        }
    }
}
