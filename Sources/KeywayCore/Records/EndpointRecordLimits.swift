/// Tunable limits of endpoint records, applied when building and when decoding one.
public struct EndpointRecordLimits: Hashable, Sendable {
    /// Most endpoints in one record.
    ///
    /// Eight keeps the worst case well inside BEP 44's 1000 bytes: eight IPv6 endpoints with
    /// the longest text and five-digit ports make an 804-byte value. A larger limit works
    /// until the packet outgrows the cap, which building refuses.
    public var maximumEndpoints: Int

    /// The default for ``maximumEndpoints``.
    public static let defaultMaximumEndpoints = 8

    /// Limits with the given values.
    public init(maximumEndpoints: Int = EndpointRecordLimits.defaultMaximumEndpoints) {
        self.maximumEndpoints = maximumEndpoints
    }
}
