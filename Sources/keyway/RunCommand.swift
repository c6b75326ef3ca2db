import ArgumentParser
#if canImport(FoundationEssentials)
// FoundationEssentials (ProcessInfo, FileManager, UUID) without Foundation's ICU: smaller RSS.
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import KeywayCore

/// `keyway run`: runs a node until SIGINT or SIGTERM.
///
/// Standard output carries a few lines meant for scripts and tests, each printed at once:
/// `key: <z-base-32>` and `listening: <HOST:PORT>` at start (and `metrics: <HOST:PORT>` with
/// `--metrics`), then `published: <seq> <endpoints>`
/// when a new record has been put (endpoints comma-separated), `bootstrapped: <contacts>` when it
/// has joined, and `nat: <open|eim|edm|unknown> <endpoint or ->` once the NAT is classified and
/// whenever that changes.
/// Logs go to standard error.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a node until SIGINT or SIGTERM.",
        discussion: """
            With no seed the node is a seed itself (or rejoins through the routing table it saved \
            last time). Seeds come from --seed and from $KEYWAY_SEEDS (comma-separated; applied \
            to run too, and logged: unset it for a node that must stand alone); \
            KEY@HOST:PORT checks the seed's key. The node publishes its endpoints (bound \
            addresses, the address peers see once it is shown reachable there, --announce) and \
            republishes when they change. Once peers' reports tell, it prints \
            "nat: <class> <endpoint>" on standard output, and again whenever that changes: \
            open (no NAT, unsolicited packets arrive), eim (one mapping for every peer), edm \
            (a mapping per peer: symmetric NAT) or unknown.
            """)

    @OptionGroup var identity: IdentityOptions

    @Option(name: .long, help: ArgumentHelp(
        "Where to listen (default 127.0.0.1:0 when every seed is on loopback, else [::]:0: all addresses, IPv4 and IPv6, any free port).",
        valueName: "host:port"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp(
        "A first contact: HOST:PORT or KEY@HOST:PORT, HOST an address or a host name (repeatable; the seeds of $KEYWAY_SEEDS are added, as for every command).",
        valueName: "host:port"))
    var seed: [String] = []

    @Option(name: .long, help: ArgumentHelp("An endpoint to publish besides the ones found (repeatable).", valueName: "host:port"))
    var announce: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Queries per second answered per source /24 (IPv4) or /48 (IPv6), per HOST:PORT on local networks, before the excess is dropped (default \(Int(DHTConfiguration().inboundQueryRatePerSource)); 0 turns limiting off, for load benchmarks only).",
        valueName: "n"))
    var queryRateLimit: Double?

    @OptionGroup var metrics: MetricsOptions
    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if let queryRateLimit, !(queryRateLimit >= 0 && queryRateLimit.isFinite) {
            throw ValidationError("--query-rate-limit must be a number >= 0")
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(environment: environment)
        let seedHosts = try NodeArguments.seedHosts(seed, environment: environment)
        // A seed name that does not resolve does not stop a service: the node starts with the
        // seeds that did, and tries the others again with backoff (SeedNames).
        let seedNames = SeedNames(seedHosts, logger: logger)
        let (seeds, complete) = await seedNames.resolveAll(retrying: "retrying in \(SeedNames.retryInitialDelay)")
        let listen = try await NodeArguments.listen(listen, fallback: NodeArguments.defaultListen(contacting: seeds.map(\.endpoint)))
        let announce = try await NodeArguments.announce(announce)
        let metricsEndpoint = try await metrics.endpoint()
        let (path, keyPair) = try identity.loadOrCreate()

        var configuration = KeywayNodeConfiguration(keyPair: keyPair)
        configuration.listen = listen
        configuration.seeds = seeds
        configuration.announce = announce
        configuration.contactsFile = ContactsFile.defaultPath(forIdentity: path)
        configuration.logger = logger
        if let queryRateLimit {
            configuration.dht.inboundQueryRatePerSource = queryRateLimit
            if queryRateLimit == 0 { logger.warning("query rate limiting is off (--query-rate-limit 0): one peer can flood this node") }
        }

        let signals = Signals.termination()
        let (node, printer) = try await StreamNodeRunner.start(
            configuration, status: StatusLines(toStandardError: false), seedNames: seedNames, retryUnresolved: !complete,
            metrics: metricsEndpoint, control: (ControlSocket.path(forIdentity: path), "run"))
        if let list = environment[SeedArgument.environmentVariable], !list.isEmpty {
            // Applied to `run` as to every command (a container's environment is its
            // configuration), and said so: a node meant to stand alone sees why it joined a mesh.
            logger.notice("adding the seeds of $\(SeedArgument.environmentVariable)", metadata: ["seeds": "\(list)"])
        }
        if seedHosts.isEmpty {
            logger.info("no seeds: this node is a seed; others join with --seed \(node.publicKey.zBase32)@HOST:\(node.localEndpoint.port)")
        }
        for await number in signals {
            logger.info("shutting down", metadata: ["signal": "\(number)"])
            break
        }
        await node.stop()
        await printer.value
    }
}
