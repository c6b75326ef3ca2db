import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 15, item 2: `keyway status` asks the node running with an identity, over the 0600
/// control socket beside that identity, for its endpoints, table and sessions; `--json` for
/// scripts, a table within 80 columns for people, exit status 2 in one line when no node runs.
@Suite(.timeLimit(.minutes(2)))
struct StatusTests {
    @Test func statusOfAFiveNodeMeshShowsTheTableAndALiveSession() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let service = try TCPProbeService()
            defer { service.stop() }

            let none = try await children.run(["status", "--state-dir", "l"], name: "status-none")
            #expect(none.status == 2, "\(none.stderr)")
            #expect(none.stderr.split(separator: "\n").count == 1 && none.stderr.hasPrefix("keyway: no node is running"), "\(none.stderr)")
            #expect(none.stdout.isEmpty)

            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0"], name: "seed")
            let seedAddress = try await seed.value(after: "listening: ")
            var nodes = [ChildProcess]()
            for index in 0..<3 {
                let node = try children.start(["run", "--state-dir", "n\(index)", "--seed", seedAddress], name: "node\(index)")
                _ = try await node.value(after: "published: ")
                nodes.append(node)
            }
            let listener = try children.start(
                ["listen", "--state-dir", "l", "--allow-any", "--seed", seedAddress, "--forward", "127.0.0.1:\(service.port)"],
                name: "listener")
            let key = try await listener.value(after: "key: ", inStandardError: true)
            let listening = try await listener.value(after: "listening: ", inStandardError: true)
            _ = try await listener.value(after: "published: ", inStandardError: true)
            let forwarder = try children.start(
                ["forward", "--state-dir", "f", "--local", "127.0.0.1:0", "--to", key, "--seed", seedAddress], name: "forwarder")
            let forwarderKey = try await forwarder.value(after: "key: ")
            let local = try await forwarder.value(after: "forwarding: ")
            let port = try #require(UInt16(local.split(separator: ":").last ?? ""))
            // A live session: one request through forward -> listener -> the service.
            _ = try MetricsTests.exchange(port: port, request: Array("GET / HTTP/1.0\r\n\r\n".utf8), halfClose: true)
            #expect(service.requests.count == 1)

            var attributes = stat()
            #expect(stat(directory + "/l/identity.sock", &attributes) == 0)
            #expect(attributes.st_mode & 0o777 == 0o600, "mode \(String(attributes.st_mode & 0o777, radix: 8))")

            let json = try await children.run(["status", "--state-dir", "l", "--json"], name: "status-json")
            #expect(json.status == 0, "\(json.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["key"] as? String == key)
            #expect(object["command"] as? String == "listen")
            #expect(object["listening"] as? String == listening)
            #expect(object["bootstrapped"] as? Bool == true)
            let table = try #require(object["routing_table"] as? [String: Any])
            #expect((table["contacts"] as? Int ?? 0) >= 3, "\(table)")
            #expect((table["buckets"] as? [[String: Any]])?.isEmpty == false)
            let published = try #require(object["published"] as? [String: Any])
            #expect((published["endpoints"] as? [String])?.first == listening)
            let sessions = try #require(object["sessions"] as? [[String: Any]])
            let session = try #require(sessions.first { $0["peer"] as? String == forwarderKey }, "\(sessions)")
            #expect(session["path"] as? String == "direct")
            #expect(session["established"] as? Bool == true)
            #expect((session["endpoint"] as? String)?.hasPrefix("127.0.0.1:") == true)
            #expect((session["rtt_ms"] as? Double ?? 0) > 0, "\(session)")
            #expect(session["last_handshake_seconds_ago"] is Double, "\(session)")

            let human = try await children.run(["status", "--state-dir", "l"], name: "status-human")
            #expect(human.status == 0, "\(human.stderr)")
            let lines = human.stdout.split(separator: "\n")
            #expect(lines.allSatisfy { $0.count <= 80 }, "\(human.stdout)")
            #expect(lines.contains { $0.hasPrefix("key:        \(key)") }, "\(human.stdout)")
            #expect(lines.contains { $0.contains(String(forwarderKey.prefix(16))) && $0.contains("direct") && $0.contains(" ms") },
                    "\(human.stdout)")

            // The socket goes with the node.
            listener.signal()
            #expect(try await listener.exit() == 0, "\(listener.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/l/identity.sock"))
            for child in [forwarder, seed] + nodes {
                child.signal()
                #expect(try await child.exit() == 0, "\(child.stderr)")
            }
        }
    }
}
