/// Round-trip time estimation (RFC 6298 smoothing, with RFC 9002's ack-delay adjustment and
/// probe timeout). All values are in nanoseconds.
struct RTTEstimator: Sendable {
    /// Timer granularity assumed for the probe timeout (``TransportSpec/timerGranularityNanoseconds``).
    static var granularity: Int64 { TransportSpec.timerGranularityNanoseconds }

    /// The smoothed RTT.
    private(set) var smoothed: Int64
    /// The RTT variation.
    private(set) var variation: Int64
    /// The smallest sample seen.
    private(set) var minimum: Int64 = .max
    /// The most recent sample.
    private(set) var latest: Int64
    /// Whether any sample was taken.
    private(set) var hasSample = false

    /// An estimator that assumes `initial` until the first sample.
    init(initial: Duration) {
        let nanoseconds = initial.nanosecondsClamped
        smoothed = nanoseconds
        variation = nanoseconds / 2
        latest = nanoseconds
    }

    /// Takes a sample of `sample` nanoseconds, of which the peer held the acknowledgement
    /// `ackDelay` (capped at `maximumAckDelay`).
    mutating func update(sample: Int64, ackDelay: Int64, maximumAckDelay: Int64) {
        let sample = max(sample, 1)
        latest = sample
        minimum = min(minimum, sample)
        guard hasSample else {
            hasSample = true
            smoothed = sample
            variation = sample / 2
            return
        }
        var adjusted = sample
        let delay = min(ackDelay, maximumAckDelay)
        if adjusted - delay >= minimum { adjusted -= delay }
        variation = (3 * variation + abs(smoothed - adjusted)) / 4
        smoothed = (7 * smoothed + adjusted) / 8
    }

    /// The probe timeout before backoff: `srtt + max(4 * rttvar, granularity) + max_ack_delay`.
    func probeTimeout(maximumAckDelay: Int64) -> Int64 {
        smoothed + max(4 * variation, Self.granularity) + maximumAckDelay
    }

    /// How long after a later packet was acknowledged an earlier one counts as lost:
    /// `9/8 * max(srtt, latest_rtt)`, at least the granularity.
    var lossDelay: Int64 {
        max(max(smoothed, latest) * 9 / 8, Self.granularity)
    }
}
