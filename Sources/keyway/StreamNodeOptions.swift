import ArgumentParser
import Keyway
import KeywayCore
import KeywayCrypto

/// The node options of `listen`, `connect` and `forward`: where to listen, whom to ask first,
/// who may open sessions, the mesh secret.
struct StreamNodeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Where to listen (default 127.0.0.1:0 when every seed and peer address is on loopback, else [::]:0: all addresses, IPv4 and IPv6, any free port).",
        valueName: "host:port"))
    var listen: String?

    @Option(name: .long, help: ArgumentHelp(
        "A first contact: HOST:PORT or KEY@HOST:PORT, HOST an address or a host name (repeatable; also $KEYWAY_SEEDS).",
        valueName: "host:port"))
    var seed: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Only this key may open sessions with this node (repeatable; listen needs it, --allow-file, --mesh-secret-file or --allow-any).",
        valueName: "key"))
    var allow: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "A file of keys that may open sessions, one a line, # comments (repeatable; adds to --allow).",
        valueName: "file"))
    var allowFile: [String] = []

    @Flag(name: .long, help: ArgumentHelp(
        "Let any key open sessions (listen refuses to start without a restriction unless this is given)."))
    var allowAny = false

    @Option(name: .long, help: ArgumentHelp(
        "A file holding the mesh's shared secret: only nodes with the same secret can talk (Noise IKpsk2).",
        valueName: "file"))
    var meshSecretFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds between looks at the network interfaces, so a new address is published (default 30).",
        valueName: "seconds"))
    var interfaceScanInterval: Double?

    /// A configuration for `keyPair` with these options; `peerEndpoints` (a peer's
    /// `KEY@HOST:PORT`) count with the seeds for the default listening address
    /// (``NodeArguments/defaultListen(contacting:)``).
    /// Seed names are resolved here (a name that does not resolve is one line, exit status 2);
    /// the returned ``SeedNames`` resolves them again while the node runs.
    func configuration(
        keyPair: Ed25519.KeyPair, environment: [String: String], peerEndpoints: [Endpoint] = []
    ) async throws -> (KeywayNodeConfiguration, SeedNames) {
        var configuration = KeywayNodeConfiguration(keyPair: keyPair)
        let hosts = try NodeArguments.seedHosts(seed, environment: environment)
        configuration.seeds = try await NodeArguments.seeds(hosts)
        let names = SeedNames(hosts, logger: configuration.logger)
        _ = await names.resolveAll()
        configuration.listen = try await NodeArguments.listen(
            listen, fallback: NodeArguments.defaultListen(contacting: configuration.seeds.map(\.endpoint) + peerEndpoints))
        if allowAny, !allow.isEmpty || !allowFile.isEmpty {
            throw CommandFailure.error("--allow-any contradicts --allow and --allow-file; give one or the other")
        }
        if !allow.isEmpty || !allowFile.isEmpty {
            var keys = Set<Ed25519.PublicKey>()
            for text in allow {
                do {
                    keys.insert(try Ed25519.PublicKey(parsing: text))
                } catch {
                    throw CommandFailure.error("--allow: invalid key \"\(text)\": \(error)")
                }
            }
            for path in allowFile {
                do {
                    keys.formUnion(try AllowFile.load(fromFile: path))
                } catch {
                    throw CommandFailure.error("--allow-file: \(error)")
                }
            }
            configuration.transport.peerPolicy = .only(keys)
        }
        if let meshSecretFile {
            do {
                configuration.transport.presharedKey = try MeshSecret.load(fromFile: meshSecretFile)
            } catch {
                throw CommandFailure.error("\(error)")
            }
        }
        if let interfaceScanInterval {
            configuration.interfaceScanInterval = try Self.duration(interfaceScanInterval, option: "--interface-scan-interval")
        }
        return (configuration, names)
    }

    /// Whether these options limit who may open sessions: an allow-list or a mesh secret.
    var restrictsPeers: Bool { !allow.isEmpty || !allowFile.isEmpty || meshSecretFile != nil }

    /// Throws, for a command that hands peers a local service (`listen`), unless the options
    /// limit who may open sessions or `--allow-any` says that anyone may (issue 12, attack 12:
    /// a throw-away key reached the forwarded service of a listener started without `--allow`).
    func requirePeerRestriction(command: String) throws {
        guard restrictsPeers || allowAny else {
            throw CommandFailure.error(
                "\(command) would let any key reach it: give --allow KEY, --allow-file FILE or --mesh-secret-file FILE"
                    + " (or --allow-any to accept every key)")
        }
    }

    /// A configuration for a client node (`connect`, `forward`): read-only in the DHT (BEP 43) and
    /// publishing nothing, so it can share an identity with a running `keyway run`; its routing
    /// table is kept beside the identity at `identityPath`.
    func clientConfiguration(
        keyPair: Ed25519.KeyPair, identityPath: String, environment: [String: String], peer: PeerArgument
    ) async throws -> (KeywayNodeConfiguration, SeedNames) {
        var (configuration, names) = try await self.configuration(keyPair: keyPair, environment: environment, peerEndpoints: peer.endpoints)
        configuration.contactsFile = ContactsFile.defaultPath(forIdentity: identityPath)
        configuration.publishAutomatically = false
        configuration.dht.readOnly = true
        return (configuration, names)
    }

    /// `seconds` as a duration, when it is a sensible number of seconds for `option`.
    static func duration(_ seconds: Double, option: String) throws -> Duration {
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw CommandFailure.error("\(option) must be between 0 and 86400 seconds, got \(seconds)")
        }
        return .nanoseconds(Int64(seconds * 1e9))
    }
}

