import Keyway
import KeywayCore
import KeywayCrypto
import Logging

/// The steps of `keyway demo`, each timed and reported on standard output as it ends.
struct DemoMesh {
    /// How long any one step may take before the demo gives up on it.
    static let stepTimeout: Duration = .seconds(20)
    /// The loopback address node `index` binds. On Linux every address of 127.0.0.0/8 is
    /// local, so each node gets a /24 of its own (127.A.B.1 with A.B the index plus 256): a
    /// mesh of thousands of nodes then looks to every per-prefix limit of the core as it would
    /// on a real network, instead of as one host. `moved` gives the address a node moves to
    /// (127.A.B.2). Elsewhere (macOS has only 127.0.0.1 on lo0) every node binds 127.0.0.1.
    static func loopback(_ index: Int, moved: Bool = false) -> IPAddress {
        #if os(Linux)
        let prefix = UInt32(0x7f00_0000) | UInt32((index + 256) & 0xffff) << 8
        return .v4(prefix | (moved ? 2 : 1))
        #else
        return .v4(0x7f00_0001)
        #endif
    }
    /// What the first line calls the addresses.
    static var addressSummary: String {
        #if os(Linux)
        return "127.A.B.1, a /24 each"
        #else
        return "127.0.0.1"
        #endif
    }

    let size: Int
    let stateDirectory: String
    let logger: Logger
    private var nodes: [KeywayNode] = []
    private var failures = 0
    private let clock = ContinuousClock()

    init(size: Int, stateDirectory: String, logger: Logger) {
        self.size = size
        self.stateDirectory = stateDirectory
        self.logger = logger
    }

    /// Runs every step; `true` when all succeeded. Always stops every node.
    mutating func run() async -> Bool {
        let started = clock.now
        Console.out("keyway demo: \(size) nodes on loopback (\(DemoMesh.addressSummary)), real UDP sockets, one process")
        do {
            try await startSeed()
            try await startOthers()
            try await publishAll()
            try await resolveAll()
            try await moveOne()
        } catch {
            failures += 1
            Console.out("  stopped: \(error)")
        }
        for node in nodes { await node.stop() }
        let total = clock.now - started
        if failures == 0 {
            Console.out("ok: every step succeeded in \(DemoMesh.format(total))")
        } else {
            Console.out("FAILED: \(failures) step(s) failed (\(DemoMesh.format(total)))")
        }
        return failures == 0
    }

    // MARK: Steps

    private mutating func startSeed() async throws {
        let (elapsed, seed) = try await timed { try await start(keyPair: .generate(), index: 0, seeds: []) }
        nodes.append(seed)
        report(1, "started the seed at \(seed.localEndpoint)", elapsed)
    }

    private mutating func startOthers() async throws {
        let seed = DHTSeed(endpoint: nodes[0].localEndpoint, expectedID: NodeID(publicKey: nodes[0].publicKey))
        let (elapsed, joined) = try await timed { () async throws -> [KeywayNode] in
            var started = [KeywayNode]()
            var progress = DemoProgress(step: 2, total: size - 1, what: "nodes started")
            for index in 1..<size {
                started.append(try await start(keyPair: .generate(), index: index, seeds: [seed]))
                progress.advance()
            }
            progress.end()
            nodes += started
            return try await withThrowingTaskGroup(of: Bool.self) { group in
                for node in started { group.addTask { try await node.waitUntilBootstrapped(timeout: DemoMesh.stepTimeout) } }
                var all = [Bool]()
                var progress = DemoProgress(step: 2, total: started.count, what: "nodes bootstrapped")
                for try await ok in group {
                    all.append(ok)
                    progress.advance()
                }
                progress.end()
                return all.allSatisfy { $0 } ? started : []
            }
        }
        guard joined.count == size - 1 else {
            failures += 1
            report(2, "FAILED: not every node bootstrapped within \(DemoMesh.stepTimeout)", elapsed)
            throw DemoFailure("bootstrap")
        }
        var sizes = [Int]()
        for node in nodes { sizes.append((try? await node.contacts().count) ?? 0) }
        let average = Double(sizes.reduce(0, +)) / Double(sizes.count)
        report(2, "\(size - 1) nodes bootstrapped from the seed (routing tables: \(sizes.min() ?? 0)-\(sizes.max() ?? 0) contacts, \(DemoMesh.decimal(average)) on average)", elapsed)
    }

