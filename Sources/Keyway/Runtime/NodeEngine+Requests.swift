import KeywayCore
import KeywayCrypto
import NIOCore

/// A resolve an async caller waits on.
struct ResolveRequest {
    let key: Ed25519.PublicKey
    let promise: EventLoopPromise<MutableItem?>
    var salt: [UInt8] = []
    var timeout: Scheduled<Void>?
}

/// What a finished publish reports.
public struct PublishResult: Sendable, Equatable {
    /// The record that was put.
    public var record: EndpointRecord
    /// Nodes that accepted it (this one included when it is among the closest).
    public var storedOn: Int
}

/// Requests from async callers, and the core's events that complete them.
extension NodeEngine {
    /// Starts the node once its socket is bound: the core restores `contacts`, bootstraps and
    /// decides when to publish (``KeywayNodeCore/start(socket:seeds:contacts:now:)``).
    func activate(bound: Endpoint, family: SocketFamily, interfaces: [IPAddress], contacts: [NodeContact]) {
        boundEndpoint = bound
        self.family = family
        core.start(socket: LocalSocket(bound: bound, family: family, interfaces: interfaces),
                   seeds: configuration.seeds, contacts: contacts, now: clock.now())
        logger.info("listening", metadata: [
            "bound": "\(bound)", "seeds": "\(configuration.seeds.count)", "restored-contacts": "\(contacts.count)",
            "reachable": "\(reachable.map(\.description).joined(separator: ","))",
        ])
        drain(flush: true)
    }

    // MARK: Resolve

