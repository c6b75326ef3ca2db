import KeywayCore

/// Everything that determines a simulation run. The same options (seed included) give the
/// same run, event for event.
public struct SimulationOptions: Sendable, Equatable {
    /// Nodes in the network, seeds included (`--nodes`).
    public var nodes = 10_000
    /// The one seed every random choice derives from (`--seed`).
    public var seed: UInt64 = 1
    /// Length of the measurement phase, in virtual time (`--duration`).
    public var duration: Duration = .seconds(120)
    /// One-way latency model (`--latency`).
    public var latency = LatencyModel.logNormal(median: .milliseconds(40), sigma: 0.5)
    /// Loss, duplication, reordering, corruption, partitions.
    public var faults = FaultOptions()
    /// Leaves, crashes, rejoins, address changes.
    public var churn = ChurnOptions()
    /// Seeds, phases, resolve rate, checks.
    public var workload = WorkloadOptions()
    /// Hostile nodes (`--hostile FRACTION:KIND[,KIND...]`, repeatable): none by default.
    public var hostile: [HostileSpec] = []
    /// How long a DHT query may go unanswered (`--query-timeout`); the core's production
    /// default is 2 s and the simulator keeps it unless told otherwise.
    public var queryTimeout: Duration = DHTConfiguration().queryTimeout
    /// Whether nodes hand stored items over to nodes that newly appear near them
    /// (``DHTConfiguration/handOffStoredItems``, on in production); `--no-hand-off` turns it
    /// off to show what it is for.
    public var handOff = DHTConfiguration().handOffStoredItems
    /// Whether a node refreshes the buckets farther than its closest neighbour when it has
    /// joined (``DHTConfiguration/refreshBucketsOnJoin``, on in production);
    /// `--no-join-refresh` turns it off to show what it is for.
    public var joinRefresh = DHTConfiguration().refreshBucketsOnJoin

    /// Most nodes a run may have.
    public static let maximumNodes = 1_000_000
    /// Longest measurement phase.
    public static let maximumDuration: Duration = .seconds(24 * 3600)

    /// The defaults: the 10,000-node scenario `keyway-sim` runs with no options, with the
    /// default churn (2% of nodes leave and 2% move per minute) and 1% loss.
    public init() {
        faults.loss = 0.01
        churn.rate = 0.02
        churn.ipChurnRate = 0.02
    }

    /// A quiet configuration: no loss, no churn (a base for tests and custom scenarios).
    public static func quiet(nodes: Int, seed: UInt64) -> SimulationOptions {
        var options = SimulationOptions()
        options.nodes = nodes
        options.seed = seed
        options.faults = FaultOptions()
        options.churn = ChurnOptions()
        return options
    }

    /// The DHT configuration every simulated node runs: production defaults, except
    /// ``queryTimeout``, ``handOff`` and ``joinRefresh``.
    public var dhtConfiguration: DHTConfiguration {
        var configuration = DHTConfiguration()
        configuration.queryTimeout = queryTimeout
        configuration.handOffStoredItems = handOff
        configuration.refreshBucketsOnJoin = joinRefresh
        // Simulated nodes sit in 10/8, a private range; the routing prefix limits are meant for
        // the internet, which is what the simulator models, so they apply here too.
        configuration.routingLimitsExemptLocalNetworks = false
        return configuration
    }

