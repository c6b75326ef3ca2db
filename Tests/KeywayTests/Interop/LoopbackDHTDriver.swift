// TEST SCAFFOLDING, to be replaced by the SwiftNIO runtime (`keyway run`): a minimal blocking
// driver of one KeywayCore `DHTNode` on a real UDP socket bound to 127.0.0.1, so the libtorrent
// interop assertions can run before the runtime exists. One thread, poll(2), bounded waits.
import Foundation
import KeywayCrypto
@testable import KeywayCore

#if canImport(Glibc)
import Glibc

/// Errors of the interop scaffolding.
struct InteropError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One `DHTNode` on a UDP socket at 127.0.0.1, driven by ``step(maxWait:extra:)``.
final class LoopbackDHTDriver {
    let fd: Int32
    let endpoint: Endpoint
    var node: DHTNode
    /// Every event the core reported, in order.
    var events: [DHTEvent] = []
    /// Queries received from others, by method name (seen before the core handles them).
    var incomingQueries: [String: Int] = [:]
    /// Replies to queries sent with ``sendRaw(_:to:)``, by transaction ID.
    private var rawReplies: [[UInt8]: KRPCMessage] = [:]
    private var rawPending: Set<[UInt8]> = []
    private var nextRawID: UInt32 = 0xFE00_0000
    private let origin = ContinuousClock.now

    init(configuration: DHTConfiguration = DHTConfiguration(), keyPair: Ed25519.KeyPair = .generate()) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw InteropError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0, fcntl(fd, F_SETFL, O_NONBLOCK) == 0 else {
            close(fd)
            throw InteropError("bind 127.0.0.1: errno \(errno)")
        }
        self.fd = fd
        endpoint = Endpoint(address: .v4(0x7f00_0001), port: UInt16(bigEndian: address.sin_port))
        node = DHTNode(keyPair: keyPair, configuration: configuration, seed: UInt64.random(in: 0...UInt64.max), now: .zero)
    }

    deinit { close(fd) }

    /// The core's clock: nanoseconds since this driver started.
    var now: Instant { Instant(nanoseconds: UInt64((ContinuousClock.now - origin).nanosecondsClamped)) }

    /// Runs `body` on the core, then sends what it queued and collects its events.
    func with<T>(_ body: (inout DHTNode, Instant) throws -> T) rethrows -> T {
        let result = try body(&node, now)
        flush()
        return result
    }

    /// Waits up to `maxWait` (or the core's next deadline) for datagrams, handles them and the
    /// core's timers. Returns whether `extra` (another descriptor) became readable.
    @discardableResult
    func step(maxWait: Duration, extra: Int32? = nil) -> Bool {
        var wait = maxWait
        if let deadline = node.nextTimeout() { wait = min(wait, max(.zero, deadline - now)) }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        if let extra { fds.append(pollfd(fd: extra, events: Int16(POLLIN), revents: 0)) }
        let milliseconds = Int32(clamping: (wait.nanosecondsClamped + 999_999) / 1_000_000)
        _ = poll(&fds, nfds_t(fds.count), milliseconds)
        if fds[0].revents != 0 { receiveAll() }
        if let deadline = node.nextTimeout(), deadline <= now { node.handleTimeout(now: now) }
        flush()
        return fds.count > 1 && fds[1].revents != 0
    }

    /// Steps until `condition` holds or `timeout` passes; returns whether it held.
    func run(timeout: Duration, until condition: () -> Bool) -> Bool {
        let end = ContinuousClock.now + timeout
        while !condition() {
            if ContinuousClock.now >= end { return false }
            step(maxWait: .milliseconds(20))
        }
        return true
    }

    /// Sends `query` (encoded by our codec) to `destination` outside the core, and returns
    /// the transaction ID its reply will carry.
    func sendRaw(_ query: KRPCQuery, to destination: Endpoint) -> [UInt8] {
        nextRawID &+= 1
        let id = withUnsafeBytes(of: nextRawID.bigEndian, Array.init)
        rawPending.insert(id)
        send(KRPCMessage(transactionID: id, body: .query(query)).encoded(), to: destination)
        return id
    }

    /// The reply to a ``sendRaw(_:to:)`` query, waiting for it up to `timeout`.
    func rawReply(_ transactionID: [UInt8], timeout: Duration) throws -> KRPCMessage {
        guard run(timeout: timeout, until: { rawReplies[transactionID] != nil }), let reply = rawReplies[transactionID] else {
            throw InteropError("no reply to raw query \(transactionID.hexString) within \(timeout)")
        }
        return reply
    }

    private func receiveAll() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var source = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let count = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &source) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
                }
            }
            guard count >= 0 else { return }
            let datagram = Array(buffer[0..<count])
            let from = Endpoint(address: .v4(UInt32(bigEndian: source.sin_addr.s_addr)), port: UInt16(bigEndian: source.sin_port))
            if let message = try? KRPCMessage.decode(datagram) {
                switch message.body {
                case let .query(query):
                    incomingQueries[query.methodName, default: 0] += 1
                case .response, .error:
                    if rawPending.remove(message.transactionID) != nil {
                        rawReplies[message.transactionID] = message
                        continue
                    }
                }
            }
            node.handleDatagram(datagram, from: from, now: now)
        }
    }

    private func flush() {
        while let datagram = node.pollTransmit() { send(datagram.payload, to: datagram.endpoint) }
        while let event = node.pollEvent() { events.append(event) }
    }

    private func send(_ payload: [UInt8], to destination: Endpoint) {
        guard case let .v4(address) = destination.address else { return }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_addr.s_addr = address.bigEndian
        target.sin_port = destination.port.bigEndian
        _ = payload.withUnsafeBytes { bytes in
            withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }
}
#endif
