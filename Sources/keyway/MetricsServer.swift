import Keyway
import KeywayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The `/metrics` endpoint of `--metrics HOST:PORT`: HTTP/1.1 over SwiftNIO, one request per
/// connection, `GET` (or `HEAD`) `/metrics` answered with the Prometheus text format; anything
/// else 404 or 405.
///
/// The listener is meant for a scraper on loopback or a private network, and is bounded for any
/// client: ``maximumRequestBytes`` per connection, ``requestTimeout`` from accept to close, at
/// most ``maximumConnections`` at once (more are closed at once). It serves only counters,
/// never keys or addresses of peers.
struct MetricsServer: Sendable {
    /// Bytes one connection may send (request line, headers, any body); beyond it the
    /// connection is closed. A scrape's request is a few hundred bytes.
    static let maximumRequestBytes = 8 * 1024
    /// From accept to close: a client that has not sent its request and read the answer by
    /// then is cut off (a slow client cannot hold a connection).
    static let requestTimeout: TimeAmount = .seconds(5)
    /// Connections served at once.
    static let maximumConnections = 16

    /// The listening channel.
    let channel: any Channel
    /// Where it listens, with the real port when 0 was asked for.
    let localEndpoint: Endpoint

    /// Listens on `endpoint` and serves `metrics`; a port in use is one line and exit status 2.
    static func start(on endpoint: Endpoint, metrics: NodeMetrics) async throws -> MetricsServer {
        let connections = ConnectionCount()
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: "\(endpoint.address)", port: Int(endpoint.port))
        } catch {
            throw CommandFailure.error("--metrics cannot listen on \(endpoint): \(error)")
        }
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    guard connections.acquire() else { return channel.close() }
                    channel.closeFuture.whenComplete { _ in connections.release() }
                    return channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(RequestByteLimit(maximum: maximumRequestBytes))
                        try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                        try pipeline.addHandler(MetricsHTTPHandler(metrics: metrics))
                    }
                }
                .bind(to: address).get()
            let port = channel.localAddress?.port ?? Int(endpoint.port)
            return MetricsServer(channel: channel, localEndpoint: Endpoint(address: endpoint.address, port: UInt16(clamping: port)))
        } catch {
            throw CommandFailure.error("--metrics cannot listen on \(endpoint): \(error)")
        }
    }

    /// Stops listening (connections being served finish on their own, within the timeout).
    func close() async {
        try? await channel.close()
    }
}

/// Connections open now, at most ``MetricsServer/maximumConnections``.
private final class ConnectionCount: Sendable {
    private let open = Mutex(0)

    /// Takes a place, or `false` when all are taken.
    func acquire() -> Bool {
        open.withLock { count in
            guard count < MetricsServer.maximumConnections else { return false }
            count += 1
            return true
        }
    }

    /// Gives a place back.
    func release() { open.withLock { $0 -= 1 } }
}

/// Closes a connection that sent more than `maximum` bytes, or stayed open longer than
/// ``MetricsServer/requestTimeout``.
private final class RequestByteLimit: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let maximum: Int
    private var received = 0
    private var deadline: Scheduled<Void>?

    init(maximum: Int) { self.maximum = maximum }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: MetricsServer.requestTimeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        guard received <= maximum else {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}

/// Answers one HTTP request, then closes the connection.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The Prometheus text format's media type.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let metrics: NodeMetrics
    private var head: HTTPRequestHead?
    private var answered = false

    init(metrics: NodeMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(request):
            head = request
        case .body:
            break
        case .end:
            guard let head, !answered else { return }
            answered = true
            respond(to: head, context: context)
        }
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == "/metrics" else {
            send(.notFound, body: Array("not found: only /metrics is served\n".utf8), head: request.method == .HEAD, context: context)
            return
        }
        guard request.method == .GET || request.method == .HEAD else {
            send(.methodNotAllowed, body: Array("only GET and HEAD\n".utf8), head: false, context: context, allow: true)
            return
        }
        let metrics = self.metrics
        let promise = context.eventLoop.makePromise(of: [UInt8].self)
        promise.completeWithTask { await metrics.scrape() }
        let isHead = request.method == .HEAD
        promise.futureResult.assumeIsolated().whenSuccess { [self] body in
            send(.ok, body: body, head: isHead, context: context, contentType: Self.contentType)
        }
    }

    private func send(
        _ status: HTTPResponseStatus, body: [UInt8], head isHead: Bool, context: ChannelHandlerContext,
        contentType: String = "text/plain; charset=utf-8", allow: Bool = false
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: "close")
        if allow { headers.add(name: "Allow", value: "GET, HEAD") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !isHead {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
