import Keyway
import KeywayCore
import NIOCore
import NIOPosix

/// TCP for `listen --forward` and `forward`: SwiftNIO bootstraps wrapped as async channels,
/// with half-closure on, so one direction can end while the other carries on.
enum TCP {
    /// A connection: inbound and outbound bytes.
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// A listening socket and the address it is bound to.
    struct Server: Sendable {
        let channel: NIOAsyncChannel<Connection, Never>
        let localEndpoint: Endpoint
    }

    /// Connects to `endpoint`.
    static func connect(to endpoint: Endpoint) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(to: try socketAddress(endpoint)) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Connection(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
    }

    /// Connects to `service`: each address of its name in turn (resolved now), until one
    /// accepts; the last failure is thrown.
    static func connect(to service: HostPort) async throws -> Connection {
        var failure: any Error = HostResolutionError(name: service.description, reason: "no address")
        for endpoint in try await HostResolver.endpoints(of: service) {
            do {
                return try await connect(to: endpoint)
            } catch {
                failure = error
            }
        }
        throw failure
    }

    /// Listens on `endpoint`; a bad address or a port in use is one line and exit status 2.
    static func listen(on endpoint: Endpoint) async throws -> Server {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .bind(to: try socketAddress(endpoint)) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try Connection(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                    }
                }
            let port = channel.channel.localAddress?.port ?? Int(endpoint.port)
            return Server(channel: channel, localEndpoint: Endpoint(address: endpoint.address, port: UInt16(clamping: port)))
        } catch {
            throw CommandFailure.error("--local cannot listen on \(endpoint): \(error)")
        }
    }

    /// The socket address of `endpoint`.
    static func socketAddress(_ endpoint: Endpoint) throws -> SocketAddress {
        try SocketAddress(ipAddress: "\(endpoint.address)", port: Int(endpoint.port))
    }
}
