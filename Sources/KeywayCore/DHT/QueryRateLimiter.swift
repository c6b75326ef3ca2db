import Collections

/// Per-source rate limiting of incoming queries, so one peer cannot make a node spend its CPU
/// and upload answering a flood.
///
/// Definitions: a *source* is the network a query comes from, the address cut to
/// ``DHTConfiguration/rateLimitIPv4PrefixLength`` (a /24) or
/// ``DHTConfiguration/rateLimitIPv6PrefixLength`` (a /48) with ``AddressPrefix``, never its
/// port: a host that opens 4,100 sockets (attack 8 of issue 12) is still one source. On a local
/// network (loopback, a LAN, one host's pod network: one operator's) a source is the endpoint
/// when ``DHTConfiguration/rateLimitLocalSourcesPerEndpoint`` is on, so many nodes on one
/// address each keep their budget. Each source has a token bucket holding at most `burst`
/// tokens, refilled at `rate` tokens per second; a query spends one token, and a query that finds
/// the bucket empty is dropped without an answer (BEP 5 allows silence).
///
/// At most ``DHTConfiguration/rateLimitedSourceLimit`` sources are tracked. A new source always
/// gets a bucket: when the table is full, the source heard from longest ago is forgotten (least
/// recently used), so filling the table never locks newcomers out. A forgotten flooder starts
/// again from a full bucket, but only by being the least recent of every tracked source, which
/// takes as many distinct sources as the table holds, and prefixes are what cost an attacker.
public struct QueryRateLimiter: Sendable {
    /// Who a bucket belongs to: a network on the internet, or an endpoint on a local network.
    public typealias Source = NetworkKey

    private struct Bucket: Sendable {
        var tokens: Double
        var updated: Instant
        /// Position in ``recency`` of this bucket's latest use.
        var stamp: UInt64
    }

    /// One use of a source, as remembered in ``recency``.
    private struct Use: Sendable {
        var source: Source
        var stamp: UInt64
    }

    private var buckets: [Source: Bucket] = [:]
    /// Sources in order of use, oldest first, with the stamp of that use; entries whose stamp
    /// is no longer their bucket's are stale and skipped (an LRU list in amortised O(1)).
    private var recency = Deque<Use>()
    private var nextStamp: UInt64 = 0
    private let rate: Double
    private let burst: Double
    private let sourceLimit: Int
    private let ipv4PrefixLength: Int
    private let ipv6PrefixLength: Int
    private let localPerEndpoint: Bool

    /// A limiter with the configuration's rate, burst and source limit; a rate of 0 disables it.
    public init(configuration: DHTConfiguration) {
        rate = max(0, configuration.inboundQueryRatePerSource)
        burst = max(1, configuration.inboundQueryBurstPerSource)
        sourceLimit = max(1, configuration.rateLimitedSourceLimit)
        ipv4PrefixLength = configuration.rateLimitIPv4PrefixLength
        ipv6PrefixLength = configuration.rateLimitIPv6PrefixLength
        localPerEndpoint = configuration.rateLimitLocalSourcesPerEndpoint
    }

    /// Whether limiting is on.
    public var isEnabled: Bool { rate > 0 }

    /// Number of sources currently tracked.
    public var trackedSources: Int { buckets.count }

    /// The source a query from `endpoint` is charged to.
    public func source(of endpoint: Endpoint) -> Source {
        NetworkKey(endpoint, ipv4Bits: ipv4PrefixLength, ipv6Bits: ipv6PrefixLength, localPerEndpoint: localPerEndpoint)
    }

    /// Spends a token for a query from `endpoint`; `false` means drop the query.
    public mutating func admit(_ endpoint: Endpoint, now: Instant) -> Bool {
        guard rate > 0 else { return true }
        let source = source(of: endpoint)
        nextStamp += 1
        recency.append(Use(source: source, stamp: nextStamp))
        if var bucket = buckets[source] {
            bucket.tokens = min(burst, bucket.tokens + rate * max(0, (now - bucket.updated).secondsDouble))
            bucket.updated = now
            bucket.stamp = nextStamp
            let admitted = bucket.tokens >= 1
            if admitted { bucket.tokens -= 1 }
            buckets[source] = bucket
            compactRecency()
            return admitted
        }
        while buckets.count >= sourceLimit { evictLeastRecent() }
        buckets[source] = Bucket(tokens: burst - 1, updated: now, stamp: nextStamp)
        compactRecency()
        return true
    }

    /// Forgets sources whose bucket has refilled: they cost nothing to recreate.
    public mutating func forgetIdle(now: Instant) {
        guard rate > 0 else { return }
        let refill = burst / rate
        buckets = buckets.filter { (now - $0.value.updated).secondsDouble < refill }
        recency = Deque(recency.filter { buckets[$0.source]?.stamp == $0.stamp })
    }

    /// Forgets the source used longest ago.
    private mutating func evictLeastRecent() {
        while let oldest = recency.popFirst() {
            if buckets[oldest.source]?.stamp == oldest.stamp {
                buckets.removeValue(forKey: oldest.source)
                return
            }
        }
        // Unreachable: every bucket has its latest use in `recency`. Stay bounded regardless.
        buckets.removeAll()
    }

    /// Drops stale entries once they outnumber live ones, so ``recency`` stays within twice
    /// the tracked sources (each use is appended once and copied at most once).
    private mutating func compactRecency() {
        guard recency.count > 2 * max(buckets.count, 64) else { return }
        recency = Deque(recency.filter { buckets[$0.source]?.stamp == $0.stamp })
    }
}
