#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Keyway

/// `keyway`: the root command.
struct KeywayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keyway",
        abstract: "A permanent network identity for every workload, reachable by its key.",
        discussion: """
            Every node has an Ed25519 key; its address is that key. Nodes form a Kademlia DHT \
            over UDP (BitTorrent KRPC, BEP 44) and publish signed records of their current \
            endpoints, so a key resolves to wherever the node runs now.

            Start with `keyway demo`.
            """,
        version: VersionCommand.line,
        subcommands: [
            IdCommand.self, RunCommand.self, ResolveCommand.self, ListenCommand.self, ConnectCommand.self,
            ForwardCommand.self, StatusCommand.self, DemoCommand.self, VersionCommand.self,
        ]
    )
}

/// `keyway version`: the same line as `keyway --version`, on standard output.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version of keyway (as --version does).")

    /// What both forms print: `keyway X.Y.Z`.
    static let line = "keyway \(Keyway.version)"

    func run() throws { Console.out(Self.line) }
}

/// The entry point: parses, runs, and maps every failure to one stderr line and an exit status.
@main
enum KeywayMain {
    static func main() async {
        let status: Int32
        do {
            var command = try KeywayCommand.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            status = 0
        } catch let failure as CommandFailure {
            if let message = failure.message { Console.err("keyway: \(message)") }
            status = failure.status
        } catch let code as ExitCode {
            status = code.rawValue
        } catch {
            if KeywayCommand.exitCode(for: error) == .success {
                // --help, or a subcommand's help: the full text, on standard output.
                Console.out(KeywayCommand.fullMessage(for: error))
                status = 0
            } else {
                let message = KeywayCommand.message(for: error)
                let line = message.split(separator: "\n").first.map(String.init) ?? "\(error)"
                Console.err("keyway: \(line) (see keyway --help)")
                status = CommandFailure.errorStatus
            }
        }
        exit(status)
    }
}
