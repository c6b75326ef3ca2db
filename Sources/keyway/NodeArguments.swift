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