/// A peer as the command line names it: `KEY` (found through the DHT) or `KEY@HOST:PORT`
/// (dialled there first; a name is resolved and every address dialled).
struct PeerArgument {
    var key: Ed25519.PublicKey
    var endpoints: [Endpoint]

    /// Parses `KEY` or `KEY@HOST:PORT` and resolves `HOST`; every failure is one line and exit
    /// status 2.
    init(parsing text: String, option: String) async throws {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        do {
            key = try Ed25519.PublicKey(parsing: parts[0])
        } catch {
            throw CommandFailure.error("\(option)invalid key \"\(parts[0])\": \(error)")
        }
        endpoints = []
        if parts.count == 2 {
            let hostPort: HostPort
            do {
                hostPort = try HostPort.parse(String(parts[1]), for: .contact)
            } catch {
                throw CommandFailure.error("\(option)\(error)")
            }
            do {
                endpoints = try await HostResolver.endpoints(of: hostPort)
            } catch {
                throw CommandFailure.error("\(option)\(error)")
            }
        }
    }
}

/// Status lines for scripts: on standard output, or on standard error when standard output
/// carries a stream's bytes.
struct StatusLines: Sendable {
    /// Whether the lines go to standard error.
    var toStandardError: Bool

    /// Prints `line`.
    func print(_ line: String) {
        if toStandardError { Console.err(line) } else { Console.out(line) }
    }

    /// Prints the `published:`, `bootstrapped:` and `nat:` lines of `events` as they happen,
    /// until the node stops (`nat: <class> <endpoint>`, `-` without one, once the class is known
    /// and whenever it changes). A record published before `events` was subscribed still comes first: a new
    /// event stream replays the node's latest `published` and `bootstrapped` events.
    func follow(_ events: AsyncStream<KeywayEvent>) -> Task<Void, Never> {
        Task {
            var lastPublished: Int64?
            var natKnown = false
            for await event in events {
                switch event {
                case let .natClassChanged(kind, endpoint):
                    guard kind != .unknown || natKnown else { continue }
                    natKnown = true
                    print("nat: \(kind.rawValue) \(endpoint.map(\.description) ?? "-")")
                case let .published(record, _):
                    // Once per record: puts of the same record again (republishing) are logged only.
                    guard record.timestampMicroseconds != lastPublished else { continue }
                    lastPublished = record.timestampMicroseconds
                    print("published: \(record.timestampMicroseconds) \(record.endpoints.map(\.description).joined(separator: ","))")
                case let .bootstrapped(contacts):
                    print("bootstrapped: \(contacts)")
                default:
                    break
                }
            }
        }
    }
}
