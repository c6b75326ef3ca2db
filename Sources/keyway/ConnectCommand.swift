import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import KeywayCore
import KeywayCrypto

/// `keyway connect KEY`: netcat by key. Standard input goes to a stream to the node with that
/// key, the stream's bytes to standard output.
///
/// Status lines (`key:`, `listening:`, `connected: KEY HOST:PORT`) go to standard error, since
/// standard output carries the stream. The node is a client: read-only in the DHT (BEP 43) and
/// publishing nothing, so it may share its identity with a running `keyway run`.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Pipe standard input and output over an encrypted stream to a key (netcat by key).",
        discussion: """
            KEY is found through the DHT (--seed, $KEYWAY_SEEDS, or the saved routing table); \
            KEY@HOST:PORT dials HOST:PORT first. The command ends when both directions have \
            ended: standard input reached its end and the peer acknowledged everything, and the \
            peer finished its side. Exit status: 0 done, 1 the key could not be reached \
            (no record, no session within --timeout), 2 bad input or any other error \
            (a reset stream included).
            """)

    @Argument(help: ArgumentHelp("The peer: KEY or KEY@HOST:PORT.", valueName: "key"))
    var peer: String

    @OptionGroup var identity: IdentityOptions
    @OptionGroup var node: StreamNodeOptions

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the record and the session together.", valueName: "seconds"))
    var timeout: Double = 10

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(fallback: .error, environment: environment)
        let limit = try StreamNodeOptions.duration(timeout, option: "--timeout")
        let target = try await PeerArgument(parsing: peer, option: "")
        let (path, keyPair) = try identity.loadOrCreate()
        var (configuration, seedNames) = try await node.clientConfiguration(
            keyPair: keyPair, identityPath: path, environment: environment, peer: target)
        configuration.logger = logger
        let status = StatusLines(toStandardError: true)
        try await StreamNodeRunner.run(configuration, status: status, seedNames: seedNames) { node in
            let stream: KeywayStream
            do {
                stream = try await node.connect(to: target.key, at: target.endpoints, timeout: limit)
            } catch let error as KeywayStreamError {
                switch error {
                case .notFound, .timedOut, .unreachable: throw CommandFailure.notFound("\(error)")
                default: throw CommandFailure.error("\(error)")
                }
            }
            let endpoint = (try? await node.sessionEndpoint(of: target.key)).flatMap { $0 }
            status.print("connected: \(target.key.zBase32) \(endpoint.map(\.description) ?? "-")")
            do {
                try await StreamPipes.pipeStandardIO(stream)
            } catch let error as KeywayStreamError {
                throw CommandFailure.error("\(error)")
            }
        }
    }
}