    private mutating func publishAll() async throws {
        let nodes = self.nodes
        let (elapsed, replicas) = try await timed {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for node in nodes { group.addTask { try await node.publish().storedOn } }
                var all = [Int]()
                var progress = DemoProgress(step: 3, total: nodes.count, what: "records published")
                for try await stored in group {
                    all.append(stored)
                    progress.advance()
                }
                progress.end()
                return all
            }
        }
        let average = Double(replicas.reduce(0, +)) / Double(max(1, replicas.count))
        report(3, "\(replicas.count) records published (each stored on \(replicas.min() ?? 0)-\(replicas.max() ?? 0) nodes, \(DemoMesh.decimal(average)) on average)", elapsed)
    }

    private mutating func resolveAll() async throws {
        let nodes = self.nodes
        let size = self.size
        let (elapsed, outcomes) = try await timed {
            try await withThrowingTaskGroup(of: (Bool, Duration).self) { group in
                for index in nodes.indices {
                    let resolver = nodes[index], target = nodes[(index + size / 2) % size]
                    group.addTask {
                        let clock = ContinuousClock()
                        let start = clock.now
                        let record = try await resolver.resolve(target.publicKey, timeout: DemoMesh.stepTimeout)
                        return (record?.endpoints.contains(target.localEndpoint) == true, clock.now - start)
                    }
                }
                var all = [(Bool, Duration)]()
                var progress = DemoProgress(step: 4, total: nodes.count, what: "keys resolved")
                for try await outcome in group {
                    all.append(outcome)
                    progress.advance()
                }
                progress.end()
                return all
            }
        }
        let correct = outcomes.filter(\.0).count
        let times = outcomes.map(\.1).sorted()
        let summary = "\(correct)/\(outcomes.count) keys resolved from another node to the right address "
            + "(lookup median \(DemoMesh.format(times[times.count / 2])), slowest \(DemoMesh.format(times.last ?? .zero)))"
        guard correct == outcomes.count else {
            failures += 1
            report(4, "FAILED: " + summary, elapsed)
            throw DemoFailure("resolve")
        }
        report(4, summary, elapsed)
    }

    private mutating func moveOne() async throws {
        let index = size / 3 == 0 ? 1 : size / 3
        let moving = nodes[index]
        let oldEndpoint = moving.localEndpoint
        let (restartTime, moved) = try await timed { () async throws -> KeywayNode in
            await moving.stop()
            var replacement = try await start(keyPair: moving.configuration.keyPair, index: index, seeds: [], moved: true)
            while replacement.localEndpoint == oldEndpoint {
                // Only 127.0.0.1 here, and port 0 chose the same port again (rare): ask once more.
                await replacement.stop()
                replacement = try await start(keyPair: moving.configuration.keyPair, index: index, seeds: [], moved: true)
            }
            return replacement
        }
        nodes[index] = moved
        let key = moved.publicKey.zBase32
        report(5, "node \(index) (\(key.prefix(12))...) stopped at \(oldEndpoint), restarted at \(moved.localEndpoint) "
            + "with the same key and its saved routing table, no seeds", restartTime)

        let (publishTime, published) = try await timed { try await moved.publish() }
        report(6, "it published its new record (seq \(published.record.timestampMicroseconds), stored on \(published.storedOn) nodes)", publishTime)

        let resolver = nodes[(index + 1) % size]
        var attempts = 0
        let (resolveTime, found) = try await timed { () async throws -> Bool in
            let deadline = ContinuousClock.now + DemoMesh.stepTimeout
            while ContinuousClock.now < deadline {
                attempts += 1
                let record = try await resolver.resolve(moved.publicKey, timeout: DemoMesh.stepTimeout)
                if record?.endpoints.contains(moved.localEndpoint) == true { return true }
            }
            return false
        }
        guard found else {
            failures += 1
            report(7, "FAILED: node \(index) was not resolved at \(moved.localEndpoint) within \(DemoMesh.stepTimeout)", resolveTime)
            throw DemoFailure("move")
        }
        report(7, "another node resolved it at its new address \(moved.localEndpoint) (\(attempts) lookup\(attempts == 1 ? "" : "s"))", resolveTime)
    }

    // MARK: Helpers

    private func start(keyPair: Ed25519.KeyPair, index: Int, seeds: [DHTSeed], moved: Bool = false) async throws -> KeywayNode {
        var configuration = KeywayNodeConfiguration(keyPair: keyPair)
        configuration.listen = Endpoint(address: DemoMesh.loopback(index, moved: moved), port: 0)
        configuration.seeds = seeds
        configuration.publishAutomatically = false
        configuration.contactsFile = "\(stateDirectory)/node-\(index).contacts"
        configuration.logger = logger
        return try await KeywayNode.start(configuration)
    }

    private func timed<T>(_ body: () async throws -> T) async throws -> (Duration, T) {
        let start = clock.now
        let value = try await body()
        return (clock.now - start, value)
    }

    private func report(_ step: Int, _ text: String, _ elapsed: Duration) {
        Console.out("  \(step). \(text): \(DemoMesh.format(elapsed))")
    }

    /// `12 ms` or `1.23 s`.
    static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        return "\(decimal(seconds, places: 2)) s"
    }

    /// `value` with `places` decimals.
    static func decimal(_ value: Double, places: Int = 1) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale), fraction = scaled % Int(scale)
        let text = String(fraction)
        return "\(whole).\(String(repeating: "0", count: max(0, places - text.count)))\(text)"
    }
}

/// A demo step that failed (already reported).
struct DemoFailure: Error, CustomStringConvertible {
    let step: String
    init(_ step: String) { self.step = step }
    var description: String { "the \(step) step failed" }
}
