#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CoreMetrics
import Keyway
import KeywayCore
import Logging
import NIOCore
import Prometheus

/// Running a node for `listen`, `connect` and `forward`: start it, print `key:` and
/// `listening:`, follow its events, run the command's work until it ends or SIGINT/SIGTERM
/// arrives, and stop the node whatever happened.
enum StreamNodeRunner {
    /// Exit status after SIGINT or SIGTERM interrupted the work (128 + SIGINT, as shells report).
    static let interruptedStatus: Int32 = 130

    /// What SIGINT or SIGTERM means for a command.
    enum SignalMeaning {
        /// The work was cut short (`connect`, `listen` piping one stream): exit
        /// ``interruptedStatus``.
        case interruption
        /// The signal is how a service is told to stop (`listen --forward`, `forward`), as for
        /// `run`: a clean stop, exit 0.
        case stop
    }

    /// Starts a node with `configuration`, prints its `key:` and `listening:` lines, and follows
    /// its events with ``StatusLines/follow(_:)`` (shared by `run`, `listen`, `connect`, `forward`).
    /// With `seedNames`, the node's seed names are kept resolved (``SeedNames``), names that did
    /// not resolve retried when `retryUnresolved`. The returned task ends once the node has
    /// stopped.
    ///
    /// With `metrics`, the node's metrics are served there (``MetricsServer``) and a
    /// `metrics: HOST:PORT` line follows `listening:`.
    static func start(
        _ configuration: KeywayNodeConfiguration, status: StatusLines, seedNames: SeedNames? = nil, retryUnresolved: Bool = false,
        metrics metricsEndpoint: Endpoint? = nil, control: (path: String, command: String)? = nil
    ) async throws -> (KeywayNode, Task<Void, Never>) {
        let startedAt = ContinuousClock.now
        let node: KeywayNode
        do {
            node = try await KeywayNode.start(configuration)
        } catch {
            throw NodeArguments.startFailure(error)
        }
        var server: MetricsServer?
        var counting: Task<Void, Never>?
        if let metricsEndpoint {
            let metrics = NodeMetrics(node: node)
            do {
                server = try await MetricsServer.start(on: metricsEndpoint, metrics: metrics)
            } catch {
                await node.stop()
                throw error
            }
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
            counting = metrics.follow(await node.events())
        }
        var controlChannel: (any Channel)?
        if let control {
            controlChannel = await ControlSocket.serve(
                node, at: control.path, command: control.command, startedAt: startedAt, logger: configuration.logger)
        }
        let events = await node.events()
        status.print("key: \(node.publicKey.zBase32)")
        status.print("listening: \(node.localEndpoint)")
        if let server { status.print("metrics: \(server.localEndpoint)") }
        let printer = status.follow(events)
        let follower = seedNames.map { names in Task { await names.follow(node, retryUnresolved: retryUnresolved) } }
        return (node, Task { [server, controlChannel] in
            // The printer ends with the node's events, when it stops.
            await printer.value
            follower?.cancel()
            await follower?.value
            await counting?.value
            await server?.close()
            if let controlChannel, let control { await ControlSocket.close(controlChannel, path: control.path) }
        })
    }

    /// Starts a node with `configuration` and runs `work` with it until `work` ends or a signal
    /// arrives, which ends the command as `signal` says.
    static func run(
        _ configuration: KeywayNodeConfiguration, status: StatusLines, seedNames: SeedNames? = nil,
        metrics: Endpoint? = nil, control: (path: String, command: String)? = nil, signal meaning: SignalMeaning = .interruption,
        work: @escaping @Sendable (KeywayNode) async throws -> Void
    ) async throws {
        // A closed standard output or TCP peer must give an error, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let signals = Signals.termination()
        let (node, printer) = try await start(configuration, status: status, seedNames: seedNames, metrics: metrics, control: control)
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do {
                    try await work(node)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                for await number in signals {
                    configuration.logger.info("shutting down", metadata: ["signal": "\(number)"])
                    switch meaning {
                    case .interruption: return .failure(CommandFailure(status: interruptedStatus, message: nil))
                    case .stop: return .success(())
                    }
                }
                return nil
            }
            let first = await group.next() ?? nil
            // Stopping the node (after its bounded linger) fails whatever the work still waits
            // on, such as a stream end the vanished peer never acknowledged, so a signal ends
            // the command within KeywayNodeConfiguration.stopLingerLimit.
            await node.stop()
            group.cancelAll()
            return first ?? .success(())
        }
        await printer.value
        try outcome.get()
    }
}
