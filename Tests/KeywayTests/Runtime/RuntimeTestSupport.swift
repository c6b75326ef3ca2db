import Foundation
import Keyway
import KeywayCore
import KeywayCrypto
import Logging
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers for tests that run real nodes on 127.0.0.1. Every wait has a deadline; nothing sleeps
/// to let something happen.
enum RuntimeTestSupport {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The loopback address every test node binds.
    static let loopback = IPAddress.v4(0x7f00_0001)
    /// A deadline generous enough for a loaded 2-core machine, short enough to fail fast.
    static let deadline: Duration = .seconds(10)

    /// A logger that drops everything (tests read events, not logs).
    /// With `KEYWAY_TEST_LOG=debug` (or another level) in the environment, the nodes log to
    /// standard error, for debugging a test.
    static let quietLogger = Logger(label: "keyway-test") { label in
        guard let text = ProcessInfo.processInfo.environment["KEYWAY_TEST_LOG"], let level = Logger.Level(rawValue: text) else {
            return SwiftLogNoOpLogHandler()
        }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }

    /// A configuration on 127.0.0.1 with a free port, quiet.
    static func configuration(
        keyPair: Ed25519.KeyPair = .generate(), seeds: [DHTSeed] = [], contactsFile: String? = nil,
        publishAutomatically: Bool = false
    ) -> KeywayNodeConfiguration {
        var configuration = KeywayNodeConfiguration(keyPair: keyPair)
        configuration.listen = Endpoint(address: loopback, port: 0)
        configuration.seeds = seeds
        configuration.contactsFile = contactsFile
        configuration.publishAutomatically = publishAutomatically
        configuration.logger = quietLogger
        return configuration
    }

    /// The seed form of a running node, with its key.
    static func seed(of node: KeywayNode) -> DHTSeed {
        DHTSeed(endpoint: node.localEndpoint, expectedID: NodeID(publicKey: node.publicKey))
    }

    /// Runs `body` with a new empty directory, then removes it.
    static func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
        var template = Array((NSTemporaryDirectory() + "/keyway-runtime-test-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw Failure("mkdtemp failed: \(errno)") }
        let path = String(cString: created)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// The first event of `stream` that `matches`, or a failure after `timeout`.
    static func firstEvent(
        in stream: AsyncStream<KeywayEvent>, timeout: Duration = deadline, where matches: @escaping @Sendable (KeywayEvent) -> Bool
    ) async throws -> KeywayEvent {
        try await withThrowingTaskGroup(of: KeywayEvent?.self) { group in
            group.addTask {
                for await event in stream where matches(event) { return event }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw Failure("no matching event within \(timeout)") }
            return first
        }
    }
}

/// Nodes a test started; ``stopAll()`` stops every one, whatever happened in the test.
final class NodeBag: Sendable {
    private let nodes = Mutex<[KeywayNode]>([])

    /// Starts a node and remembers it.
    func start(_ configuration: KeywayNodeConfiguration) async throws -> KeywayNode {
        let node = try await KeywayNode.start(configuration)
        nodes.withLock { $0.append(node) }
        return node
    }

    /// Stops every node started through this bag.
    func stopAll() async {
        for node in nodes.withLock({ $0 }) { await node.stop() }
    }

    /// Runs `body` with a new bag, then stops its nodes, also when `body` throws.
    static func with<R>(_ body: (NodeBag) async throws -> R) async throws -> R {
        let bag = NodeBag()
        do {
            let result = try await body(bag)
            await bag.stopAll()
            return result
        } catch {
            await bag.stopAll()
            throw error
        }
    }
}
