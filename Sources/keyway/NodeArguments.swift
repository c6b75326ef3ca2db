import Keyway
import KeywayCore
import Logging

/// Turning the address texts of the command line into endpoints and seeds; every failure is
/// one line and exit status 2. `HOST` may be a DNS name: it is resolved here with the system
/// resolver (``HostResolver``), every address kept where several can be used (seeds,
/// `--announce`, a peer's `KEY@HOST:PORT`), the first where one is needed (`--listen`).
enum NodeArguments {
    /// `--listen`, or `fallback`; a name is resolved and its first address bound.
    static func listen(_ text: String?, fallback: Endpoint, option: String = "--listen") async throws -> Endpoint {
        guard let text else { return fallback }
        let hostPort: HostPort
        do {
            hostPort = try HostPort.parse(text, for: .listen)
        } catch {
            throw CommandFailure.error("\(option) \(error)")
        }
        return try await endpoints(of: hostPort, option: option)[0]
    }

    /// The endpoints of `hostPort`, or a command failure naming `option`.
    static func endpoints(of hostPort: HostPort, option: String) async throws -> [Endpoint] {
        do {
            return try await HostResolver.endpoints(of: hostPort)
        } catch {
            throw CommandFailure.error("\(option) \(error)")
        }
    }

    /// The listening address used when `--listen` is not given: `127.0.0.1:0` when every
    /// address the node is told to contact (`contacts`: its seeds, a peer's `KEY@HOST:PORT`) is
    /// an IPv4 loopback address, `[::1]:0` when each is an IPv6 loopback address, else
    /// ``KeywayNodeConfiguration/defaultListen`` (`[::]:0`).
    ///
    /// A node whose only contacts are on this host can reach no one else, so it neither binds
    /// every interface nor publishes the host's external addresses: a loopback mesh stays on
    /// loopback (issue 15: a "loopback" test dialled the host's external address).
    static func defaultListen(contacting contacts: [Endpoint]) -> Endpoint {
        guard !contacts.isEmpty, contacts.allSatisfy(\.address.isLoopback) else { return KeywayNodeConfiguration.defaultListen }
        if contacts.contains(where: \.address.isIPv4) { return Endpoint(address: EndpointArgument.localhostAddress, port: 0) }
        return Endpoint(address: .v6(high: 0, low: 1), port: 0)
    }

    /// `--announce` endpoints: every address of a name.
    static func announce(_ texts: [String]) async throws -> [Endpoint] {
        var endpoints = [Endpoint]()
        for text in texts {
            let hostPort: HostPort
            do {
                hostPort = try HostPort.parse(text, for: .contact)
            } catch {
                throw CommandFailure.error("--announce \(error)")
            }
            for endpoint in try await Self.endpoints(of: hostPort, option: "--announce") where !endpoints.contains(endpoint) {
                endpoints.append(endpoint)
            }
        }
        return endpoints
    }

    /// `--seed` values, then the seeds of `KEYWAY_SEEDS`, without repeats, as written (names
    /// not resolved yet).
    static func seedHosts(_ texts: [String], environment: [String: String]) throws -> [SeedHost] {
        var seeds = [SeedHost]()
        do {
            for text in texts { seeds.append(try SeedArgument.parseHost(text)) }
            if let list = environment[SeedArgument.environmentVariable] {
                seeds += try SeedArgument.parseHostList(list)
            }
        } catch {
            throw CommandFailure.error("\(error)")
        }
        var unique = [SeedHost]()
        for seed in seeds where !unique.contains(seed) { unique.append(seed) }
        return unique
    }

    /// The seeds `hosts` stand for, every address of each name; a name that does not resolve
    /// is a command failure (one line, exit status 2).
    static func seeds(_ hosts: [SeedHost]) async throws -> [DHTSeed] {
        var seeds = [DHTSeed]()
        for host in hosts {
            do {
                seeds += try await host.resolve()
            } catch {
                throw CommandFailure.error("seed \(error)")
            }
        }
        return unique(seeds)
    }

