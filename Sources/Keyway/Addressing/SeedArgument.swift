import KeywayCore
import KeywayCrypto

/// Seed texts: `HOST:PORT`, or `KEY@HOST:PORT` when the seed's key is known, in which case the
/// core refuses a seed that answers with another identity (``DHTEvent/seedKeyMismatch(_:)``).
public enum SeedArgument {
    /// The environment variable that lists seeds, comma-separated, in addition to `--seed`.
    public static let environmentVariable = "KEYWAY_SEEDS"

    /// Parses one seed; throws an error whose description is one line.
    public static func parse(_ text: String) throws(SeedArgumentError) -> DHTSeed {
        let (expectedID, rest) = try splitKey(text)
        do {
            return DHTSeed(endpoint: try EndpointArgument.parse(rest, for: .contact), expectedID: expectedID)
        } catch {
            throw .endpoint(error)
        }
    }

    /// Parses one seed whose `HOST` may also be a DNS name (``HostPort``), to be resolved
    /// with ``HostResolver`` (``SeedHost/resolve()``).
    public static func parseHost(_ text: String) throws(SeedArgumentError) -> SeedHost {
        let (expectedID, rest) = try splitKey(text)
        do {
            return SeedHost(host: try HostPort.parse(rest, for: .contact), expectedID: expectedID)
        } catch {
            throw .endpoint(error)
        }
    }

    /// `KEY@HOST:PORT` split at its last `@`: the node ID the key names (`nil` without one) and
    /// the text after it (all of `text` without one).
    private static func splitKey(_ text: String) throws(SeedArgumentError) -> (expectedID: NodeID?, rest: String) {
        guard let at = text.lastIndex(of: "@") else { return (nil, text) }
        do {
            return (NodeID(publicKey: try Ed25519.PublicKey(parsing: text[..<at])), String(text[text.index(after: at)...]))
        } catch {
            throw .key(seed: text, error)
        }
    }

    /// ``parseHost(_:)`` for each item of a comma-separated list; empty items are skipped.
    public static func parseHostList(_ text: String) throws(SeedArgumentError) -> [SeedHost] {
        var seeds = [SeedHost]()
        for item in text.split(separator: ",") {
            let trimmed = trimmingBlanks(item)
            if trimmed.isEmpty { continue }
            seeds.append(try parseHost(trimmed))
        }
        return seeds
    }

    /// Parses a comma-separated list (the form of ``environmentVariable``); empty items are skipped.
    public static func parseList(_ text: String) throws(SeedArgumentError) -> [DHTSeed] {
        var seeds = [DHTSeed]()
        for item in text.split(separator: ",") {
            let trimmed = trimmingBlanks(item)
            if trimmed.isEmpty { continue }
            seeds.append(try parse(trimmed))
        }
        return seeds
    }

    /// `text` without leading and trailing spaces and tabs.
    private static func trimmingBlanks(_ text: Substring) -> String {
        var slice = text
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Why a seed text was refused; the description is one line.
public enum SeedArgumentError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The `HOST:PORT` part is wrong.
    case endpoint(EndpointArgumentError)
    /// The `KEY` part of `KEY@HOST:PORT` is not a key.
    case key(seed: String, KeyParseError)

    /// One line naming what was wrong.
    public var description: String {
        switch self {
        case let .endpoint(error): return "seed \(error)"
        case let .key(seed, error): return "seed \"\(seed)\": \(error)"
        }
    }
}

/// A seed as written: `HOST:PORT` (a DNS name allowed) and the key it must answer with, if given.
public struct SeedHost: Hashable, Sendable, CustomStringConvertible {
    /// Where the seed is.
    public var host: HostPort
    /// The routing ID the seed must answer with (`KEY@HOST:PORT`), or `nil`.
    public var expectedID: NodeID?

    /// A seed at `host`.
    public init(host: HostPort, expectedID: NodeID?) {
        self.host = host
        self.expectedID = expectedID
    }

    /// The seeds it stands for: one per address of its name (each checked against
    /// ``expectedID``), or the one endpoint it names.
    public func resolve() async throws(HostResolutionError) -> [DHTSeed] {
        try await HostResolver.endpoints(of: host).map { DHTSeed(endpoint: $0, expectedID: expectedID) }
    }

    /// `HOST:PORT` as written (without the key).
    public var description: String { host.description }
}
