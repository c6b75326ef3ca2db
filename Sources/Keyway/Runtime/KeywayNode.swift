import KeywayCore
import KeywayCrypto
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A running keyway node: one UDP socket, the DHT core behind it, and its endpoint record kept
/// published. The embedding API.
///
/// ```swift
/// var configuration = KeywayNodeConfiguration(keyPair: try IdentityStore.loadOrCreate(at: path))
/// configuration.seeds = [DHTSeed(endpoint: Endpoint("192.0.2.1:6881")!)]
/// let node = try await KeywayNode.start(configuration)
/// let record = try await node.resolve(peerKey, timeout: .seconds(5))
/// await node.stop()
/// ```
///
/// Threads: everything the node does runs on one NIO event loop (see `NodeEngine`); the methods
/// here hop onto it and wait, so they may be called from any task. The type is `Sendable`.
public final class KeywayNode: Sendable {
    /// The node's key: its permanent address.
    public let publicKey: Ed25519.PublicKey
    /// The address the socket is bound to (a wildcard when listening on all addresses), with the
    /// real port when port 0 was asked for.
    public let localEndpoint: Endpoint
    /// The configuration the node started with.
    public let configuration: KeywayNodeConfiguration

    private let channel: any Channel
    let engine: NIOLoopBound<NodeEngine>
    private let lifecycle = Mutex(Lifecycle())

    private struct Lifecycle: Sendable {
        var background: [Task<Void, Never>] = []
        var stopping: Task<Void, Never>?
    }

    private init(configuration: KeywayNodeConfiguration, channel: any Channel, engine: NIOLoopBound<NodeEngine>, localEndpoint: Endpoint) {
        self.publicKey = configuration.keyPair.publicKey
        self.configuration = configuration
        self.channel = channel
        self.engine = engine
        self.localEndpoint = localEndpoint
    }

    // MARK: Starting and stopping

    /// Binds the socket, restores the saved routing table, joins the DHT through the seeds and
    /// starts publishing. Returns once the socket is bound; joining goes on in the background
    /// (see ``waitUntilBootstrapped(timeout:)`` and ``events()``).
    ///
    /// Throws ``KeywayNodeError/addressInUse(_:)`` or ``KeywayNodeError/cannotBind(_:reason:)``.
    /// A contacts file that cannot be read is logged and ignored: the seeds still work.
    public static func start(_ configuration: KeywayNodeConfiguration) async throws -> KeywayNode {
        let logger = configuration.logger
        var restored = [NodeContact]()
        if let path = configuration.contactsFile {
            do {
                let contents = try ContactsFile.load(at: path, limit: configuration.maximumSavedContacts)
                restored = contents.contacts
                if contents.skippedLines > 0 {
                    logger.warning("skipped unreadable lines of the contacts file", metadata: ["path": "\(path)", "lines": "\(contents.skippedLines)"])
                }
            } catch {
                logger.warning("cannot read the contacts file; starting from the seeds", metadata: ["error": "\(error)"])
            }
        }

        let contacts = restored
        let (channel, engine, family) = try await bind(configuration, listen: configuration.listen)
        guard let local = channel.localAddress?.endpoint else {
            try? await channel.close()
            throw KeywayNodeError.cannotBind(configuration.listen, reason: "no local address")
        }
        let interfaces = local.address.isUnspecified ? interfaceAddresses(logger: logger) : []
        let node = KeywayNode(configuration: configuration, channel: channel, engine: engine, localEndpoint: local)
        try await node.onLoop { engine in
            engine.activate(bound: local, family: family, interfaces: interfaces, contacts: contacts)
        }
        node.startBackgroundWork()
        return node
    }

    /// Stops the node: lingers, at most ``KeywayNodeConfiguration/stopLingerLimit``, until the
    /// peers acknowledged every stream byte and end it sent and have been quiet for
    /// ``KeywayNodeConfiguration/stopQuietPeriod`` (at once without sessions); resets the
    /// streams still open, telling their peers; saves the routing table (when a contacts file
    /// is configured); ends every event stream, fails pending requests with
    /// ``KeywayNodeError/stopped`` and closes the socket. Safe to call more than once and from
    /// several tasks.
    public func stop() async {
        let task = lifecycle.withLock { state -> Task<Void, Never> in
            if let stopping = state.stopping { return stopping }
            for task in state.background { task.cancel() }
            state.background.removeAll()
            let stopping = Task { await self.performStop() }
            state.stopping = stopping
            return stopping
        }
        await task.value
    }

    private func performStop() async {
        let engine = self.engine
        try? await engine.eventLoop.flatSubmit { engine.value.linger() }.get()
        let contacts = try? await engine.eventLoop.submit {
            engine.value.resetOpenStreams()
            return engine.value.shutdown()
        }.get()
        if let contacts { saveContacts(contacts) }
        // The engine's socket is `channel`, or the one it opened after `channel` closed under it.
        try? await engine.eventLoop.flatSubmit { engine.value.closeSocket() }.get()
        try? await channel.close()
        configuration.logger.info("stopped", metadata: ["node": "\(publicKey.zBase32.prefix(8))"])
    }

    // MARK: Operations

