import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A NAT in the test process, in front of the dialling node: the dialler sends to its inside
/// socket; it forwards each datagram to a fixed target from its outside socket, and the
/// target's answers back to the dialler. After `rebindAfter` bytes from the inside it closes
/// the outside socket and opens another on a new port, as a NAT that loses a mapping does: the
/// target then sees the dialler at a new source address.
///
/// It runs on a thread of its own with blocking sockets and `poll`, on 127.0.0.1 only.
final class NATRelay: Sendable {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Largest datagram relayed.
    static let maximumDatagram = 4096

    private struct State {
        var stopped = false
        var outsidePorts: [UInt16] = []
        var forwardedBytes = 0
        var droppedReplies = 0
    }

    /// The port of the inside socket (127.0.0.1): where the dialler sends.
    let insidePort: UInt16
    private let state = Mutex(State())

    /// Starts relaying to 127.0.0.1:`targetPort`. After `rebindAfter` bytes from the dialler the
    /// outside socket is replaced (a NAT rebinding). With `dropRepliesAfter`, once that many
    /// bytes came from the dialler, every reply is dropped for `dropWindow` (acknowledgements
    /// lost near a stream's end).
    init(targetPort: UInt16, rebindAfter: Int, dropRepliesAfter: Int? = nil, dropWindow: Duration = .milliseconds(100)) throws {
        let inside = try Self.socket()
        insidePort = try Self.port(of: inside)
        let outside = try Self.socket()
        state.withLock { $0.outsidePorts.append((try? Self.port(of: outside)) ?? 0) }
        let relay = Relay(
            inside: inside, outside: outside, target: Self.loopback(port: targetPort), rebindAfter: rebindAfter,
            dropRepliesAfter: dropRepliesAfter, dropWindow: dropWindow)
        Thread.detachNewThread { [self] in
            var relay = relay
            relay.run(self)
        }
    }

    /// Outside ports used so far, in order (more than one: the NAT rebound).
    var outsidePorts: [UInt16] { state.withLock { $0.outsidePorts } }

    /// Replies dropped so far (see `dropRepliesAfter`).
    var droppedReplies: Int { state.withLock { $0.droppedReplies } }

    /// Stops the thread (it closes its sockets within one poll interval).
    func stop() { state.withLock { $0.stopped = true } }

    fileprivate var isStopped: Bool { state.withLock { $0.stopped } }
    fileprivate func forwarded(_ count: Int) -> Int {
        state.withLock {
            $0.forwardedBytes += count
            return $0.forwardedBytes
        }
    }
    fileprivate func dropped() { state.withLock { $0.droppedReplies += 1 } }
    fileprivate func rebound(to port: UInt16) { state.withLock { $0.outsidePorts.append(port) } }

    /// The relay's loop and sockets, owned by its thread.
    private struct Relay: Sendable {
        var inside: Int32
        var outside: Int32
        let target: sockaddr_in
        let rebindAfter: Int
        let dropRepliesAfter: Int?
        let dropWindow: Duration
        var dialler: sockaddr_in?
        var rebound = false
        var forwarded = 0
        var dropUntil: ContinuousClock.Instant?

        mutating func run(_ owner: NATRelay) {
            var buffer = [UInt8](repeating: 0, count: NATRelay.maximumDatagram)
            while !owner.isStopped {
                var fds = [pollfd(fd: inside, events: Int16(POLLIN), revents: 0), pollfd(fd: outside, events: Int16(POLLIN), revents: 0)]
                guard poll(&fds, 2, 50) > 0 else { continue }
                if fds[0].revents & Int16(POLLIN) != 0, let (count, source) = NATRelay.receive(inside, into: &buffer) {
                    dialler = source
                    NATRelay.send(outside, buffer[..<count], to: target)
                    forwarded = owner.forwarded(count)
                    if dropUntil == nil, let dropRepliesAfter, forwarded >= dropRepliesAfter {
                        dropUntil = .now + dropWindow
                    }
                    if !rebound && forwarded >= rebindAfter, let fresh = try? NATRelay.socket() {
                        close(outside)
                        outside = fresh
                        rebound = true
                        owner.rebound(to: (try? NATRelay.port(of: fresh)) ?? 0)
                    }
                }
                if fds[1].revents & Int16(POLLIN) != 0, let (count, source) = NATRelay.receive(outside, into: &buffer),
                   source.sin_port == target.sin_port, let dialler {
                    if let dropUntil, ContinuousClock.now < dropUntil {
                        owner.dropped()
                        continue
                    }
                    NATRelay.send(inside, buffer[..<count], to: dialler)
                }
            }
            close(inside)
            close(outside)
        }
    }

    // MARK: Sockets

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    static func socket() throws -> Int32 {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var address = loopback(port: 0)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "bind: \(errno)")
        }
        return fd
    }

    static func port(of fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw Failure(description: "getsockname: \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    static func receive(_ fd: Int32, into buffer: inout [UInt8]) -> (Int, sockaddr_in)? {
        var source = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { bytes in
            withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
            }
        }
        return count > 0 ? (count, source) : nil
    }

    static func send(_ fd: Int32, _ bytes: ArraySlice<UInt8>, to destination: sockaddr_in) {
        var destination = destination
        _ = bytes.withUnsafeBytes { data in
            withUnsafePointer(to: &destination) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, data.baseAddress, data.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}
