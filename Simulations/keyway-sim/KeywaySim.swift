import ArgumentParser
import Foundation
import KeywayCore
import KeywaySimulator

/// `keyway-sim`: runs thousands of keyway DHT cores in one process on a virtual network.
struct KeywaySim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyway-sim",
        abstract: "Simulate a keyway network on the real DHT core: latency, loss, churn and IP churn, reproducible from a seed.",
        discussion: """
        Phases: join (nodes start over --join-window and bootstrap from --seeds seed nodes), publish and
        warm-up (--warmup), measurement (--duration: resolves of random keys, churn, partitions), heal
        (--heal), then a convergence check (--check-pairs pairs must resolve each other's newest record
        within --check-bound). Durations take ns, us, ms, s, m or h (a bare number is seconds).
        The same options and seed give the same run; the trace hash proves it. A failed check prints
        the command that reproduces it and exits 1; bad options exit 2.
        """)

    @Option(help: "Nodes in the network, seeds included (2 to 1000000).")
    var nodes = 10_000

    @Option(help: "The seed every random choice derives from.")
    var seed: UInt64 = 1

    @Option(help: "Length of the measurement phase (virtual time), e.g. 120s or 10m.")
    var duration = "120s"

    @Option(help: "One-way latency: fixed:50ms, uniform:20ms,80ms, lognormal:MEDIAN,SIGMA, pareto:MIN,SHAPE, regions:world or regions:5,40;40,5 (ms).")
    var latency = "lognormal:40ms,0.5"

    @Option(help: "Probability that a datagram is lost (0 to 1).")
    var loss = 0.01

    @Option(help: "Probability that a datagram is delivered twice.")
    var duplicate = 0.0

    @Option(help: "Probability that a datagram is held back (up to 200ms) so later ones overtake it.")
    var reorder = 0.0

    @Option(help: "Probability that a datagram has one byte flipped in transit.")
    var corrupt = 0.0

    @Option(help: "A partition START+LENGTH[:FRACTION] from the start of measurement, e.g. 30s+20s:0.3 (repeatable).")
    var partition: [String] = []

    @Option(help: "Session churn: sessions ending per live node per minute (0.02 = 2% of nodes leave each minute; 0 = off).")
    var churn = 0.02

    @Option(help: "Law of session lengths: exponential, pareto, weibull or lognormal.")
    var sessions = "exponential"

    @Option(name: .customLong("crash-fraction"), help: "Share of departures that are crashes (state lost) rather than graceful leaves.")
    var crashFraction = 0.5

    @Option(help: "Mean time a departed node stays away before rejoining at a new address.")
    var downtime = "30s"

    @Option(name: .customLong("ip-churn"), help: "IP churn: address changes per live node per minute (the node keeps its key and republishes; 0 = off).")
    var ipChurn = 0.02

    @Option(help: "Seed nodes (stable first contacts).")
    var seeds = 4

    @Option(name: .customLong("join-window"), help: "Window over which nodes start.")
    var joinWindow = "60s"

    @Option(help: "Time after the join window for every node to publish (first half) and settle.")
    var warmup = "30s"

    @Option(name: .customLong("resolve-rate"), help: "Resolves of random keys started per second across the network.")
    var resolveRate = 20.0

    @Option(name: .customLong("probe-interval"), help: "After an address change, how often a probe resolve of the moved key starts.")
    var probeInterval = "250ms"

    @Option(help: "Time between the end of churn and the convergence check.")
    var heal = "30s"

    @Option(name: .customLong("check-pairs"), help: "Pairs of live nodes in the convergence check (every ordered pair when fewer).")
    var checkPairs = 200

    @Option(name: .customLong("check-bound"), help: "How long a convergence pair may take to resolve the newest record.")
    var checkBound = "30s"

    @Option(name: .customLong("sample-interval"), help: "Width of the time-series buckets in the report.")
    var sampleInterval = "10s"

    @Option(name: .customLong("query-timeout"), help: "DHT query timeout of every node (the production default is 2s).")
    var queryTimeout = "2s"

    @Option(help: "Hostile nodes FRACTION:KIND[,KIND...]: that share of all nodes, dealt in turn to the kinds drop, lie, stale, forge, sybil, eclipse (repeatable; e.g. 0.2:lie or 0.1:eclipse).")
    var hostile: [String] = []

    @Flag(name: .customLong("no-hand-off"), help: "Do not hand stored items over to nodes that newly appear near them (to show what it is for).")
    var noHandOff = false

    @Flag(name: .customLong("no-join-refresh"), help: "Do not refresh the buckets farther than the closest neighbour after joining (to show what it is for).")
    var noJoinRefresh = false

    @Flag(name: .customLong("dual-stack"), help: "Give every node an IPv6 address too, published in its record.")
    var dualStack = false

    @Flag(help: "Show a progress line on stderr even when it is not a terminal.")
    var progress = false

    @Flag(help: "Print the summary as one JSON object on stdout instead of the table.")
    var json = false

    @Option(help: "Write summary.json, summary.md and SVG charts into this directory.")
    var report: String?

    /// The options these arguments describe.
    func simulationOptions() throws(OptionError) -> SimulationOptions {
        func duration(_ text: String, _ flag: String) throws(OptionError) -> Duration {
            guard let value = DurationText.parse(text) else { throw OptionError("\(flag): '\(text)' is not a duration (like 250ms, 30s or 10m)") }
            return value
        }
        var options = SimulationOptions()
        options.nodes = nodes
        options.seed = seed
        options.duration = try duration(self.duration, "--duration")
        options.latency = try LatencyModel(parsing: latency)
        options.faults.loss = loss
        options.faults.duplication = duplicate
        options.faults.reordering = reorder
        options.faults.corruption = corrupt
        options.faults.partitions = []
        for text in partition { options.faults.partitions.append(try PartitionFault(parsing: text)) }
        options.churn.rate = churn
        guard let law = DistributionKind(rawValue: sessions.lowercased()) else {
            throw OptionError("--sessions: '\(sessions)' is not one of \(DistributionKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        options.churn.sessions = law
        options.churn.crashFraction = crashFraction
        options.churn.downtime = try duration(downtime, "--downtime")
        options.churn.ipChurnRate = ipChurn
        options.workload.seeds = seeds
        options.workload.joinWindow = try duration(joinWindow, "--join-window")
        options.workload.warmup = try duration(warmup, "--warmup")
        options.workload.resolveRate = resolveRate
        options.workload.probeInterval = try duration(probeInterval, "--probe-interval")
        options.workload.heal = try duration(heal, "--heal")
        options.workload.checkPairs = checkPairs
        options.workload.checkBound = try duration(checkBound, "--check-bound")
        options.workload.sampleInterval = try duration(sampleInterval, "--sample-interval")
        options.workload.dualStack = dualStack
        options.queryTimeout = try duration(queryTimeout, "--query-timeout")
        options.hostile = []
        for text in hostile { options.hostile.append(try HostileSpec(parsing: text)) }
        options.handOff = !noHandOff
        options.joinRefresh = !noJoinRefresh
        try options.validate()
        return options
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Parses the arguments (bad ones: one line on stderr, exit 2), runs, prints, exits 1 on a failed check.
@main
enum Main {
    static func main() {
        let command: KeywaySim
        let options: SimulationOptions
        do {
            let parsed = try KeywaySim.parseAsRoot()
            guard let simulator = parsed as? KeywaySim else {
                // `keyway-sim help`: argument-parser's own help command, which prints and ends.
                var other = parsed
                try other.run()
                exit(0)
            }
            command = simulator
            options = try command.simulationOptions()
        } catch let error as OptionError {
            printError("keyway-sim: \(error.message)")
            exit(2)
        } catch {
            if KeywaySim.exitCode(for: error) == .success {
                print(KeywaySim.fullMessage(for: error))
                exit(0)
            }
            let message = KeywaySim.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
            printError("keyway-sim: \(message) (see --help)")
            exit(2)
        }

        var simulation: Simulation
        do {
            simulation = try Simulation(options: options)
        } catch {
            printError("keyway-sim: \(error.message)")
            exit(2)
        }
        let showProgress = command.progress || isatty(STDERR_FILENO) != 0
        if showProgress {
            simulation.progress = { p in
                let line = String(
                    format: "\r[keyway-sim] %@ t=%.0f/%.0fs  %.1fM events  %.0fs wall  %d live  %d resolves (%.2f%% ok)   ",
                    p.phase, p.virtualSeconds, p.plannedSeconds, Double(p.events) / 1e6, p.wallSeconds, p.liveNodes, p.resolves, p.successRate * 100)
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        let result = simulation.run()
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }

        if command.json {
            print(Report.summaryJSON(result))
        } else {
            print(Report.table(result), terminator: "")
        }
        if let directory = command.report {
            do {
                try Report.write(result, to: directory)
            } catch {
                printError("keyway-sim: could not write the report to \(directory): \(error)")
                exit(1)
            }
        }
        if !result.passed {
            printError("keyway-sim: CHECK FAILED (\(result.summary.checks.violations) violations), seed \(options.seed)")
            for violation in result.violations { printError("  \(violation)") }
            printError("reproduce with: \(options.commandLine)")
            exit(1)
        }
    }
}
