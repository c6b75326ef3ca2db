import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 15, item 1: `--metrics HOST:PORT` serves `/metrics` in the Prometheus text format. A
/// seed, a forwarding listener and a `forward` client each serve theirs on loopback; a TCP
/// request through the forward moves their counters; every scrape passes `promtool check
/// metrics`.
@Suite(.timeLimit(.minutes(2)))
struct MetricsTests {
    /// Debian's `prometheus` package (`.ci/setup` installs it).
    static let promtool = "/usr/bin/promtool"

    /// One exchange with 127.0.0.1:`port` (`request` sent as it is, then with `halfClose` the
    /// sending side shut); the HTTP status code and body, read until the server closes.
    /// Bounded by a 5 s receive timeout.
    static func exchange(port: UInt16, request: [UInt8], halfClose: Bool = false) throws -> (status: Int, body: String) {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ChildProcess.Timeout(description: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = NATRelay.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ChildProcess.Timeout(description: "connect to \(port): \(errno)") }
        var sent = 0
        while sent < request.count {
            let count = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            response += buffer[..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        let status = text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } ?? 0
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (status, body)
    }

    /// `GET /metrics` of 127.0.0.1:`port`; checks the status and, where it is installed, that
    /// `promtool check metrics` accepts the text.
    static func scrape(_ port: UInt16, directory: String, name: String) throws -> String {
        let (status, body) = try exchange(port: port, request: Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(status == 200, "\(name): \(body)")
        #expect(body.contains("# TYPE keyway_dht_queries_received_total counter"), "\(name): \(body)")
        if FileManager.default.isExecutableFile(atPath: promtool) {
            let file = "\(directory)/\(name).prom"
            try Data(body.utf8).write(to: URL(fileURLWithPath: file))
            let check = Process()
            check.executableURL = URL(fileURLWithPath: promtool)
            check.arguments = ["check", "metrics"]
            check.standardInput = FileHandle(forReadingAtPath: file)
            let output = Pipe()
            check.standardOutput = output
            check.standardError = output
            try check.run()
            check.waitUntilExit()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(check.terminationStatus == 0, "promtool check metrics on \(name): \(said)")
        }
        return body
    }

    /// The value of the sample `series` (name and labels exactly as exported), or `nil`.
    static func value(_ series: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func countersMoveWithTrafficAndPromtoolAcceptsTheOutput() async throws {
        if !FileManager.default.isExecutableFile(atPath: Self.promtool) {
            print("skipped promtool check metrics: no \(Self.promtool) (Debian package prometheus; bash .ci/setup installs it)")
        }
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let service = try TCPProbeService()
            defer { service.stop() }
            func metricsPort(_ child: ChildProcess, inStandardError: Bool = false) async throws -> UInt16 {
                let address = try await child.value(after: "metrics: ", inStandardError: inStandardError)
                #expect(address.hasPrefix("127.0.0.1:"))
                return try #require(UInt16(address.split(separator: ":").last ?? ""))
            }

            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0"], name: "seed")
            let seedAddress = try await seed.value(after: "listening: ")
            let seedMetrics = try await metricsPort(seed)
            let listener = try children.start(
                ["listen", "--state-dir", "l", "--allow-any", "--seed", seedAddress, "--forward", "127.0.0.1:\(service.port)",
                 "--metrics", "127.0.0.1:0"],
                name: "listener")
            let key = try await listener.value(after: "key: ", inStandardError: true)
            let listenerMetrics = try await metricsPort(listener, inStandardError: true)
            _ = try await listener.value(after: "published: ", inStandardError: true)
            let forwarder = try children.start(
                ["forward", "--state-dir", "f", "--local", "127.0.0.1:0", "--to", key, "--seed", seedAddress, "--metrics", "127.0.0.1:0"],
                name: "forwarder")
            let forwardMetrics = try await metricsPort(forwarder)
            let local = try await forwarder.value(after: "forwarding: ")
            let localPort = try #require(UInt16(local.split(separator: ":").last ?? ""))

            let before = try Self.scrape(forwardMetrics, directory: directory, name: "forward-before")
            let seedBefore = try Self.scrape(seedMetrics, directory: directory, name: "seed-before")
            #expect(Self.value(#"keyway_lookup_duration_seconds_count{kind="get"}"#, in: before) == 0, "\(before)")
            #expect(Self.value(#"keyway_stream_bytes_total{direction="sent"}"#, in: before) == 0, "\(before)")

            // Traffic: one request through forward -> listener -> the TCP service.
            let request = Array("GET /metered HTTP/1.0\r\n\r\n".utf8)
            _ = try Self.exchange(port: localPort, request: request, halfClose: true)
            #expect(service.requests == [request])

            let after = try Self.scrape(forwardMetrics, directory: directory, name: "forward-after")
            #expect((Self.value(#"keyway_lookup_duration_seconds_count{kind="get"}"#, in: after) ?? 0) >= 1, "\(after)")
            #expect((Self.value(#"keyway_stream_bytes_total{direction="sent"}"#, in: after) ?? 0) >= Double(request.count), "\(after)")
            #expect((Self.value(#"keyway_stream_bytes_total{direction="received"}"#, in: after) ?? 0) >= Double(TCPProbeService.reply.count), "\(after)")
            #expect((Self.value("keyway_handshakes_completed_total", in: after) ?? 0) >= 1, "\(after)")
            #expect((Self.value(#"keyway_datagrams_total{layer="transport",direction="sent"}"#, in: after) ?? 0) > 0, "\(after)")

            let listened = try Self.scrape(listenerMetrics, directory: directory, name: "listener")
            #expect((Self.value(#"keyway_stream_bytes_total{direction="received"}"#, in: listened) ?? 0) >= Double(request.count), "\(listened)")
            #expect((Self.value("keyway_published_records_total", in: listened) ?? 0) >= 1, "\(listened)")
            #expect((Self.value("keyway_sessions", in: listened) ?? 0) >= 1, "\(listened)")

            let seedAfter = try Self.scrape(seedMetrics, directory: directory, name: "seed-after")
            let getsBefore = Self.value(#"keyway_dht_queries_received_total{method="get"}"#, in: seedBefore) ?? -1
            let getsAfter = Self.value(#"keyway_dht_queries_received_total{method="get"}"#, in: seedAfter) ?? -1
            #expect(getsAfter > getsBefore, "the forward's lookup asked the seed: \(getsBefore) -> \(getsAfter)")
            #expect((Self.value(#"keyway_dht_queries_received_total{method="find_node"}"#, in: seedAfter) ?? 0) >= 1, "\(seedAfter)")
            #expect((Self.value("keyway_routing_table_contacts", in: seedAfter) ?? 0) >= 1, "\(seedAfter)")

            // Only /metrics; an oversized request is cut off unanswered.
            #expect(try Self.exchange(port: seedMetrics, request: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)).status == 404)
            let huge = Array("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Padding: \(String(repeating: "a", count: 9000))\r\n\r\n".utf8)
            #expect(try Self.exchange(port: seedMetrics, request: huge).status != 200)

            for child in [forwarder, listener, seed] {
                child.signal()
                #expect(try await child.exit() == 0, "\(child.stderr)")
            }
        }
    }
}