    /// Throws the first option that is out of range, naming it.
    public func validate() throws(OptionError) {
        func probability(_ value: Double, _ name: String) throws(OptionError) {
            guard value.isFinite, value >= 0, value <= 1 else { throw OptionError("\(name) must be between 0 and 1, not \(value)") }
        }
        guard nodes >= 2, nodes <= SimulationOptions.maximumNodes else {
            throw OptionError("--nodes must be between 2 and \(SimulationOptions.maximumNodes), not \(nodes)")
        }
        guard workload.seeds >= 1, workload.seeds < nodes else {
            throw OptionError("--seeds must be at least 1 and below --nodes (\(nodes)), not \(workload.seeds)")
        }
        guard duration > .zero, duration <= SimulationOptions.maximumDuration else { throw OptionError("--duration must be above 0 and at most 24h") }
        try probability(faults.loss, "--loss")
        guard faults.loss < 1 else { throw OptionError("--loss must be below 1: nothing would arrive") }
        try probability(faults.duplication, "--duplicate")
        try probability(faults.reordering, "--reorder")
        try probability(faults.corruption, "--corrupt")
        try probability(churn.crashFraction, "--crash-fraction")
        guard churn.rate.isFinite, churn.rate >= 0, churn.rate <= 10 else { throw OptionError("--churn must be between 0 and 10 sessions ending per node per minute") }
        guard churn.ipChurnRate.isFinite, churn.ipChurnRate >= 0, churn.ipChurnRate <= 10 else { throw OptionError("--ip-churn must be between 0 and 10 moves per node per minute") }
        guard churn.downtime >= .zero else { throw OptionError("--downtime must not be negative") }
        guard workload.resolveRate.isFinite, workload.resolveRate >= 0, workload.resolveRate <= 100_000 else {
            throw OptionError("--resolve-rate must be between 0 and 100000 per second")
        }
        guard workload.probeInterval >= .milliseconds(10) else { throw OptionError("--probe-interval must be at least 10ms") }
        guard workload.sampleInterval >= .seconds(1) else { throw OptionError("--sample-interval must be at least 1s") }
        guard workload.checkPairs >= 0, workload.checkPairs <= 1_000_000 else { throw OptionError("--check-pairs must be between 0 and 1000000") }
        guard workload.checkBound >= .seconds(1) else { throw OptionError("--check-bound must be at least 1s") }
        guard queryTimeout >= .milliseconds(10), queryTimeout <= .seconds(60) else { throw OptionError("--query-timeout must be between 10ms and 60s") }
        for partition in faults.partitions where partition.fraction <= 0 || partition.fraction > 0.5 {
            throw OptionError("--partition fraction must be above 0 and at most 0.5")
        }
        for spec in hostile {
            guard spec.fraction.isFinite, spec.fraction > 0, spec.fraction < 1, !spec.kinds.isEmpty else {
                throw OptionError("--hostile: '\(spec)' needs a fraction above 0 and below 1 and at least one kind")
            }
        }
        let hostileNodes = hostile.reduce(0) { $0 + Int($1.fraction * Double(nodes)) }
        guard hostileNodes <= nodes - workload.seeds - 2 else {
            throw OptionError("--hostile: \(hostileNodes) hostile nodes leave fewer than 2 honest nodes besides the \(workload.seeds) seeds")
        }
        guard hostile.isEmpty || hostile.reduce(0.0, { $0 + $1.fraction }) <= 0.9 else {
            throw OptionError("--hostile: the fractions add up to more than 0.9")
        }
    }

    /// The `keyway-sim` arguments that reproduce this run: every option that differs from the
    /// default, plus `--nodes` and `--seed`.
    public var arguments: [String] {
        let base = SimulationOptions()
        var out = ["--nodes", "\(nodes)", "--seed", "\(seed)"]
        func add(_ flag: String, _ value: String, _ differs: Bool) { if differs { out += [flag, value] } }
        add("--duration", DurationText.format(duration), duration != base.duration)
        add("--latency", latency.description, latency != base.latency)
        add("--loss", "\(faults.loss)", faults.loss != base.faults.loss)
        add("--duplicate", "\(faults.duplication)", faults.duplication != base.faults.duplication)
        add("--reorder", "\(faults.reordering)", faults.reordering != base.faults.reordering)
        add("--corrupt", "\(faults.corruption)", faults.corruption != base.faults.corruption)
        for partition in faults.partitions { out += ["--partition", partition.description] }
        add("--churn", "\(churn.rate)", churn.rate != base.churn.rate)
        add("--sessions", churn.sessions.rawValue, churn.sessions != base.churn.sessions)
        add("--crash-fraction", "\(churn.crashFraction)", churn.crashFraction != base.churn.crashFraction)
        add("--downtime", DurationText.format(churn.downtime), churn.downtime != base.churn.downtime)
        add("--ip-churn", "\(churn.ipChurnRate)", churn.ipChurnRate != base.churn.ipChurnRate)
        add("--seeds", "\(workload.seeds)", workload.seeds != base.workload.seeds)
        add("--join-window", DurationText.format(workload.joinWindow), workload.joinWindow != base.workload.joinWindow)
        add("--warmup", DurationText.format(workload.warmup), workload.warmup != base.workload.warmup)
        add("--resolve-rate", "\(workload.resolveRate)", workload.resolveRate != base.workload.resolveRate)
        add("--probe-interval", DurationText.format(workload.probeInterval), workload.probeInterval != base.workload.probeInterval)
        add("--heal", DurationText.format(workload.heal), workload.heal != base.workload.heal)
        add("--check-pairs", "\(workload.checkPairs)", workload.checkPairs != base.workload.checkPairs)
        add("--check-bound", DurationText.format(workload.checkBound), workload.checkBound != base.workload.checkBound)
        add("--sample-interval", DurationText.format(workload.sampleInterval), workload.sampleInterval != base.workload.sampleInterval)
        add("--query-timeout", DurationText.format(queryTimeout), queryTimeout != base.queryTimeout)
        for spec in hostile { out += ["--hostile", spec.description] }
        if workload.dualStack { out.append("--dual-stack") }
        if !handOff { out.append("--no-hand-off") }
        if !joinRefresh { out.append("--no-join-refresh") }
        return out
    }

    /// The full command line that reproduces this run (release build).
    public var commandLine: String {
        "swift run -c release keyway-sim " + arguments.joined(separator: " ")
    }
}
