import KeywayCore
import KeywayCrypto
import Logging
import NIOCore

/// The core inside its event loop: the one channel handler of the node's UDP socket.
///
/// Confinement: the engine, and so the ``KeywayNodeCore`` (DHT and transport) it owns, is touched only on the channel's
/// event loop: by NIO's callbacks, by the timer (scheduled on that loop) and by ``KeywayNode``
/// through `eventLoop.submit` with a `NIOLoopBound` reference, which checks the loop on every
/// access. There are no locks and no other threads; async callers wait on promises.
///
/// Driving (the core's contract): after every call into the core the engine drains
/// ``KeywayNodeCore/pollTransmit()`` (writes, flushed once per batch of reads) and
/// ``KeywayNodeCore/pollEvent()``, then re-arms its single timer from ``KeywayNodeCore/nextTimeout()``. The
/// timer is moved only when the core's deadline becomes earlier than the armed one; firing early
/// is harmless to the core, so a busy node does not reschedule per datagram.
///
/// Decisions are the core's: what to publish and when (``EndpointPublisher``), the replication
/// check and the stop linger are part of the core's timer. The engine keeps the socket, the
/// clock, the event loop and the promises of async callers.
final class NodeEngine: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    var core: KeywayNodeCore
    let configuration: KeywayNodeConfiguration
    let clock: RuntimeClock
    let eventLoop: any EventLoop
    var logger: Logger
    var running = true

    // Socket.
    var context: ChannelHandlerContext?
    var family = SocketFamily.ipv4
    var boundEndpoint = KeywayNodeConfiguration.defaultListen
    /// Datagrams the core wanted sent where this socket cannot send (the other family).
    var unsendable = 0
    /// The channel's allocator, kept so that a send does not go through the channel for it.
    private var allocator = ByteBufferAllocator()
    /// Whether the socket's read slots were grown for transport datagrams (see
    /// ``growReadSlotsForTransport(_:)``).
    var transportReadSlots = false
    /// When the socket was last opened again after it closed under the running node, and how
    /// many closes in a row followed a reopen closely (see NodeEngine+Socket.swift).
    var lastSocketReopenAt: Instant?
    var socketReopenAttempt = 0
    /// The source of the datagram read last, as the core sees it and as NIO gave it: most
    /// datagrams the core sends are answers to it, and reusing NIO's address saves building one.
    private var lastSource: (endpoint: Endpoint, address: SocketAddress)?

    // Timer.
    private var timer: Scheduled<Void>?
    private var timerDeadline: Instant?

    // Requests from async callers (see NodeEngine+Requests.swift).
    var nextTicket: UInt64 = 0
    var resolveRequests: [UInt64: ResolveRequest] = [:]
    var resolveOperations: [OperationID: [UInt64]] = [:]
    var awaitingContacts: [UInt64] = []
    var bootstrapWaiters: [EventLoopPromise<Bool>] = []
    var publishRequests: [OperationID: EventLoopPromise<PublishResult>] = [:]
    var subscribers: [UInt64: AsyncStream<KeywayEvent>.Continuation] = [:]
    /// The latest `published` event, replayed to each new subscriber first.
    var lastPublished: KeywayEvent?
    /// A ``linger()`` waiting for the core's ``NodeEvent/stopLingerEnded``.
    var lingerWaiter: EventLoopPromise<Void>?
    /// Streams, connects and the acceptor (see NodeEngine+Streams.swift).
    var streams = EngineStreams()

    init(configuration: KeywayNodeConfiguration, clock: RuntimeClock, seed: UInt64, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.clock = clock
        self.eventLoop = eventLoop
        var logger = configuration.logger
        logger[metadataKey: "node"] = "\(configuration.keyPair.publicKey.zBase32.prefix(8))"
        self.logger = logger
        // The DHT's transaction IDs, token secrets and refresh targets come from a generator
        // keyed with secret random bytes, never from the 64-bit seed alone.
        var dhtConfiguration = configuration.dht
        if dhtConfiguration.randomSeed == nil {
            dhtConfiguration.randomSeed = SecureBytes(SecureRandom.bytes(count: KeyedRandom.seedLength))
        }
        var transport = configuration.runtimeTransport
        transport.handshakeClockOrigin = clock.wallClockAtOrigin
        core = KeywayNodeCore(
            identity: configuration.keyPair, dhtConfiguration: dhtConfiguration, transportConfiguration: transport,
            publisherConfiguration: Self.publisherConfiguration(configuration, clock: clock), seed: seed,
            transportRandom: TransportRandom(secretSeed: SecureBytes(SecureRandom.bytes(count: SecureRandom.deterministicSeedLength)))!,
            now: clock.now())
    }

    // MARK: Channel

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        allocator = context.channel.allocator
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard running else { return }
        let envelope = unwrapInboundIn(data)
        guard let source = envelope.remoteAddress.endpoint else { return }
        lastSource = (source, envelope.remoteAddress)
        let now = clock.now()
        envelope.data.withUnsafeReadableBytes { bytes in
            core.handleDatagram(bytes: bytes.assumingMemoryBound(to: UInt8.self), from: source, now: now)
        }
        if !transportReadSlots, let first = envelope.data.readableBytesView.first, TransportSpec.packetTypes.contains(first) {
            growReadSlotsForTransport(context)
        }
        // The timer is re-armed and the writes flushed once per batch, in channelReadComplete.
        drainQueues()
    }

    /// The socket starts with read slots for KRPC datagrams (``KeywayNodeConfiguration/maximumDatagramSize``),
    /// so a node that only serves the DHT keeps a small receive buffer resident. The first
    /// transport packet (a handshake, long before any size probe of path MTU discovery can
    /// follow it) grows every slot to ``TransportConfiguration/maximumProbedDatagramSize``, or
    /// larger datagrams would arrive truncated.
    private func growReadSlotsForTransport(_ context: ChannelHandlerContext) {
        transportReadSlots = true
        let slot = max(configuration.maximumDatagramSize, configuration.transport.maximumProbedDatagramSize)
        guard slot > configuration.maximumDatagramSize else { return }
        let capacity = slot * max(1, configuration.datagramsPerRead)
        do {
            try context.channel.syncOptions?.setOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: capacity))
        } catch {
            logger.warning("cannot grow the socket's read slots; large transport datagrams will be dropped", metadata: ["error": "\(error)"])
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        armTimer()
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors (port unreachable) surface here as read errors; they concern one peer,
        // whose query will time out. The socket stays open.
        logger.debug("socket error", metadata: ["error": "\(error)"])
    }

    // MARK: Driving the core

    /// Sends what the core queued, handles its events (which may queue more), re-arms the timer.
    func drain(flush: Bool) {
        drainQueues()
        if flush { context?.flush() }
        armTimer()
    }

    /// Sends what the core queued and handles its events, until both queues are empty.
    private func drainQueues() {
        startResolvesAwaitingContacts()
        var progressed = true
        while progressed {
            progressed = false
            while let datagram = core.pollTransmit() {
                send(datagram)
                progressed = true
            }
            while let event = core.pollEvent() {
                handle(event)
                progressed = true
            }
        }
    }

    private func send(_ datagram: Datagram) {
        guard let context else { return }
        let address: SocketAddress
        if let lastSource, lastSource.endpoint == datagram.endpoint {
            address = lastSource.address
        } else if let destination = SocketAddress.destination(for: datagram.endpoint, family: family) {
            address = destination
        } else {
            unsendable += 1
            return
        }
        var buffer = allocator.buffer(capacity: datagram.payload.count)
        buffer.writeBytes(datagram.payload)
        context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: address, data: buffer)), promise: nil)
    }

    private func armTimer() {
        guard running, let next = core.nextTimeout() else { return }
        if let armed = timerDeadline, armed <= next { return }
        timer?.cancel()
        timerDeadline = next
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: clock.deadline(of: next)) { [self] in
            timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard running else { return }
        core.handleTimeout(now: clock.now())
        drain(flush: true)
    }

    /// Stops the engine: no more timers or callbacks; every waiter is released.
    /// Returns the routing table's contacts, to be saved.
    func shutdown() -> [NodeContact] {
        guard running else { return core.routingTable.allContacts.map(\.node) }
        running = false
        timer?.cancel()
        timer = nil
        lingerWaiter?.succeed()
        lingerWaiter = nil
        failAllRequests()
        failAllStreams()
        return core.routingTable.allContacts.map(\.node)
    }
}
