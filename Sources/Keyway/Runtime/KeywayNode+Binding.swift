#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KeywayCore
import KeywayCrypto
import NIOCore
import NIOPosix

/// Binding the node's one UDP socket.
///
/// One socket serves both families when listening on `[::]`: `IPV6_V6ONLY` is turned off, IPv4
/// peers arrive as IPv4-mapped IPv6 addresses and are mapped back (``SocketFamily``). One socket
/// rather than two keeps one port to publish, one read path and one place where the core's
/// datagrams go out; the price is that a host without IPv6 needs the fallback to `0.0.0.0`.
extension KeywayNode {
    /// Binds `listen` (falling back from `[::]` to `0.0.0.0` on a host without IPv6) with the
    /// engine as the channel's handler.
    static func bind(
        _ configuration: KeywayNodeConfiguration, listen: Endpoint
    ) async throws -> (any Channel, NIOLoopBound<NodeEngine>, SocketFamily) {
        let family = SocketFamily(binding: listen, dualStack: configuration.dualStack)
        do {
            let (channel, engine) = try await bindOnce(configuration, listen: listen, family: family)
            return (channel, engine, family)
        } catch let error as IOError where listen.address.isUnspecified && !listen.address.isIPv4
            && (error.errnoCode == EAFNOSUPPORT || error.errnoCode == EADDRNOTAVAIL) {
            configuration.logger.notice("no IPv6 on this host; listening on IPv4 only")
            let fallback = Endpoint(address: .v4(0), port: listen.port)
            let (channel, engine) = try await bindOnce(configuration, listen: fallback, family: .ipv4)
            return (channel, engine, .ipv4)
        }
    }

    private static func bindOnce(
        _ configuration: KeywayNodeConfiguration, listen: Endpoint, family: SocketFamily
    ) async throws -> (any Channel, NIOLoopBound<NodeEngine>) {
        let group = configuration.eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        let eventLoop = group.next()
        let clock = RuntimeClock()
        let seed = SecureRandom.uint64()
        let enginePromise = eventLoop.makePromise(of: NIOLoopBound<NodeEngine>.self)
        let bootstrap = datagramBootstrap(configuration, eventLoop: eventLoop, family: family) { channel in
            let engine = NodeEngine(configuration: configuration, clock: clock, seed: seed, eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandler(engine)
            enginePromise.succeed(NIOLoopBound(engine, eventLoop: channel.eventLoop))
        }
        let address: SocketAddress
        do {
            address = try SocketAddress.binding(listen)
        } catch {
            enginePromise.fail(error)
            throw KeywayNodeError.cannotBind(listen, reason: "\(error)")
        }
        do {
            let channel = try await bootstrap.bind(to: address).get()
            return (channel, try await enginePromise.futureResult.get())
        } catch let error as IOError {
            enginePromise.fail(error)
            if error.errnoCode == EADDRINUSE { throw KeywayNodeError.addressInUse(listen) }
            if error.errnoCode == EAFNOSUPPORT || error.errnoCode == EADDRNOTAVAIL && listen.address.isUnspecified { throw error }
            throw KeywayNodeError.cannotBind(listen, reason: String(cString: strerror(error.errnoCode)))
        } catch {
            enginePromise.fail(error)
            throw KeywayNodeError.cannotBind(listen, reason: "\(error)")
        }
    }

    /// The UDP socket's bootstrap on `eventLoop` for `family`, every option set, with
    /// `initialize` adding the handler: one place for the options, shared by the first bind and
    /// by ``NodeEngine/reopenSocket(attempt:)``.
    static func datagramBootstrap(
        _ configuration: KeywayNodeConfiguration, eventLoop: any EventLoop, family: SocketFamily,
        initialize: @escaping @Sendable (any Channel) throws -> Void
    ) -> DatagramBootstrap {
        let vectorCount = max(1, configuration.datagramsPerRead)
        var bootstrap = DatagramBootstrap(group: eventLoop)
            .channelOption(.maxMessagesPerRead, value: UInt(max(1, configuration.readsPerWakeUp)))
            // Read slots start at KRPC's size; the engine grows them for transport datagrams when
            // the first transport packet arrives (NodeEngine.growReadSlotsForTransport).
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: configuration.maximumDatagramSize * vectorCount))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try initialize(channel) }
            }
        #if os(Linux) || os(FreeBSD) || os(Android)
        if vectorCount > 1 {
            // recvmmsg: one system call reads up to vectorCount datagrams, each into its own slot.
            bootstrap = bootstrap.channelOption(.datagramVectorReadMessageCount, value: vectorCount)
        }
        #endif
        if let size = configuration.socketBufferSize {
            // Room for a window of large datagrams: with the kernel's default (about 208 KiB)
            // a stream's burst overflows the receive buffer and every drop halves its window.
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: size)
            bootstrap = bootstrap.channelOption(.socketOption(.so_sndbuf), value: size)
        }
        #if os(Linux)
        // Don't fragment, ever: path MTU discovery's probes must fail on a path that cannot
        // carry them whole rather than cross it in fragments (RFC 8899 section 3). A datagram
        // over a known MTU then fails with EMSGSIZE, which NIO drops as one failed write.
        if family == .ipv4 || family == .dualStack {
            bootstrap = bootstrap.channelOption(
                ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: CInt(IP_MTU_DISCOVER))), value: Int(IP_PMTUDISC_DO))
        }
        if family != .ipv4 {
            bootstrap = bootstrap.channelOption(
                ChannelOptions.Types.SocketOption(level: .ipv6, name: .init(rawValue: CInt(IPV6_MTU_DISCOVER))), value: Int(IPV6_PMTUDISC_DO))
        }
        #endif
        if family == .dualStack {
            // IPV6_V6ONLY lives at the IPPROTO_IPV6 level (`.socketOption(...)` would use SOL_SOCKET).
            bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 0)
        }
        return bootstrap
    }
}
