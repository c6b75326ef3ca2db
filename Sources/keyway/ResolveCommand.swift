import ArgumentParser
#if canImport(FoundationEssentials)
// FoundationEssentials (ProcessInfo, FileManager, UUID) without Foundation's ICU: smaller RSS.
import FoundationEssentials
#else
import Foundation
#endif
import Keyway
import KeywayCore
import KeywayCrypto
import Logging

/// `keyway resolve KEY`: the endpoints of the newest valid record of a key.
///
/// It runs a short-lived node with a throwaway key, marked read-only (BEP 43) so it is not added
/// to anyone's routing table, joins through the seeds and looks the key up.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Print the endpoints of the newest valid record of a key, one HOST:PORT a line.",
        discussion: "Exit status: 0 found, 1 not found within the timeout, 2 bad input or any other error.")

    @Argument(help: ArgumentHelp("The key: 52 z-base-32 characters, optionally after pk:, or 64 hex digits.", valueName: "key"))
    var key: String

    @Option(name: .long, help: ArgumentHelp("A node to ask first: HOST:PORT or KEY@HOST:PORT (repeatable; also $KEYWAY_SEEDS).", valueName: "host:port"))
    var seed: [String] = []

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for joining and the lookup together.", valueName: "seconds"))
    var timeout: Double = 10

    @Flag(name: .long, help: "Print the record as JSON: key, seq, publish time, endpoints.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Where the lookup's socket listens (default: any free port).", valueName: "host:port"))
    var listen: String?

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let logger = try logging.bootstrap(fallback: .error, environment: environment)
        let publicKey: Ed25519.PublicKey
        do {
            publicKey = try Ed25519.PublicKey(parsing: key)
        } catch {
            throw CommandFailure.error("invalid key: \(error)")
        }
        guard timeout > 0, timeout.isFinite, timeout <= 86_400 else {
            throw CommandFailure.error("--timeout must be between 0 and 86400 seconds, got \(timeout)")
        }
        let seeds = try NodeArguments.seeds(seed, environment: environment)
        guard !seeds.isEmpty else {
            throw CommandFailure.error("no seed: give --seed HOST:PORT or set \(SeedArgument.environmentVariable)")
        }
        let onlyIPv4 = seeds.allSatisfy { $0.endpoint.address.isIPv4 }
        let listen = try NodeArguments.listen(
            listen, fallback: onlyIPv4 ? Endpoint(address: .v4(0), port: 0) : KeywayNodeConfiguration.defaultListen)

        var configuration = KeywayNodeConfiguration(keyPair: Ed25519.KeyPair.generate())
        configuration.listen = listen
        configuration.seeds = seeds
        configuration.publishAutomatically = false
        configuration.contactsSaveInterval = nil
        configuration.dht.readOnly = true
        configuration.logger = logger

        let node: KeywayNode
        do {
            node = try await KeywayNode.start(configuration)
        } catch {
            throw NodeArguments.startFailure(error)
        }
        let result = await Result { try await node.resolve(publicKey, timeout: .milliseconds(Int64(timeout * 1000))) }
        // A read-only node's table fills only with nodes that answered it: empty means no seed did.
        let answered = ((try? await node.contacts()) ?? []).isEmpty == false
        await node.stop()

        let record: EndpointRecord?
        do {
            record = try result.get()
        } catch {
            throw CommandFailure.error("\(error)")
        }
        guard let record else {
            if !answered {
                let list = seeds.map(\.endpoint.description).joined(separator: ", ")
                throw CommandFailure.notFound("no seed answered within \(timeout) s (\(list))")
            }
            throw CommandFailure.notFound("no record of \(publicKey.zBase32) found within \(timeout) s")
        }
        if json {
            Console.out(RecordJSON.encode(record))
        } else {
            for endpoint in record.endpoints { Console.out(endpoint.description) }
        }
    }
}

extension Result where Failure == any Error {
    /// The result of `body`, as a value.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
