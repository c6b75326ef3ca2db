import Foundation
import Testing

/// `keyway-sim` and `keyway demo` as a user runs them (issue 17: `keyway-sim --help` crashed
/// with SIGABRT, and `demo` refused more than 500 nodes).
@Suite(.timeLimit(.minutes(2)))
struct SimulatorCommandTests {
    typealias Support = RuntimeTestSupport

    /// `keyway-sim`, built beside `keyway`.
    private func simulatorPath() throws -> String {
        URL(fileURLWithPath: try KeywayBinary.path()).deletingLastPathComponent().appendingPathComponent("keyway-sim").path
    }

    @Test(arguments: ["--help", "-h"])
    func keywaySimPrintsItsHelp(_ flag: String) async throws {
        let simulator = try simulatorPath()
        try #require(FileManager.default.isExecutableFile(atPath: simulator), "no keyway-sim at \(simulator) (run swift build)")
        try await Support.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let child = try children.start([flag], name: "help", executable: simulator)
            let status = try await child.exit(timeout: .seconds(30))
            #expect(status == 0)
            #expect(child.stdout.contains("USAGE: keyway-sim"))
            #expect(child.stdout.contains("--no-join-refresh"))
            #expect(child.stderr.isEmpty)
        }
    }

    @Test func demoTakesThousandsOfNodesAndRefusesMoreThanItsLimit() async throws {
        try await Support.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let help = try await children.run(["demo", "--help"], name: "demo-help")
            #expect(help.status == 0)
            #expect(help.stdout.contains("3-10000"))
            let tooMany = try await children.run(["demo", "--nodes", "10001"], name: "too-many")
            #expect(tooMany.status == 2)
            #expect(tooMany.stderr.split(separator: "\n").count == 1)
            #expect(tooMany.stderr.contains("--nodes must be between 3 and 10000"))
        }
    }
}