    /// Publishes a record of the current endpoints now, with a new `seq`, and returns once its
    /// put has finished. (With ``KeywayNodeConfiguration/publishAutomatically`` the node does
    /// this by itself; this is for callers that want to wait for it.)
    public func publish() async throws -> PublishResult {
        let engine = self.engine
        return try await engine.eventLoop.flatSubmit { engine.value.publish() }.get()
    }

    /// The newest valid endpoint record of `key`, or `nil` when none was found within `timeout`.
    /// A node that is still joining waits for that first (within the same `timeout`).
    ///
    /// Throws ``KeywayNodeError/notAnEndpointRecord(key:_:)`` when the newest item under the key
    /// is validly signed but holds something else, and ``KeywayNodeError/stopped``.
    public func resolve(_ key: Ed25519.PublicKey, timeout: Duration) async throws -> EndpointRecord? {
        guard let item = try await resolveItem(key, timeout: timeout) else { return nil }
        do {
            return try EndpointRecord(item: item, limits: configuration.recordLimits)
        } catch {
            throw KeywayNodeError.notAnEndpointRecord(key: key.zBase32, error)
        }
    }

    /// The newest valid BEP 44 mutable item signed by `key` under `salt` (none by default; BEP 44
    /// allows at most 64 bytes), whatever it holds, or `nil` when none was found within `timeout`.
    public func resolveItem(_ key: Ed25519.PublicKey, salt: [UInt8] = [], timeout: Duration) async throws -> MutableItem? {
        let engine = self.engine
        return try await engine.eventLoop.flatSubmit { engine.value.resolve(key, salt: salt, timeout: timeout) }.get()
    }

    /// `true` once the node has joined the DHT (at once for a node with nothing to join
    /// through), `false` when `timeout` passes first.
    public func waitUntilBootstrapped(timeout: Duration) async throws -> Bool {
        let engine = self.engine
        return try await engine.eventLoop.flatSubmit { engine.value.waitUntilBootstrapped(timeout: timeout) }.get()
    }

    /// A new stream of the node's events, from now until the node stops. It starts with
    /// ``KeywayEvent/bootstrapped(contacts:)`` (with the current table size) if the node has
    /// already joined, then the latest ``KeywayEvent/published(_:storedOn:)`` event if it has
    /// published, so a subscriber never misses that the node joined, nor the record in force.
    /// Each call gives an independent stream; a consumer that falls behind loses the oldest
    /// events beyond ``KeywayNodeConfiguration/eventBufferSize``.
    public func events() async -> AsyncStream<KeywayEvent> {
        (try? await onLoop { $0.subscribe() }) ?? AsyncStream { $0.finish() }
    }

    /// The endpoints the node publishes (or would publish) now, most preferred first.
    public func reachableEndpoints() async throws -> [Endpoint] {
        try await onLoop { $0.reachable }
    }

    /// The record the node is publishing, once it has published.
    public func publishedRecord() async throws -> EndpointRecord? {
        try await onLoop { $0.core.publishedRecord }
    }

    /// The routing table's contacts.
    public func contacts() async throws -> [NodeContact] {
        try await onLoop { $0.core.routingTable.allContacts.map(\.node) }
    }

    /// The core's counters.
    public func statistics() async throws -> DHTStatistics {
        try await onLoop { $0.core.statistics }
    }

    // MARK: Internals

    /// Runs `body` on the node's event loop with the engine, and returns its result.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (NodeEngine) throws -> T) async throws -> T {
        let engine = self.engine
        return try await engine.eventLoop.submit { try body(engine.value) }.get()
    }

    private func saveContacts(_ contacts: [NodeContact]) {
        guard let path = configuration.contactsFile else { return }
        do {
            try ContactsFile.save(contacts, to: path)
            configuration.logger.debug("saved the routing table", metadata: ["path": "\(path)", "contacts": "\(contacts.count)"])
        } catch {
            configuration.logger.warning("cannot save the routing table", metadata: ["error": "\(error)"])
        }
    }

    /// Periodic work off the event loop: saving the table, scanning interfaces.
    private func startBackgroundWork() {
        var tasks = [Task<Void, Never>]()
        if configuration.contactsFile != nil, let interval = configuration.contactsSaveInterval {
            tasks.append(Task { [weak self] in
                while (try? await Task.sleep(for: interval)) != nil {
                    guard let self, let contacts = try? await self.contacts() else { return }
                    self.saveContacts(contacts)
                }
            })
        }
        if localEndpoint.address.isUnspecified {
            let interval = configuration.interfaceScanInterval
            tasks.append(Task { [weak self] in
                while (try? await Task.sleep(for: interval)) != nil {
                    guard let self else { return }
                    let addresses = KeywayNode.interfaceAddresses(logger: self.configuration.logger)
                    _ = try? await self.onLoop { $0.updateInterfaces(addresses) }
                }
            })
        }
        lifecycle.withLock { state in
            if state.stopping == nil {
                state.background = tasks
            } else {
                tasks.forEach { $0.cancel() }
            }
        }
    }

    /// The addresses of the host's interfaces that are up, in a stable order.
    static func interfaceAddresses(logger: Logger) -> [IPAddress] {
        do {
            let addresses = try System.enumerateDevices().compactMap { $0.address?.endpoint?.address }
            return Array(Set(addresses)).sorted()
        } catch {
            logger.warning("cannot list network interfaces", metadata: ["error": "\(error)"])
            return []
        }
    }
}