    /// `seeds` without repeats, in order.
    static func unique(_ seeds: [DHTSeed]) -> [DHTSeed] {
        var result = [DHTSeed]()
        for seed in seeds where !result.contains(seed) { result.append(seed) }
        return result
    }

    /// The error of a node that could not start, as a command failure.
    static func startFailure(_ error: any Error) -> CommandFailure {
        CommandFailure.error("\(error)")
    }
}

/// The seeds of a running node that were given by name, kept resolved: a name that did not
/// resolve at start (`run` starts anyway) is tried again with backoff until it does, and every
/// name is resolved again when no seed address answered
/// (``KeywayEvent/seedsUnreachable(attempt:retryIn:)``), since the seed may have moved. When
/// the addresses differ from those in use, the node joins through the new ones
/// (``KeywayNode/bootstrap(through:)``).
actor SeedNames {
    /// The first wait before a name that did not resolve is tried again; doubled each time.
    static let retryInitialDelay: Duration = .seconds(1)
    /// The longest wait between two tries of a name that does not resolve.
    static let retryMaximumDelay: Duration = .seconds(60)

    /// How a host becomes seeds: ``SeedHost/resolve()`` (the system resolver), or a test's.
    typealias Resolver = @Sendable (SeedHost) async throws -> [DHTSeed]

    private let hosts: [SeedHost]
    private let logger: Logger
    private let resolver: Resolver
    private var node: KeywayNode?
    /// The last addresses each host resolved to.
    private var resolved: [SeedHost: [DHTSeed]] = [:]

    /// Hosts as written, with no addresses yet, resolved by `resolver`.
    init(_ hosts: [SeedHost], logger: Logger, resolver: @escaping Resolver = { try await $0.resolve() }) {
        self.hosts = hosts
        self.logger = logger
        self.resolver = resolver
    }

    /// Whether any host is a name (else there is nothing to look up again).
    nonisolated var hasNames: Bool {
        hosts.contains { if case .name = $0.host.host { return true } else { return false } }
    }

    /// Resolves every host once; names that fail are logged (with `retrying` saying what
    /// happens next) and left out. Returns the seeds, and whether every host resolved.
    func resolveAll(retrying: String? = nil) async -> (seeds: [DHTSeed], complete: Bool) {
        var complete = true
        for host in hosts {
            do {
                resolved[host] = try await resolver(host)
            } catch {
                complete = false
                logger.warning("seed \(error)\(retrying.map { "; \($0)" } ?? "")")
            }
        }
        return (seeds, complete)
    }

    /// The seeds of the latest resolutions, in the hosts' order, without repeats.
    private var seeds: [DHTSeed] { NodeArguments.unique(hosts.flatMap { resolved[$0] ?? [] }) }

    /// Follows `node`: retries names that have not resolved (when `retryUnresolved`), and
    /// resolves every name again each time no seed answered. Ends when the node stops or the
    /// task is cancelled.
    func follow(_ node: KeywayNode, retryUnresolved: Bool) async {
        self.node = node
        let events = await node.events()
        await withTaskGroup(of: Void.self) { group in
            if retryUnresolved, resolved.count < hosts.count {
                group.addTask { await self.retryUntilResolved() }
            }
            if hasNames {
                group.addTask {
                    for await event in events {
                        if case .seedsUnreachable = event { await self.refresh() }
                    }
                }
            }
            // The event stream ends when the node stops; the retries end with the task.
            await group.next()
            group.cancelAll()
        }
    }

    private func retryUntilResolved() async {
        var delay = Self.retryInitialDelay
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
            delay = min(delay * 2, Self.retryMaximumDelay)
            if await refresh(retrying: "retrying in \(delay)") { return }
        }
    }

    /// Resolves again; the node joins through the seeds when they changed. Returns whether
    /// every host resolved.
    @discardableResult
    private func refresh(retrying: String? = nil) async -> Bool {
        let before = seeds
        let (after, complete) = await resolveAll(retrying: retrying)
        if after != before, !after.isEmpty, let node {
            logger.info("seed names resolved to new addresses", metadata: ["seeds": "\(after.map(\.endpoint.description).joined(separator: ","))"])
            try? await node.bootstrap(through: after)
        }
        return complete
    }
}
