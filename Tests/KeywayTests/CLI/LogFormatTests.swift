import Foundation
import Testing

/// Issue 15, item 6: `--log-format json` writes each log record as one JSON object a line on
/// standard error, with swift-log's metadata (the node's key, endpoints) as fields.
@Suite(.timeLimit(.minutes(1)))
struct LogFormatTests {
    @Test func jsonLogLinesCarryTheMetadata() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let node = try children.start(["run", "--state-dir", "n", "--listen", "127.0.0.1:0", "--log-format", "json"], name: "node")
            let listening = try await node.value(after: "listening: ")
            _ = try await node.value(after: "published: ")
            node.signal()
            #expect(try await node.exit() == 0, "\(node.stderr)")
            let records = try node.stderrLines.filter { !$0.isEmpty }.map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            }
            #expect(!records.isEmpty)
            for record in records {
                #expect(record["time"] is String && record["level"] is String && record["message"] is String, "\(record)")
            }
            let start = try #require(records.first { $0["message"] as? String == "listening" })
            let metadata = try #require(start["metadata"] as? [String: Any])
            #expect(metadata["bound"] as? String == listening)
            #expect((metadata["node"] as? String)?.isEmpty == false)
        }
    }

    @Test func anUnknownLogFormatIsOneLineAndStatusTwo() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let result = try await children.run(["run", "--state-dir", "n", "--log-format", "yaml"], name: "bad")
            #expect(result.status == 2)
            #expect(result.stderr == "keyway: unknown log format \"yaml\" (text, json)\n", "\(result.stderr)")
        }
    }
}
