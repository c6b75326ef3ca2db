import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A local TCP service that stands for what `keyway listen --forward` exposes: on 127.0.0.1, on
/// a thread of its own, it reads each connection to its end, records what it read, answers
/// ``reply`` and closes. Tests ask it what reached it.
final class TCPProbeService: Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// What every connection is answered.
    static let reply = Array("secret contents\n".utf8)

    private struct State {
        var stopped = false
        var requests: [[UInt8]] = []
    }

    /// The port it listens on (127.0.0.1).
    let port: UInt16
    private let state = Mutex(State())

    init() throws {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = NATRelay.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw Failure(description: "bind/listen: \(errno)")
        }
        port = try NATRelay.port(of: fd)
        Thread.detachNewThread { [self] in serve(fd) }
    }

    /// What each connection sent, in order of arrival.
    var requests: [[UInt8]] { state.withLock { $0.requests } }

    /// Stops the thread (it closes its socket within one poll interval).
    func stop() { state.withLock { $0.stopped = true } }

    private func serve(_ listener: Int32) {
        while !state.withLock({ $0.stopped }) {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            // Bounded: a connection that never ends its request is cut after a few seconds.
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                var connectionFD = [pollfd(fd: connection, events: Int16(POLLIN), revents: 0)]
                guard poll(&connectionFD, 1, 50) > 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                request += buffer[..<count]
            }
            state.withLock { $0.requests.append(request) }
            _ = Self.reply.withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
            close(connection)
        }
        close(listener)
    }
}
