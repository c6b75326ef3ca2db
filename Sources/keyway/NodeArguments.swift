import Keyway
import KeywayCore

/// Turning the address texts of the command line into endpoints and seeds; every failure is
/// one line and exit status 2.
enum NodeArguments {
    /// `--listen`, or `fallback`.
    static func listen(_ text: String?, fallback: Endpoint) throws -> Endpoint {
        guard let text else { return fallback }
        do {
            return try EndpointArgument.parse(text, for: .listen)
        } catch {
            throw CommandFailure.error("--listen \(error)")
        }
    }

    /// The listening address used when `--listen` is not given: `127.0.0.1:0` when every
    /// address the node is told to contact (`contacts`: its seeds, a peer's `KEY@HOST:PORT`) is
    /// an IPv4 loopback address, `[::1]:0` when each is an IPv6 loopback address, else
    /// ``KeywayNodeConfiguration/defaultListen`` (`[::]:0`).
    ///
    /// A node whose only contacts are on this host can reach no one else, so it neither binds
    /// every interface nor publishes the host's external addresses: a loopback mesh stays on
    /// loopback (issue 15: a "loopback" test dialled the host's external address).
    static func defaultListen(contacting contacts: [Endpoint]) -> Endpoint {
        guard !contacts.isEmpty, contacts.allSatisfy(\.address.isLoopback) else { return KeywayNodeConfiguration.defaultListen }
        if contacts.contains(where: \.address.isIPv4) { return Endpoint(address: EndpointArgument.localhostAddress, port: 0) }
        return Endpoint(address: .v6(high: 0, low: 1), port: 0)
    }

    /// `--announce` endpoints.
    static func announce(_ texts: [String]) throws -> [Endpoint] {
        try texts.map { text in
            do {
                return try EndpointArgument.parse(text, for: .contact)
            } catch {
                throw CommandFailure.error("--announce \(error)")
            }
        }
    }

    /// `--seed` values, then the seeds of `KEYWAY_SEEDS`, without repeats.
    static func seeds(_ texts: [String], environment: [String: String]) throws -> [DHTSeed] {
        var seeds = [DHTSeed]()
        do {
            for text in texts { seeds.append(try SeedArgument.parse(text)) }
            if let list = environment[SeedArgument.environmentVariable] {
                seeds += try SeedArgument.parseList(list)
            }
        } catch {
            throw CommandFailure.error("\(error)")
        }
        var unique = [DHTSeed]()
        for seed in seeds where !unique.contains(seed) { unique.append(seed) }
        return unique
    }

    /// The error of a node that could not start, as a command failure.
    static func startFailure(_ error: any Error) -> CommandFailure {
        CommandFailure.error("\(error)")
    }
}
