import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Keyway

/// `keyway status`: asks the node running with this identity (`keyway run` or `keyway listen`)
/// over its control socket what it is doing.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the node running with this identity is doing (endpoints, table, sessions).",
        discussion: """
            Asks the running `keyway run` or `keyway listen` of the same identity (--state-dir, \
            --identity) over its control socket, <identity>.sock (mode 0600, owner only). \
            Prints a table that fits 80 columns, or with --json one line of JSON. Exit status: \
            0 answered, 2 no node runs with this identity (one line on stderr).
            """)

    @OptionGroup var identity: IdentityOptions

    @Flag(name: .long, help: "Print one line of JSON (snake_case keys, seconds; rtt_ms in milliseconds).")
    var json = false

    func run() async throws {
        let path = ControlSocket.path(forIdentity: try identity.identityPath())
        let answer: [UInt8]
        do {
            answer = try ControlSocket.exchange(path: path, request: "status\n")
        } catch let failure as CommandFailure {
            throw CommandFailure.error("no node is running with this identity (\(path): \(failure.message ?? "no answer"))")
        }
        var text = String(decoding: answer, as: UTF8.self)
        while text.last == "\n" { text.removeLast() }
        if json {
            Console.out(text)
            return
        }
        guard let document = try? JSONDecoder().decode(StatusDocument.self, from: Data(text.utf8)) else {
            throw CommandFailure.error("the node at \(path) answered: \(text.prefix(200))")
        }
        document.lines.forEach(Console.out)
    }
}