    /// Resolves `key` (under `salt`); the future gives the newest valid item, or `nil` when none
    /// was found before `timeout`. Waits for a first contact when the seeds have not answered yet.
    func resolve(_ key: Ed25519.PublicKey, salt: [UInt8] = [], timeout: Duration) -> EventLoopFuture<MutableItem?> {
        let promise = eventLoop.makePromise(of: MutableItem?.self)
        guard running else {
            promise.fail(KeywayNodeError.stopped)
            return promise.futureResult
        }
        nextTicket += 1
        let ticket = nextTicket
        var request = ResolveRequest(key: key, promise: promise, salt: salt)
        request.timeout = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            finishResolve(ticket, item: nil)
        }
        resolveRequests[ticket] = request
        if hasNoContactsYet {
            awaitingContacts.append(ticket)
        } else {
            startResolve(ticket)
            drain(flush: true)
        }
        return promise.futureResult
    }

    /// Whether a lookup started now would have no one to ask, though contacts are on their way
    /// (the seeds have not answered yet). A lookup needs only a first contact, not a finished
    /// bootstrap: it walks toward its target by itself.
    var hasNoContactsYet: Bool {
        core.hasBootstrapSources && !core.isBootstrapped && core.routingTable.count == 0
    }

    /// Starts the resolves that waited for a first contact, once there is one.
    func startResolvesAwaitingContacts() {
        guard !awaitingContacts.isEmpty, !hasNoContactsYet else { return }
        let waiting = awaitingContacts
        awaitingContacts.removeAll()
        waiting.forEach(startResolve)
    }

    private func startResolve(_ ticket: UInt64) {
        guard let request = resolveRequests[ticket] else { return }
        let operation = core.getItem(publicKey: request.key, salt: request.salt, now: clock.now())
        resolveOperations[operation, default: []].append(ticket)
    }

    private func finishResolve(_ ticket: UInt64, item: MutableItem?) {
        guard let request = resolveRequests.removeValue(forKey: ticket) else { return }
        if let waiting = awaitingContacts.firstIndex(of: ticket) { awaitingContacts.remove(at: waiting) }
        request.timeout?.cancel()
        request.promise.succeed(item)
    }

    // MARK: Bootstrap

    /// A future that is `true` once the node has joined the DHT, `false` after `timeout`; at once
    /// `true` for a node with nothing to bootstrap from (a lone seed).
    func waitUntilBootstrapped(timeout: Duration) -> EventLoopFuture<Bool> {
        guard running else { return eventLoop.makeFailedFuture(KeywayNodeError.stopped) }
        if core.isBootstrapped || !core.hasBootstrapSources { return eventLoop.makeSucceededFuture(true) }
        let promise = eventLoop.makePromise(of: Bool.self)
        bootstrapWaiters.append(promise)
        let timer = eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            bootstrapWaiters.removeAll { $0.futureResult === promise.futureResult }
            promise.succeed(false)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }

    // MARK: Events

    /// A new stream of this node's events.
    func subscribe() -> AsyncStream<KeywayEvent> {
        let (stream, continuation) = AsyncStream<KeywayEvent>.makeStream(
            bufferingPolicy: .bufferingNewest(configuration.eventBufferSize))
        guard running else {
            continuation.finish()
            return stream
        }
        nextTicket += 1
        let ticket = nextTicket
        subscribers[ticket] = continuation
        // A late subscriber must not miss that the node has joined (it may join before anyone
        // subscribes), nor the record it publishes now.
        if core.isBootstrapped { continuation.yield(.bootstrapped(contacts: core.routingTable.count)) }
        if let lastPublished { continuation.yield(lastPublished) }
        return stream
    }

    /// Yields `event` to every stream; a stream whose consumer has gone is forgotten.
    func emit(_ event: KeywayEvent) {
        if case .published = event { lastPublished = event }
        var ended = [UInt64]()
        for (ticket, continuation) in subscribers {
            if case .terminated = continuation.yield(event) { ended.append(ticket) }
        }
        for ticket in ended { subscribers.removeValue(forKey: ticket) }
    }

    /// Handles one event of the core.
    func handle(_ event: DHTEvent) {
        switch event {
        case let .bootstrapped(contacts):
            logger.info("bootstrapped", metadata: ["contacts": "\(contacts)"])
            emit(.bootstrapped(contacts: contacts))
            for promise in bootstrapWaiters { promise.succeed(true) }
            bootstrapWaiters.removeAll()
        case let .seedsUnreachable(attempt, retryAt):
            let delay = retryAt - clock.now()
            logger.warning("no seed answered; retrying", metadata: [
                "attempt": "\(attempt)", "retry-in": "\(delay)",
                "seeds": "\(configuration.seeds.map(\.endpoint.description).joined(separator: ","))",
            ])
            emit(.seedsUnreachable(attempt: attempt, retryIn: delay))
        case let .seedKeyMismatch(endpoint):
            logger.error("seed answered with another key; ignored", metadata: ["seed": "\(endpoint)"])
            emit(.seedKeyMismatch(endpoint))
        case let .itemResolved(operation, _, item, statistics):
            logger.debug("resolved", metadata: [
                "found": "\(item != nil)", "queries": "\(statistics.queries)", "duration": "\(statistics.duration)",
            ])
            for ticket in resolveOperations.removeValue(forKey: operation) ?? [] { finishResolve(ticket, item: item) }
        case let .itemPublished(operation, target, _, storedOn, _):
            guard target == core.id else { return }
            ownPutFinished(operation, storedOn: storedOn)
        case let .externalEndpointChanged(endpoint):
            // Not published until confirmed (the publisher decides; its events follow).
            logger.info("external endpoint", metadata: ["endpoint": "\(endpoint)", "confirmed": "\(core.confirmedExternalEndpoint == endpoint)"])
            emit(.externalEndpointChanged(endpoint))
        case let .externalEndpointConfirmed(endpoint, evidence):
            logger.info("external endpoint reachable", metadata: ["endpoint": "\(endpoint)", "evidence": "\(evidence)"])
            emit(.externalEndpointConfirmed(endpoint))
        case let .natClassChanged(kind, endpoint):
            logger.info("NAT classified", metadata: ["class": "\(kind.rawValue)", "endpoint": "\(endpoint.map(\.description) ?? "-")"])
            emit(.natClassChanged(kind, endpoint: endpoint))
        }
    }

    /// Releases every waiter (the node stops) and ends every event stream.
    func failAllRequests() {
        for request in resolveRequests.values {
            request.timeout?.cancel()
            request.promise.fail(KeywayNodeError.stopped)
        }
        resolveRequests.removeAll()
        resolveOperations.removeAll()
        awaitingContacts.removeAll()
        for promise in bootstrapWaiters { promise.fail(KeywayNodeError.stopped) }
        bootstrapWaiters.removeAll()
        for promise in publishRequests.values { promise.fail(KeywayNodeError.stopped) }
        publishRequests.removeAll()
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }
}

extension TimeAmount {
    /// The same span as a `Duration`, in whole nanoseconds.
    init(_ duration: Duration) {
        self = .nanoseconds(duration.nanosecondsClamped)
    }
}
