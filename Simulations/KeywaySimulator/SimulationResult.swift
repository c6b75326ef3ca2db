import KeywayCore

/// Everything a run measured, summarised: what `--json` prints and `--report` writes.
public struct SimulationResult: Sendable, Codable {
    /// The headline figures (snake_case in JSON).
    public var summary: SimulationSummary
    /// Per ``WorkloadOptions/sampleInterval`` of the measurement phase.
    public var series: [SeriesPoint]
    /// Resolve latency CDF: (milliseconds, fraction of resolves at or below).
    public var latencyCDF: [CDFPoint]
    /// Freshness CDF over measured moves: (milliseconds, fraction).
    public var freshnessCDF: [CDFPoint]
    /// Descriptions of the first violations of the checks.
    public var violations: [String]

    /// Whether every check passed.
    public var passed: Bool { summary.checks.violations == 0 }
}

/// One point of a cumulative distribution.
public struct CDFPoint: Sendable, Codable, Equatable {
    /// The value.
    public var value: Double
    /// Fraction of samples at or below it.
    public var fraction: Double
}

/// One time bucket of the measurement phase.
public struct SeriesPoint: Sendable, Codable, Equatable {
    /// Seconds since the measurement phase began (bucket start).
    public var seconds: Double
    /// Workload resolves started in the bucket.
    public var resolves: Int
    /// Share of them that returned a valid record (1 when none).
    public var successRate: Double
    /// Share of them that returned the owner's newest published record.
    public var freshRate: Double
    /// Median freshness of moves made in the bucket, in ms (0 when none).
    public var freshnessP50Ms: Double
    /// Moves made in the bucket.
    public var moves: Int
    /// Live nodes at the bucket's start.
    public var liveNodes: Int
}

/// The headline figures of a run.
public struct SimulationSummary: Sendable, Codable {
    /// Nodes in the run.
    public var nodes: Int
    /// The run seed.
    public var seed: UInt64
    /// The command that reproduces the run.
    public var command: String
    /// Measurement phase length, seconds of virtual time.
    public var durationSeconds: Double
    /// Virtual time at the end of the run, seconds.
    public var virtualSeconds: Double
    /// Workload resolves that finished.
    public var resolves: Int
    /// Share that returned a valid record of the right key (0 to 1).
    public var resolveSuccessRate: Double
    /// Share that returned the newest record the owner had finished publishing (0 to 1).
    public var resolveFreshRate: Double
    /// Resolve latency, milliseconds.
    public var resolveLatencyMs: Percentiles
    /// Hops of successful resolves.
    public var hops: Percentiles
    /// Hops the ideal model (perfect routing tables, every query answered at once) needs for
    /// the same resolves (``IdealLookup``).
    public var idealHops: Percentiles
    /// Per successful resolve, its hops minus the ideal model's: how far routing tables and
    /// lookups fall short of perfect ones.
    public var hopGap: Percentiles
    /// Mean queries sent plus responses received per resolve.
    public var messagesPerResolve: Double
    /// Time from an address change until a resolve anywhere returned the new address, ms
    /// (moves never seen fresh within the probe limit count at the limit).
    public var freshnessMs: Percentiles
    /// Address changes made.
    public var moves: Int
    /// Moves whose freshness was measured (fresh or timed out).
    public var movesMeasured: Int
    /// Moves that no probe saw fresh within the probe limit.
    public var freshnessTimeouts: Int
    /// Probe resolves issued to measure freshness.
    public var probeResolves: Int
    /// Datagrams sent per live node per minute during the measurement phase.
    public var messagesPerNodePerMinute: Double
    /// Bytes sent per live node per minute during the measurement phase.
    public var bytesPerNodePerMinute: Double
    /// Graceful leaves, crashes and rejoins.
    public var leaves: Int
    /// Crashes.
    public var crashes: Int
    /// Rejoins.
    public var rejoins: Int
    /// Live nodes at the end.
    public var liveNodes: Int
    /// What the network did.
    public var network: NetworkCounters
    /// Items the cores refused for a bad signature.
    public var invalidSignaturesRefused: Int
    /// Checks.
    public var checks: CheckSummary
    /// What the hostile nodes did (`--hostile`; absent without).
    public var hostile: HostileSummary?
    /// Checksum of every delivered datagram (16 hex digits).
    public var traceHash: String
    /// Events the simulator processed.
    public var events: UInt64
    /// Wall-clock seconds the run took.
    public var wallSeconds: Double
    /// Events per wall-clock second.
    public var eventsPerSecond: Double
    /// Peak resident memory of the process, bytes.
    public var peakRssBytes: Int
    /// Peak resident memory divided by nodes.
    public var bytesPerNode: Int
}

/// The outcome of the checks.
public struct CheckSummary: Sendable, Codable {
    /// Violations found (0 means all passed).
    public var violations: Int
    /// Items whose signature and `seq` were checked.
    public var itemsChecked: Int
    /// Pairs in the convergence check.
    public var convergencePairs: Int
    /// Pairs that resolved the newest record in time.
    public var convergencePassed: Int
    /// Time pairs took to resolve the newest record, ms.
    public var convergenceMs: Percentiles
}

