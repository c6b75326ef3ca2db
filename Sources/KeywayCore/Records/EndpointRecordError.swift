/// Why an endpoint record cannot be built, or a mutable item is not one.
public enum EndpointRecordError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The record has no endpoints (for keyway, only `ep=` strings count).
    case noEndpoints
    /// `count` endpoints, more than ``EndpointRecordLimits/maximumEndpoints`` (`limit`).
    case tooManyEndpoints(count: Int, limit: Int)
    /// The endpoint has the unspecified address (`0.0.0.0`, `::`) or port 0, so no one could
    /// reach it.
    case unpublishableEndpoint(Endpoint)
    /// The endpoint appears twice.
    case duplicateEndpoint(Endpoint)
    /// The timestamp (`seq`) is negative; it counts microseconds since 1970.
    case negativeTimestamp(Int64)
    /// The bencoded value would be `length` bytes, more than BEP 44 allows (`limit`).
    case valueTooLarge(length: Int, limit: Int)
    /// The DNS packet could not be encoded (a field overflowed; not reachable within limits).
    case encoding(DNSEncodingError)
    /// The item has a salt of `length` bytes; endpoint records are published without one.
    case saltNotAllowed(length: Int)
    /// The item's `v` is not one bencoded byte string.
    case valueNotByteString
    /// The byte string in `v` is not a DNS packet the decoder accepts.
    case dns(DNSDecodingError)
    /// A TXT string starts with `ep=` but the rest (given here) is not an endpoint.
    case malformedEndpoint(String)

    /// One line naming what was wrong.
    public var description: String {
        switch self {
        case .noEndpoints:
            return "endpoint record has no endpoints"
        case let .tooManyEndpoints(count, limit):
            return "endpoint record has \(count) endpoints (at most \(limit))"
        case let .unpublishableEndpoint(endpoint):
            return "endpoint \(endpoint) cannot be published (unspecified address or port 0)"
        case let .duplicateEndpoint(endpoint):
            return "endpoint \(endpoint) appears more than once"
        case let .negativeTimestamp(value):
            return "endpoint record timestamp \(value) is negative"
        case let .valueTooLarge(length, limit):
            return "endpoint record value of \(length) bytes exceeds \(limit)"
        case let .encoding(error):
            return "endpoint record: \(error)"
        case let .saltNotAllowed(length):
            return "endpoint record item has a \(length)-byte salt; records have none"
        case .valueNotByteString:
            return "endpoint record value is not a bencoded byte string"
        case let .dns(error):
            return "endpoint record: \(error)"
        case let .malformedEndpoint(text):
            return "endpoint record has a malformed endpoint \"\(text)\""
        }
    }
}
