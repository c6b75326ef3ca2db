#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// swift-log records as one JSON object a line on standard error (`--log-format json`), for log
/// collectors: `time` (RFC 3339, UTC, milliseconds), `level`, `label`, `source` (the module),
/// `message`, and `metadata` with the logger's and the record's metadata (the node's key as
/// `node`, a peer as `peer`, an endpoint as `endpoint`, ...), keys sorted. Each line is written
/// with one `write(2)`, so lines from several threads never interleave.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error { merged["error"] = "\(error)" }
        let record = Record(
            time: Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)),
            level: event.level.rawValue, label: label, source: event.source, message: event.message.description,
            metadata: merged.isEmpty ? nil : merged.mapValues(JSONLogValue.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var bytes = try? encoder.encode(record) else { return }
        bytes.append(UInt8(ascii: "\n"))
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// One log line.
    private struct Record: Encodable {
        let time: String
        let level: String
        let label: String
        let source: String
        let message: String
        let metadata: [String: JSONLogValue]?
    }
}

/// A swift-log metadata value as JSON: strings stay strings, lists arrays, dictionaries objects.
enum JSONLogValue: Encodable {
    case string(String)
    case array([JSONLogValue])
    case object([String: JSONLogValue])

    init(_ value: Logger.Metadata.Value) {
        switch value {
        case let .string(text): self = .string(text)
        case let .stringConvertible(convertible): self = .string(convertible.description)
        case let .array(values): self = .array(values.map(JSONLogValue.init))
        case let .dictionary(entries): self = .object(entries.mapValues(JSONLogValue.init))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .string(text): try container.encode(text)
        case let .array(values): try container.encode(values)
        case let .object(entries): try container.encode(entries)
        }
    }
}