extension Simulation {
    /// Summarises what was measured.
    func makeResult(wallSeconds: Double) -> SimulationResult {
        let measured = metrics.resolves
        let successes = measured.filter(\.success)
        let rate = { (count: Int) in measured.isEmpty ? 1.0 : Double(count) / Double(measured.count) }
        let limitMs = options.workload.probeLimit.milliseconds
        var freshness: [Double] = []
        var timeouts = 0
        for move in metrics.moves {
            switch move.outcome {
            case let .fresh(duration): freshness.append(duration.milliseconds)
            case .timedOut: freshness.append(limitMs); timeouts += 1
            case .open, .censored: break
            }
        }
        let liveMinutes = metrics.liveNodeNanoseconds / 60e9
        let peak = ProcessStatistics.peakResidentBytes()
        var violations = checker.violations
        var violationCount = checker.violationCount
        let unfinished = checkPairs.filter { !$0.done }.count
        if unfinished > 0 {
            violationCount += unfinished
            violations.append("convergence: \(unfinished) pairs had not finished when the run stopped")
        }
        let summary = SimulationSummary(
            nodes: options.nodes, seed: options.seed, command: options.commandLine,
            durationSeconds: options.duration.secondsDouble, virtualSeconds: now.secondsSinceOrigin,
            resolves: measured.count,
            resolveSuccessRate: rate(successes.count),
            resolveFreshRate: rate(measured.filter(\.fresh).count),
            resolveLatencyMs: Percentiles(measured.map { $0.latency.milliseconds }),
            hops: Percentiles(successes.map { Double($0.hops) }),
            idealHops: Percentiles(successes.compactMap { $0.idealHops.map(Double.init) }),
            hopGap: Percentiles(successes.compactMap { sample in sample.idealHops.map { Double(sample.hops - $0) } }),
            messagesPerResolve: measured.isEmpty ? 0 : Double(measured.reduce(0) { $0 + $1.messages }) / Double(measured.count),
            freshnessMs: Percentiles(freshness),
            moves: metrics.moves.count, movesMeasured: freshness.count, freshnessTimeouts: timeouts,
            probeResolves: metrics.probeResolves,
            messagesPerNodePerMinute: liveMinutes > 0 ? Double(metrics.datagramsSent) / liveMinutes : 0,
            bytesPerNodePerMinute: liveMinutes > 0 ? Double(metrics.bytesSent) / liveMinutes : 0,
            leaves: metrics.leaves, crashes: metrics.crashes, rejoins: metrics.rejoins, liveNodes: aliveCount,
            network: network.counters, invalidSignaturesRefused: metrics.invalidSignaturesRefused,
            checks: CheckSummary(
                violations: violationCount, itemsChecked: checker.itemsChecked,
                convergencePairs: metrics.checkPairs, convergencePassed: metrics.checkPassed,
                convergenceMs: Percentiles(metrics.checkDurations)),
            hostile: hostileSummary,
            traceHash: trace.description, events: eventsProcessed, wallSeconds: wallSeconds,
            eventsPerSecond: wallSeconds > 0 ? Double(eventsProcessed) / wallSeconds : 0,
            peakRssBytes: peak, bytesPerNode: peak / max(options.nodes, 1))
        return SimulationResult(
            summary: summary, series: makeSeries(),
            latencyCDF: Simulation.cdf(measured.map { $0.latency.milliseconds }),
            freshnessCDF: Simulation.cdf(freshness), violations: violations)
    }

    private func makeSeries() -> [SeriesPoint] {
        guard let start = measurementStart else { return [] }
        let width = options.workload.sampleInterval.nanosecondsClamped
        let buckets = Int((options.duration.nanosecondsClamped + width - 1) / width)
        guard buckets > 0 else { return [] }
        var resolves = Array(repeating: 0, count: buckets), successes = resolves, fresh = resolves, moves = resolves
        var freshness = Array(repeating: [Double](), count: buckets)
        func bucket(_ at: Instant) -> Int? {
            guard at >= start else { return nil }
            let index = Int(Int64(at.nanoseconds - start.nanoseconds) / width)
            return index < buckets ? index : nil
        }
        for sample in metrics.resolves {
            guard let index = bucket(sample.start) else { continue }
            resolves[index] += 1
            if sample.success { successes[index] += 1 }
            if sample.fresh { fresh[index] += 1 }
        }
        for move in metrics.moves {
            guard let index = bucket(move.at) else { continue }
            moves[index] += 1
            switch move.outcome {
            case let .fresh(duration): freshness[index].append(duration.milliseconds)
            case .timedOut: freshness[index].append(options.workload.probeLimit.milliseconds)
            case .open, .censored: break
            }
        }
        var live = Array(repeating: 0, count: buckets)
        for (at, count) in metrics.liveNodes { if let index = bucket(at), live[index] == 0 { live[index] = count } }
        return (0..<buckets).map { index in
            SeriesPoint(
                seconds: Double(Int64(index) * width) / 1e9, resolves: resolves[index],
                successRate: resolves[index] == 0 ? 1 : Double(successes[index]) / Double(resolves[index]),
                freshRate: resolves[index] == 0 ? 1 : Double(fresh[index]) / Double(resolves[index]),
                freshnessP50Ms: Percentiles(freshness[index]).p50, moves: moves[index], liveNodes: live[index])
        }
    }

    /// The empirical CDF of `values`, thinned to at most ``cdfPoints`` points.
    static func cdf(_ values: [Double]) -> [CDFPoint] {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return [] }
        let step = max(1, sorted.count / cdfPoints)
        var points: [CDFPoint] = []
        var index = step - 1
        while index < sorted.count {
            points.append(CDFPoint(value: sorted[index], fraction: Double(index + 1) / Double(sorted.count)))
            index += step
        }
        if points.last?.fraction != 1 { points.append(CDFPoint(value: sorted[sorted.count - 1], fraction: 1)) }
        return points
    }

    /// Most points a CDF keeps.
    static let cdfPoints = 200
}
