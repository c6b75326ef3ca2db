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

/// `keyway resolve KEY`: the endpoints of the newest valid record of a key, or with `--item`
/// the newest valid BEP 44 mutable item under the key (and `--salt`), whatever it holds.
///
/// It runs a short-lived node with a throwaway key, marked read-only (BEP 43) so it is not added
/// to anyone's routing table, joins through the seeds and looks the key up.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Print the endpoints of the newest valid record of a key, one HOST:PORT a line.",
        discussion: """
            With --item, print the newest valid BEP 44 mutable item signed by KEY instead (under \
            --salt or --salt-hex, if given): `seq: N` and `value: TEXT` (a UTF-8 value without \
            control characters), `value-hex: HEX` (any other byte string) or `bencoded-hex: HEX` \
            (a value that is not a byte string); with --json one line with key, salt_hex, seq, \
            value | value_hex | bencoded_hex, and signature_hex. \
            Exit status: 0 found, 1 not found within the timeout, 2 bad input or any other error.
            """)

    @Argument(help: ArgumentHelp("The key: 52 z-base-32 characters, optionally after pk:, or 64 hex digits.", valueName: "key"))
    var key: String

    @Option(name: .long, help: ArgumentHelp(
        "A node to ask first: HOST:PORT or KEY@HOST:PORT, HOST an address or a host name (repeatable; also $KEYWAY_SEEDS).",
        valueName: "host:port"))
    var seed: [String] = []

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for joining and the lookup together.", valueName: "seconds"))
    var timeout: Double = 10

    @Flag(name: .long, help: "Print the record as JSON: key, seq, publish time, endpoints (with --item: the item's fields).")
    var json = false

    @Flag(name: .long, help: "Print the newest valid BEP 44 mutable item (seq and value), whatever it holds, not endpoints.")
    var item = false

    @Option(name: .long, help: ArgumentHelp("With --item: the item's salt, as UTF-8 text (at most 64 bytes).", valueName: "text"))
    var salt: String?

    @Option(name: .customLong("salt-hex"), help: ArgumentHelp("With --item: the item's salt, in hex (at most 64 bytes).", valueName: "hex"))
    var saltHex: String?

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
        let itemSalt = try self.itemSalt()
        let seedHosts = try NodeArguments.seedHosts(seed, environment: environment)
        guard !seedHosts.isEmpty else {
            throw CommandFailure.error("no seed: give --seed HOST:PORT or set \(SeedArgument.environmentVariable)")
        }
        let seeds = try await NodeArguments.seeds(seedHosts)
        let onlyIPv4 = seeds.allSatisfy { $0.endpoint.address.isIPv4 }
        let listen = try await NodeArguments.listen(
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
        let lookup = Duration.milliseconds(Int64(timeout * 1000))
        let result = await Result { () async throws -> Found? in
            if let itemSalt {
                return try await node.resolveItem(publicKey, salt: itemSalt, timeout: lookup).map(Found.item)
            }
            return try await node.resolve(publicKey, timeout: lookup).map(Found.record)
        }
        // A read-only node's table fills only with nodes that answered it: empty means no seed did.
        let answered = ((try? await node.contacts()) ?? []).isEmpty == false
        await node.stop()

        let found: Found?
        do {
            found = try result.get()
        } catch {
            throw CommandFailure.error("\(error)")
        }
        switch found {
        case nil:
            if !answered {
                let list = seeds.map(\.endpoint.description).joined(separator: ", ")
                throw CommandFailure.notFound("no seed answered within \(timeout) s (\(list))")
            }
            let what = itemSalt.map { $0.isEmpty ? "item" : "item with salt \($0.hexString)" } ?? "record"
            throw CommandFailure.notFound("no \(what) of \(publicKey.zBase32) found within \(timeout) s")
        case let .record(record)?:
            if json {
                Console.out(RecordJSON.encode(record))
            } else {
                for endpoint in record.endpoints { Console.out(endpoint.description) }
            }
        case let .item(item)?:
            if json {
                Console.out(ItemOutput.json(item))
            } else {
                ItemOutput.lines(item).forEach(Console.out)
            }
        }
    }

    /// What a resolve found.
    private enum Found {
        case record(EndpointRecord)
        case item(MutableItem)
    }

    /// The salt to look the item up under with `--item` (empty without a salt option); `nil`
    /// without `--item`. Throws on a salt option without `--item`, both salt options, bad hex, or
    /// a salt over BEP 44's 64 bytes.
    private func itemSalt() throws -> [UInt8]? {
        guard item else {
            guard salt == nil, saltHex == nil else { throw CommandFailure.error("--salt and --salt-hex need --item") }
            return nil
        }
        let bytes: [UInt8]
        switch (salt, saltHex) {
        case (nil, nil): bytes = []
        case let (text?, nil): bytes = Array(text.utf8)
        case let (nil, hex?):
            guard let decoded = [UInt8](hex: hex) else { throw CommandFailure.error("--salt-hex is not hex: \(hex)") }
            bytes = decoded
        default: throw CommandFailure.error("give --salt or --salt-hex, not both")
        }
        guard bytes.count <= DHTSpec.maximumSaltLength else {
            throw CommandFailure.error("the salt is \(bytes.count) bytes; BEP 44 allows at most \(DHTSpec.maximumSaltLength)")
        }
        return bytes
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
