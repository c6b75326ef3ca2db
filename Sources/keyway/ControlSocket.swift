#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import KeywayCore
import Logging
import NIOCore
import NIOPosix

/// The control socket of a running `keyway run` or `keyway listen`: a Unix domain socket beside
/// the identity (`<identity>.sock`, so `<state-dir>/identity.sock`), mode 0600, which answers
/// `keyway status`.
///
/// The protocol is one line each way: the client sends `status\n`, the node answers one JSON
/// document (``StatusDocument``) and a newline, and closes. Only the owner (and root) may
/// connect: the socket file is created 0600 (Linux checks write permission on it at
/// `connect`), inside the identity's directory, which the identity store keeps owner-only.
enum ControlSocket {
    /// The file name suffix after the identity's path.
    static let suffix = ".sock"
    /// Bytes a client may send before its request line ends; more closes the connection.
    static let maximumRequestBytes = 256
    /// From accept to close: a client that has not asked and read by then is cut off.
    static let requestTimeout: TimeAmount = .seconds(5)
    /// The longest path a Unix domain socket may have (`sun_path`, with its terminating zero).
    static let maximumPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// The control socket of the identity at `identityPath`.
    static func path(forIdentity identityPath: String) -> String { identityPath + suffix }

    /// Serves `status` for `node` at `path`. Returns `nil`, after a warning, when another live
    /// node answers there (two nodes sharing an identity) or the socket cannot be made; a
    /// stale socket file (no one answers) is replaced.
    static func serve(
        _ node: KeywayNode, at path: String, command: String, startedAt: ContinuousClock.Instant, logger: Logger
    ) async -> (any Channel)? {
        guard path.utf8.count <= maximumPathLength else {
            logger.warning("no control socket: its path is longer than \(maximumPathLength) bytes", metadata: ["path": "\(path)"])
            return nil
        }
        if (try? exchange(path: path, request: "status\n")) != nil {
            logger.warning("no control socket: another node with this identity answers there", metadata: ["path": "\(path)"])
            return nil
        }
        let context = StatusContext(node: node, command: command, startedAt: startedAt)
        do {
            // Created owner-only from the start (no moment at 0755), then chmod for certainty.
            let previous = umask(0o177)
            defer { umask(previous) }
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ControlHandler(context: context))
                    }
                }
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            chmod(path, 0o600)
            return channel
        } catch {
            logger.warning("no control socket", metadata: ["path": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    /// Closes `channel` and removes its socket file.
    static func close(_ channel: any Channel, path: String) async {
        try? await channel.close()
        unlink(path)
    }

    /// Sends `request` to the control socket at `path` and returns the answer, read until the
    /// node closes (blocking, bounded by a 5 s receive timeout). Throws when no node answers.
    static func exchange(path: String, request: String) throws -> [UInt8] {
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw CommandFailure.error("cannot make a socket: \(String(cString: strerror(errno)))") }
        defer {
            #if canImport(Glibc)
            Glibc.close(fd)
            #else
            Darwin.close(fd)
            #endif
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count <= maximumPathLength else { throw CommandFailure.error("control socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw CommandFailure.error(String(cString: strerror(errno))) }
        let message = Array(request.utf8)
        var sent = 0
        while sent < message.count {
            let count = message.withUnsafeBytes { send(fd, $0.baseAddress! + sent, message.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw CommandFailure.error("cannot send to \(path): \(String(cString: strerror(errno)))") }
            sent += count
        }
        var answer = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                if count < 0 { throw CommandFailure.error("no answer from \(path): \(String(cString: strerror(errno)))") }
                break
            }
            answer += buffer[..<count]
        }
        return answer
    }
}

/// What the control socket's handler needs to answer.
struct StatusContext: Sendable {
    let node: KeywayNode
    let command: String
    let startedAt: ContinuousClock.Instant

    /// The status document, as JSON and a newline.
    func answer() async -> [UInt8] {
        guard let status = try? await node.status() else { return Array("{\"error\":\"the node is stopping\"}\n".utf8) }
        let uptime = ContinuousClock.now - startedAt
        let document = StatusDocument(status, command: command, uptime: uptime)
        return ((try? document.json()) ?? Array("{}".utf8)) + [0x0a]
    }
}

/// Reads one request line, answers it, closes.
private final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let context: StatusContext
    private var request = [UInt8]()
    private var answered = false
    private var deadline: Scheduled<Void>?

    init(context: StatusContext) { self.context = context }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: ControlSocket.requestTimeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { deadline?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        request += unwrapInboundIn(data).readableBytesView
        guard request.count <= ControlSocket.maximumRequestBytes else {
            context.close(promise: nil)
            return
        }
        guard let end = request.firstIndex(of: 0x0a) else { return }
        answered = true
        var line = String(decoding: request[..<end], as: UTF8.self)
        while line.last == " " || line.last == "\r" { line.removeLast() }
        let channel = context.channel
        guard line == "status" else {
            let buffer = channel.allocator.buffer(string: "{\"error\":\"unknown request; only status\"}\n")
            context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        let promise = context.eventLoop.makePromise(of: [UInt8].self)
        let status = self.context
        promise.completeWithTask { await status.answer() }
        promise.futureResult.whenComplete { result in
            let bytes = (try? result.get()) ?? []
            channel.writeAndFlush(channel.allocator.buffer(bytes: bytes)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// The JSON `keyway status --json` prints: snake_case keys, durations in seconds (RTT in
/// milliseconds), endpoints as `HOST:PORT`, keys in z-base-32.
struct StatusDocument: Codable, Equatable {
    struct Published: Codable, Equatable {
        var seq: Int64
        var endpoints: [String]
    }

    struct Bucket: Codable, Equatable {
        var index: Int
        var contacts: Int
        var replacements: Int
    }

    struct RoutingTable: Codable, Equatable {
        var contacts: Int
        var buckets: [Bucket]
    }

    struct Session: Codable, Equatable {
        var peer: String
        var endpoint: String?
        var path: String
        var established: Bool
        var dialled: Bool
        var rttMilliseconds: Double?
        var datagramSize: Int
        var lastReceivedSecondsAgo: Double?
        var lastHandshakeSecondsAgo: Double?

        enum CodingKeys: String, CodingKey {
            case peer, endpoint, path, established, dialled
            case rttMilliseconds = "rtt_ms", datagramSize = "datagram_size"
            case lastReceivedSecondsAgo = "last_received_seconds_ago", lastHandshakeSecondsAgo = "last_handshake_seconds_ago"
        }
    }

    var key: String
    var version: String
    var command: String
    var uptimeSeconds: Double
    var listening: String
    var reachable: [String]
    var published: Published?
    var externalEndpoint: String?
    var externalEndpointConfirmed: Bool
    var observedAddressVoters: Int
    var bootstrapped: Bool
    var routingTable: RoutingTable
    var storedItems: Int
    var sessions: [Session]
    var streams: Int

    enum CodingKeys: String, CodingKey {
        case key, version, command, listening, reachable, published, bootstrapped, sessions, streams
        case uptimeSeconds = "uptime_seconds", externalEndpoint = "external_endpoint"
        case externalEndpointConfirmed = "external_endpoint_confirmed", observedAddressVoters = "observed_address_voters"
        case routingTable = "routing_table", storedItems = "stored_items"
    }

    init(_ status: KeywayNodeStatus, command: String, uptime: Duration) {
        key = status.publicKey.zBase32
        version = Keyway.version
        self.command = command
        uptimeSeconds = Self.seconds(uptime)
        listening = status.localEndpoint.description
        reachable = status.reachable.map(\.description)
        published = status.published.map { Published(seq: $0.timestampMicroseconds, endpoints: $0.endpoints.map(\.description)) }
        externalEndpoint = status.externalEndpoint?.description
        externalEndpointConfirmed = status.externalEndpointConfirmed
        observedAddressVoters = status.observedAddressVoters
        bootstrapped = status.bootstrapped
        routingTable = RoutingTable(
            contacts: status.buckets.reduce(0) { $0 + $1.contacts },
            buckets: status.buckets.map { Bucket(index: $0.index, contacts: $0.contacts, replacements: $0.replacements) })
        storedItems = status.storedItems
        sessions = status.sessions.map { session in
            Session(
                peer: session.peer.zBase32, endpoint: session.endpoint?.description, path: session.path,
                established: session.established, dialled: session.dialled,
                rttMilliseconds: session.rtt.map { Self.seconds($0) * 1000 }, datagramSize: session.datagramSize,
                lastReceivedSecondsAgo: session.lastReceivedAgo.map(Self.seconds),
                lastHandshakeSecondsAgo: session.lastHandshakeAgo.map(Self.seconds))
        }
        streams = status.streams
    }

    /// `duration` in seconds, to the microsecond.
    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return (Double(seconds) + Double(attoseconds / 1_000_000_000_000) / 1e6)
    }

    /// The document as one line of JSON, keys sorted.
    func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The human form: at most 80 columns a line.
    var lines: [String] {
        var lines = [
            "key:        \(key)",
            "version:    \(version) (\(command), up \(Self.age(uptimeSeconds)))",
            "listening:  \(listening)",
        ]
        if let published {
            lines.append("published:  seq \(published.seq)")
            for endpoint in published.endpoints { lines.append("              \(endpoint)") }
        } else {
            lines.append("published:  nothing yet")
        }
        let external = externalEndpoint.map { "\($0) (\(externalEndpointConfirmed ? "confirmed" : "not confirmed"))" } ?? "-"
        lines.append("observed:   \(external), \(observedAddressVoters) voter(s)")
        lines.append("dht:        \(bootstrapped ? "joined" : "joining"), \(routingTable.contacts) contact(s), \(storedItems) stored item(s)")
        lines.append("  bucket  contacts  replacements")
        for bucket in routingTable.buckets where bucket.contacts > 0 || bucket.replacements > 0 {
            lines.append("  " + Self.padded("\(bucket.index)", 6) + "  " + Self.padded("\(bucket.contacts)", 8) + "  "
                + Self.padded("\(bucket.replacements)", 12))
        }
        lines.append("sessions:   \(sessions.count), streams: \(streams)")
        if !sessions.isEmpty {
            lines.append("  peer              endpoint               path    rtt       handshake")
            for session in sessions {
                let peer = String(session.peer.prefix(16))
                let endpoint = session.endpoint ?? "-"
                let rtt = session.rttMilliseconds.map { "\(Self.decimal($0)) ms" } ?? "-"
                let handshake = session.lastHandshakeSecondsAgo.map { "\(Self.age($0)) ago" } ?? (session.established ? "-" : "pending")
                lines.append("  " + Self.left(peer, 16) + "  " + Self.left(endpoint, 21) + "  " + Self.left(session.path, 6) + "  "
                    + Self.left(rtt, 8) + "  " + handshake)
            }
        }
        return lines
    }

    private static func padded(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private static func left(_ text: String, _ width: Int) -> String {
        text.count >= width ? String(text.prefix(width)) : text + String(repeating: " ", count: width - text.count)
    }

    /// `value` with one decimal.
    private static func decimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `seconds` as `12 s`, `5 min`, `3 h`.
    private static func age(_ seconds: Double) -> String {
        if seconds < 120 { return "\(Int(seconds)) s" }
        if seconds < 7200 { return "\(Int(seconds / 60)) min" }
        return "\(Int(seconds / 3600)) h"
    }
}
