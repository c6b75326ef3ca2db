import KeywayCore
import KeywayCrypto

/// Seed texts: `HOST:PORT`, or `KEY@HOST:PORT` when the seed's key is known, in which case the
/// core refuses a seed that answers with another identity (``DHTEvent/seedKeyMismatch(_:)``).
public enum SeedArgument {
    /// The environment variable that lists seeds, comma-separated, in addition to `--seed`.
    public static let environmentVariable = "KEYWAY_SEEDS"

    /// Parses one seed; throws an error whose description is one line.
    public static func parse(_ text: String) throws(SeedArgumentError) -> DHTSeed {
        guard let at = text.lastIndex(of: "@") else {
            do {
                return DHTSeed(endpoint: try EndpointArgument.parse(text, for: .contact))
            } catch {
                throw .endpoint(error)
            }
        }
        let keyText = text[..<at], endpointText = String(text[text.index(after: at)...])
        let key: Ed25519.PublicKey
        do {
            key = try Ed25519.PublicKey(parsing: keyText)
        } catch {
            throw .key(seed: text, error)
        }
        do {
            let endpoint = try EndpointArgument.parse(endpointText, for: .contact)
            return DHTSeed(endpoint: endpoint, expectedID: NodeID(publicKey: key))
        } catch {
            throw .endpoint(error)
        }
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
