import KeywayCore

/// One resolve of the workload, as measured.
struct ResolveSample {
    /// When it started.
    var start: Instant
    /// How long it took.
    var latency: Duration
    /// The core's hop count for it.
    var hops: Int
    /// The hop count of the ideal model's lookup of the same key from the same node
    /// (``IdealLookup``), for successful resolves; `nil` when the model found no holder.
    var idealHops: Int?
    /// Queries sent plus responses received.
    var messages: Int
    /// A valid record of the right key came back.
    var success: Bool
    /// It was the newest record the owner had finished publishing when the resolve started.
    var fresh: Bool
}

/// One address change and how long until a resolve anywhere returned the new address.
struct MoveSample {
    /// How the measurement ended.
    enum Outcome: Equatable {
        /// Still being probed.
        case open
        /// A probe returned the new record this long after the move.
        case fresh(Duration)
        /// No probe returned it within the probe limit.
        case timedOut
        /// The node moved again or left before any probe returned it: not counted.
        case censored
    }

    /// When the node moved.
    var at: Instant
    /// Who moved.
    var node: Int32
    /// `seq` of the record with the new address.
    var newSequence: Int64
    /// Probes started so far.
    var probes = 0
    /// The result.
    var outcome = Outcome.open
}

/// Everything measured during a run, raw; ``SimulationReport`` summarises it.
struct MetricsCollector {
    var resolves: [ResolveSample] = []
    var moves: [MoveSample] = []
    var probeResolves = 0
    /// (time, live nodes) at each sample tick.
    var liveNodes: [(at: Instant, count: Int)] = []

    /// Traffic sent during the measurement phase.
    var datagramsSent = 0
    var bytesSent = 0
    /// Integral of live nodes over the measurement phase, in node-nanoseconds.
    var liveNodeNanoseconds = 0.0
    private var lastLiveChange = Instant.zero
    private(set) var measuring = false

    var leaves = 0
    var crashes = 0
    var rejoins = 0
    var publishes = 0
    var publishesStoredNowhere = 0
    var invalidSignaturesRefused = 0

    var checkPairs = 0
    var checkPassed = 0
    var checkFailed = 0
    var checkDurations: [Double] = []
    var failedPairs: [String] = []

    /// Starts or stops counting traffic and live time; `live` is the live count until now.
    mutating func setMeasuring(_ on: Bool, now: Instant, live: Int) {
        liveChanging(now: now, live: live)
        measuring = on
    }

    /// Must be called just before the number of live nodes changes, with the old number.
    @inline(__always)
    mutating func liveChanging(now: Instant, live: Int) {
        if measuring { liveNodeNanoseconds += Double(live) * Double(now.nanoseconds - lastLiveChange.nanoseconds) }
        lastLiveChange = now
    }

    /// Counts one datagram sent.
    @inline(__always)
    mutating func sent(bytes: Int) {
        guard measuring else { return }
        datagramsSent += 1
        bytesSent += bytes
    }
}
