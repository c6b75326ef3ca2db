import Foundation
import KeywayCore
import KeywayCrypto
import Testing

/// Issue 3's "done when": separate `keyway run` processes form a mesh from one seed; fresh
/// `keyway resolve` processes find every node; a node restarted on another port with the same
/// identity is resolved at its new port within 5 seconds.
@Suite(.timeLimit(.minutes(2)))
struct MultiProcessTests {
    /// Nodes besides the seed.
    static let nodeCount = 5
    /// How soon after a restart the new port must resolve.
    static let moveDeadline: Duration = .seconds(5)

    @Test func fiveProcessesFromOneSeedAndARestartOnANewPort() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }

            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0"], name: "seed")
            let seedKey = try await seed.value(after: "key: ")
            let seedAddress = try await seed.value(after: "listening: ")
            #expect(seedAddress.hasPrefix("127.0.0.1:"))

            var nodes = [(process: ChildProcess, key: String, address: String)]()
            for index in 0..<MultiProcessTests.nodeCount {
                // Half name the seed's key, half not; one gets it through KEYWAY_SEEDS.
                let seedText = index % 2 == 0 ? "\(seedKey)@\(seedAddress)" : seedAddress
                let arguments = ["run", "--state-dir", "node\(index)", "--listen", "127.0.0.1:0"]
                let process = index == 1
                    ? try children.start(arguments, name: "node\(index)", environment: ["KEYWAY_SEEDS": seedText])
                    : try children.start(arguments + ["--seed", seedText], name: "node\(index)")
                nodes.append((process, try await process.value(after: "key: "), try await process.value(after: "listening: ")))
            }
            for node in nodes { _ = try await node.process.value(after: "published: ") }

            for (index, node) in nodes.enumerated() {
                let result = try await children.run(["resolve", node.key, "--seed", seedAddress, "--timeout", "10"], name: "resolve\(index)")
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout == node.address + "\n")
            }
            let json = try await children.run(["resolve", nodes[0].key, "--seed", seedAddress, "--json"], name: "json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["key"] as? String == nodes[0].key)
            #expect(object["endpoints"] as? [String] == [nodes[0].address])
            #expect((object["seq"] as? NSNumber)?.int64Value ?? 0 > 0)
            #expect((object["published"] as? String)?.hasSuffix("Z") == true)

            // Restart node 2 on another port, same identity, no seeds: it rejoins through its saved table.
            let moving = nodes[2]
            moving.process.signal()
            #expect(try await moving.process.exit() == 0)
            #expect(FileManager.default.fileExists(atPath: directory + "/node2/identity.contacts"))
            let clock = ContinuousClock()
            let restarted = try children.start(["run", "--state-dir", "node2", "--listen", "127.0.0.1:0"], name: "node2-restarted")
            let started = clock.now
            #expect(try await restarted.value(after: "key: ") == moving.key)
            let newAddress = try await restarted.value(after: "listening: ")
            #expect(newAddress != moving.address)

            var attempts = 0
            var resolved = ""
            while clock.now - started < MultiProcessTests.moveDeadline {
                attempts += 1
                let remaining = MultiProcessTests.moveDeadline - (clock.now - started)
                let seconds = max(0.5, Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18)
                let result = try await children.run(
                    ["resolve", moving.key, "--seed", seedAddress, "--timeout", "\(seconds)"], name: "moved\(attempts)")
                resolved = result.stdout
                if resolved == newAddress + "\n" { break }
            }
            let elapsed = clock.now - started
            #expect(resolved == newAddress + "\n", "after \(attempts) resolves in \(elapsed): \(resolved)")
            #expect(elapsed < MultiProcessTests.moveDeadline)
            print("restart to resolved at the new port: \(elapsed) (\(attempts) resolve process(es))")

            for child in [seed, restarted] + nodes.map(\.process) where child.isRunning {
                child.signal()
                #expect(try await child.exit() == 0)
            }
        }
    }
}
