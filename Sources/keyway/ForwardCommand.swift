import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import KeywayCore
import KeywayCrypto
import Logging
import NIOCore
import NIOPosix

/// `keyway forward --local HOST:PORT --to KEY`: a local TCP port whose every connection
/// becomes a stream to KEY (where `keyway listen --forward` hands it to its service).
struct ForwardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Let TCP clients of a local port reach a key's forwarded service.",
        discussion: """
            Runs until SIGINT or SIGTERM. Prints key:, listening: (the UDP socket) and \
            forwarding: HOST:PORT (the TCP port, with the real port when 0 was asked for) on \
            standard output. Each TCP connection opens a stream to KEY (found through the DHT; \
            KEY@HOST:PORT dials HOST:PORT first); a key that cannot be reached closes the \
            connection. The node is a client: read-only in the DHT, publishing nothing.
            """)

    @Option(name: .long, help: ArgumentHelp("The TCP address to accept connections on (e.g. 127.0.0.1:8080).", valueName: "host:port"))
    var local: String

    @Option(name: .long, help: ArgumentHelp("The peer: KEY or KEY@HOST:PORT.", valueName: "key"))
    var to: String

    @OptionGroup var identity: IdentityOptions
    @OptionGroup var node: StreamNodeOptions

    @Option(name: .long, help: ArgumentHelp("Seconds each connection waits for the record and the session.", valueName: "seconds"))
    var timeout: Double = 10

    @OptionGroup var metrics: MetricsOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(fallback: .warning, environment: environment)
        let localEndpoint = try await NodeArguments.listen(local, fallback: KeywayNodeConfiguration.defaultListen, option: "--local")
        let limit = try StreamNodeOptions.duration(timeout, option: "--timeout")
        let target = try await PeerArgument(parsing: to, option: "--to ")
        let metricsEndpoint = try await metrics.endpoint()
        let (path, keyPair) = try identity.loadOrCreate()
        var (configuration, seedNames) = try await node.clientConfiguration(
            keyPair: keyPair, identityPath: path, environment: environment, peer: target)
        configuration.logger = logger
        let server = try await TCP.listen(on: localEndpoint)
        let status = StatusLines(toStandardError: false)
        try await StreamNodeRunner.run(configuration, status: status, seedNames: seedNames, metrics: metricsEndpoint, signal: .stop) { node in
            status.print("forwarding: \(server.localEndpoint)")
            try await server.channel.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask {
                            do {
                                let stream = try await node.connect(to: target.key, at: target.endpoints, timeout: limit)
                                try await StreamPipes.pipe(connection, stream)
                            } catch {
                                logger.warning("forwarding a connection failed", metadata: [
                                    "peer": "\(target.key.zBase32)", "error": "\(error)",
                                ])
                                try? await connection.channel.close()
                            }
                        }
                    }
                }
            }
        }
    }
}
