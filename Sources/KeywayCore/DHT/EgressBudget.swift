/// A global budget of bytes per second for the answers a node sends, as libtorrent's
/// `dht_upload_rate_limit`: whatever mix of sources asks, answering never takes more than
/// ``DHTConfiguration/egressBytesPerSecond`` of upload (beyond a burst of
/// ``DHTConfiguration/egressBurstBytes``), which also bounds what a node can be made to reflect
/// at a spoofed victim. An answer that does not fit is not sent (BEP 5 allows silence); the
/// node's own queries are not charged (they are bounded by the pending-query limit).
///
/// Definitions: a token bucket of bytes, refilled continuously at the rate; off when the rate is
/// 0 or query rate limiting is off (``DHTConfiguration/inboundQueryRatePerSource`` = 0, for load
/// benchmarks).
public struct EgressBudget: Sendable {
    private var available: Double
    private var updated: Instant
    private let rate: Double
    private let burst: Double

    /// A full budget at `now`.
    public init(configuration: DHTConfiguration, now: Instant) {
        let enabled = configuration.inboundQueryRatePerSource > 0 && configuration.egressBytesPerSecond > 0
        rate = enabled ? Double(configuration.egressBytesPerSecond) : 0
        burst = Double(max(1, configuration.egressBurstBytes))
        available = burst
        updated = now
    }

    /// Whether the budget applies.
    public var isEnabled: Bool { rate > 0 }

    /// Takes `bytes` from the budget; `false` (and nothing taken) when they do not fit.
    public mutating func spend(_ bytes: Int, now: Instant) -> Bool {
        guard rate > 0 else { return true }
        if now > updated {
            available = min(burst, available + rate * (now - updated).secondsDouble)
            updated = now
        }
        let cost = Double(max(0, bytes))
        guard available >= cost else { return false }
        available -= cost
        return true
    }
}
