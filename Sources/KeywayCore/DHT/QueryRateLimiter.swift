/// Per-source rate limiting of incoming queries, so one peer cannot make a node spend its CPU
/// and upload answering a flood.
///
/// Definitions: each source endpoint has a token bucket holding at most `burst` tokens, refilled
/// at `rate` tokens per second; a query spends one token, and a query that finds the bucket empty
/// is dropped without an answer (BEP 5 allows silence). Sources are endpoints, not addresses, so
/// many nodes behind one address (a test mesh on 127.0.0.1, a NAT) each get their own budget.
/// At most `sourceLimit` sources are tracked: when the table is full, idle sources (whose bucket
/// has refilled) are forgotten; if none is idle, queries from new sources are dropped until one is.
public struct QueryRateLimiter: Sendable {
    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Instant
    }

    private var buckets: [Endpoint: Bucket] = [:]
    private let rate: Double
    private let burst: Double
    private let sourceLimit: Int

    /// A limiter with the configuration's rate, burst and source limit; a rate of 0 disables it.
    public init(configuration: DHTConfiguration) {
        rate = max(0, configuration.inboundQueryRatePerSource)
        burst = max(1, configuration.inboundQueryBurstPerSource)
        sourceLimit = max(1, configuration.rateLimitedSourceLimit)
    }

    /// Whether limiting is on.
    public var isEnabled: Bool { rate > 0 }

    /// Number of sources currently tracked.
    public var trackedSources: Int { buckets.count }

    /// Spends a token for a query from `source`; `false` means drop the query.
    public mutating func admit(_ source: Endpoint, now: Instant) -> Bool {
        guard rate > 0 else { return true }
        if var bucket = buckets[source] {
            bucket.tokens = min(burst, bucket.tokens + rate * (now - bucket.updated).secondsDouble)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[source] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[source] = bucket
            return true
        }
        if buckets.count >= sourceLimit {
            forgetIdle(now: now)
            guard buckets.count < sourceLimit else { return false }
        }
        buckets[source] = Bucket(tokens: burst - 1, updated: now)
        return true
    }

    /// Forgets sources whose bucket has refilled: they cost nothing to recreate.
    public mutating func forgetIdle(now: Instant) {
        guard rate > 0 else { return }
        let refill = burst / rate
        buckets = buckets.filter { (now - $0.value.updated).secondsDouble < refill }
    }
}
