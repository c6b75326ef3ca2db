import ArgumentParser
#if canImport(FoundationEssentials)
// FoundationEssentials (ProcessInfo, FileManager, UUID) without Foundation's ICU: smaller RSS.
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import Logging

/// `keyway demo`: a local mesh on loopback with real sockets, in one process.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a local mesh on 127.0.0.1 with real UDP sockets and report what happened.",
        discussion: """
            Starts a seed and more nodes that bootstrap from it, has every node publish its \
            record, resolves every key from another node, then moves one node to a new address \
            (stopped, restarted with the same key and its saved routing table, no seeds) and \
            resolves it again there. On Linux each node binds a loopback address of its own \
            (127.A.B.1, one /24 each), as hosts on a real network would be. Long steps show a \
            progress line on standard error. Exit status 0 when every step succeeded.
            """)

    /// Fewest nodes that make a mesh worth showing.
    static let minimumNodes = 3
    /// Most nodes: each is a socket and a core in this one process (about 40 KiB each, and
    /// the file-descriptor limit is raised to fit).
    static let maximumNodes = 10_000

    @Option(name: .long, help: ArgumentHelp("Nodes in the mesh, the seed included (\(minimumNodes)-\(maximumNodes)).", valueName: "n"))
    var nodes = 20

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (DemoCommand.minimumNodes...DemoCommand.maximumNodes).contains(nodes) else {
            throw ValidationError("--nodes must be between \(DemoCommand.minimumNodes) and \(DemoCommand.maximumNodes), got \(nodes)")
        }
    }

    func run() async throws {
        try FileDescriptorLimit.ensure(nodes + FileDescriptorLimit.reserve, for: "--nodes \(nodes)")
        let logger = try logging.bootstrap(fallback: .critical, environment: ProcessInfo.processInfo.environment)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("keyway-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var demo = DemoMesh(size: nodes, stateDirectory: directory.path, logger: logger)
        let succeeded = await demo.run()
        guard succeeded else { throw CommandFailure(status: CommandFailure.notFoundStatus, message: nil) }
    }
}
