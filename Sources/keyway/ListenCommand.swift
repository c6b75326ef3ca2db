import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import KeywayCore
import Logging
import NIOCore
import NIOPosix

/// `keyway listen`: accepts streams. Without `--forward` it pipes the first stream to standard
/// output (and standard input into it), netcat style, and ends with it; with `--forward
/// HOST:PORT` it runs until SIGINT or SIGTERM and connects each stream to that TCP service.
/// Its status lines go to standard error in both modes (issue 15: they used to move to standard
/// output with `--forward`).
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Accept streams: pipe one to standard output, or forward each to a local TCP port.",
        discussion: """
            The node publishes its endpoints like `keyway run`, so peers reach it with \
            `keyway connect KEY` or `keyway forward --to KEY`. Status lines (key:, listening:, \
            published:, accepted: KEY) always go to standard error, with --forward too, so a \
            script reads them from one place whichever the mode (without --forward standard \
            output carries the stream). It refuses to start (exit status 2) \
            unless --allow KEY, --allow-file FILE or --mesh-secret-file FILE limits who may \
            connect, or --allow-any says that any key may.
            """)

    @OptionGroup var identity: IdentityOptions
    @OptionGroup var node: StreamNodeOptions

    @Option(name: .long, help: ArgumentHelp("An endpoint to publish besides the ones found (repeatable).", valueName: "host:port"))
    var announce: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "Connect each incoming stream to this TCP service (HOST: an IP address or a host name, resolved for each stream).",
        valueName: "host:port"))
    var forward: String?

    @OptionGroup var metrics: MetricsOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(fallback: .warning, environment: environment)
        try node.requirePeerRestriction(command: "keyway listen")
        let service: HostPort?
        do {
            service = try forward.map { try HostPort.parse($0, for: .contact) }
        } catch {
            throw CommandFailure.error("--forward \(error)")
        }
        // A name is resolved again for each stream; an unresolvable one is refused at start.
        if let service { _ = try await NodeArguments.endpoints(of: service, option: "--forward") }
        let announced = try await NodeArguments.announce(announce)
        let metricsEndpoint = try await metrics.endpoint()
        let (path, keyPair) = try identity.loadOrCreate()
        var (configuration, seedNames) = try await node.configuration(keyPair: keyPair, environment: environment)
        configuration.announce = announced
        configuration.contactsFile = ContactsFile.defaultPath(forIdentity: path)
        configuration.logger = logger
        let status = StatusLines(toStandardError: true)
        try await StreamNodeRunner.run(
            configuration, status: status, seedNames: seedNames, metrics: metricsEndpoint,
            control: (ControlSocket.path(forIdentity: path), "listen"),
            signal: service == nil ? .interruption : .stop
        ) { node in
            let incoming = await node.incomingStreams()
            if let service {
                try await Self.forwardEach(incoming, to: service, status: status, logger: logger)
            } else {
                for await stream in incoming {
                    status.print("accepted: \(stream.peer.zBase32)")
                    do {
                        try await StreamPipes.pipeStandardIO(stream)
                    } catch let error as KeywayStreamError {
                        throw CommandFailure.error("\(error)")
                    }
                    return
                }
            }
        }
    }

    /// Connects every stream of `incoming` to the TCP service at `service`, each in a task of
    /// its own.
    static func forwardEach(
        _ incoming: AsyncStream<KeywayStream>, to service: HostPort, status: StatusLines, logger: Logger
    ) async throws {
        await withDiscardingTaskGroup { group in
            for await stream in incoming {
                status.print("accepted: \(stream.peer.zBase32)")
                group.addTask {
                    do {
                        let connection = try await TCP.connect(to: service)
                        try await StreamPipes.pipe(connection, stream)
                    } catch {
                        logger.warning("forwarding a stream failed", metadata: [
                            "peer": "\(stream.peer.zBase32)", "service": "\(service)", "error": "\(error)",
                        ])
                        await stream.reset()
                    }
                }
            }
        }
    }
}
