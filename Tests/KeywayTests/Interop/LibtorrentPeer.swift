// A libtorrent-rasterbar DHT peer (Tests/Interop/libtorrent_peer.py under Debian's
// /usr/bin/python3) as a child process, spoken to with one JSON line per command.
import Foundation
import KeywayCore

#if canImport(Glibc)
import Glibc

/// Errors of the interop tests.
struct InteropError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

final class LibtorrentPeer {
    static let python = "/usr/bin/python3"
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/libtorrent_peer.py").path

    /// Whether libtorrent can run here. In CI (`CI` set) it must: `.ci/setup` installs it, so
    /// there a missing libtorrent fails the tests instead of skipping them.
    static let isAvailable: Bool = {
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import libtorrent"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer: [UInt8] = []
    /// The UDP port libtorrent listens on at 127.0.0.1.
    private(set) var port: UInt16 = 0
    /// libtorrent's DHT node ID.
    private(set) var nodeID: NodeID?
    var endpoint: Endpoint { Endpoint(address: .v4(0x7f00_0001), port: port) }

    /// Starts the peer and waits for its ready line; the peer exits by itself after `lifetime`
    /// seconds whatever happens.
    init(lifetime: Int = 120) async throws {
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [Self.script, "--lifetime", String(lifetime)]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        do {
            let ready = try await readLine(timeout: .seconds(20))
            guard ready["event"] as? String == "ready", let port = ready["port"] as? Int,
                  let id = ready["node_id"] as? String else {
                throw InteropError("libtorrent peer did not start: \(ready)")
            }
            self.port = UInt16(port)
            self.nodeID = [UInt8](hex: id).flatMap { NodeID(bytes: $0) }
        } catch {
            stop()
            throw error
        }
    }

    deinit { stop() }

    /// Closes its stdin (it exits) and kills it if it lingers.
    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        let end = ContinuousClock.now + .seconds(3)
        while process.isRunning && ContinuousClock.now < end { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Sends one command and waits for its JSON answer. Throws when the answer is not
    /// `"ok": true` or does not come within `timeout`.
    @discardableResult
    func command(_ words: [String], timeout: Duration = .seconds(30)) async throws -> [String: Any] {
        let line = try JSONSerialization.data(withJSONObject: words) + Data("\n".utf8)
        try input.fileHandleForWriting.write(contentsOf: line)
        let answer = try await readLine(timeout: timeout)
        guard answer["ok"] as? Bool == true else { throw InteropError("libtorrent \(words.first ?? ""): \(answer)") }
        return answer
    }

    private func readLine(timeout: Duration) async throws -> [String: Any] {
        let fd = output.fileHandleForReading.fileDescriptor
        let end = ContinuousClock.now + timeout
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(buffer[..<newline])
                buffer.removeSubrange(...newline)
                guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                    throw InteropError("libtorrent peer wrote \(String(decoding: line, as: UTF8.self))")
                }
                return object
            }
            guard ContinuousClock.now < end else { throw InteropError("libtorrent peer silent for \(timeout)") }
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 0) > 0 else {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { throw InteropError("libtorrent peer exited or closed its output") }
            buffer += chunk[0..<count]
        }
    }

    /// libtorrent's live routing table, as endpoints.
    func table() async throws -> [Endpoint] {
        let answer = try await command(["table"])
        return (answer["nodes"] as? [[String: Any]] ?? []).compactMap { node in
            guard let host = node["host"] as? String, let port = node["port"] as? Int else { return nil }
            return Endpoint("\(host):\(port)")
        }
    }

    /// Sends `message`, encoded by keyway's codec, from a plain UDP socket of the peer's process
    /// (not libtorrent's) to `destination`, and decodes the reply with keyway's codec.
    func exchange(_ message: KRPCMessage, with destination: Endpoint, timeout: Duration = .seconds(5)) async throws -> KRPCMessage {
        let seconds = String(Double(timeout.components.seconds))
        let answer = try await command(["krpc", "127.0.0.1", String(destination.port), message.encoded().hexString, seconds])
        let reply = try [UInt8](hex: answer["reply_hex"] as? String ?? "").unwrap("reply_hex in \(answer)")
        return try KRPCMessage.decode(reply)
    }
}

extension Optional {
    /// The value, or an ``InteropError`` naming `what` is missing.
    func unwrap(_ what: String) throws -> Wrapped {
        guard let self else { throw InteropError("missing \(what)") }
        return self
    }
}
#endif
