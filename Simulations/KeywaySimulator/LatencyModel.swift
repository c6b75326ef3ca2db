import Foundation
import KeywayCore

/// How long a datagram takes from one node to another, one way.
///
/// Text forms (for `--latency`), durations as in ``DurationText``:
/// - `fixed:50ms` (or just `50ms`): always the same;
/// - `uniform:20ms,80ms`: uniform between the two;
/// - `lognormal:40ms,0.5`: log-normal with that median and sigma (a long right tail);
/// - `pareto:30ms,2.5`: Pareto with that minimum and shape (a heavier tail);
/// - `regions:world` or `regions:5,40;40,5` (milliseconds, rows separated by `;`): nodes are
///   spread evenly over regions and each pair of regions has its own one-way latency, with
///   ±``RegionMatrix/jitter`` uniform jitter.
public enum LatencyModel: Sendable, Equatable, CustomStringConvertible {
    /// Always `latency`.
    case fixed(Duration)
    /// Uniform in `[minimum, maximum]`.
    case uniform(Duration, Duration)
    /// exp(N(ln median, sigma²)).
    case logNormal(median: Duration, sigma: Double)
    /// minimum / U^(1/shape).
    case pareto(minimum: Duration, shape: Double)
    /// Per region pair.
    case regions(RegionMatrix)

    /// The longest one-way latency any model may produce; longer draws are clamped to it.
    public static let ceiling: Duration = .seconds(10)

    /// Number of regions nodes are spread over (1 unless ``regions(_:)``).
    public var regionCount: Int {
        if case let .regions(matrix) = self { return matrix.count }
        return 1
    }

    /// One draw for a datagram from a node in region `from` to one in region `to`.
    @inline(__always)
    public func sample(from: Int, to: Int, using rng: inout SeededRandom) -> Duration {
        let seconds: Double
        switch self {
        case let .fixed(latency):
            return latency
        case let .uniform(low, high):
            seconds = low.secondsDouble + (high.secondsDouble - low.secondsDouble) * rng.unit()
        case let .logNormal(median, sigma):
            seconds = median.secondsDouble * exp(sigma * rng.normal())
        case let .pareto(minimum, shape):
            seconds = minimum.secondsDouble / pow(rng.openUnit(), 1 / shape)
        case let .regions(matrix):
            let base = matrix.oneWay[from][to].secondsDouble
            seconds = base * (1 + matrix.jitter * (2 * rng.unit() - 1))
        }
        return .seconds(double: min(seconds, LatencyModel.ceiling.secondsDouble))
    }

    /// Parses a text form (see the type's documentation).
    public init(parsing text: String) throws(OptionError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.count == 2 ? parts[0].lowercased() : "fixed"
        let argument = parts.count == 2 ? parts[1] : text
        let fields = argument.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        func duration(_ field: String) throws(OptionError) -> Duration {
            guard let value = DurationText.parse(field), value <= LatencyModel.ceiling else {
                throw OptionError("--latency: '\(field)' is not a duration up to 10s (like 50ms)")
            }
            return value
        }
        func number(_ field: String, _ what: String, _ valid: (Double) -> Bool) throws(OptionError) -> Double {
            guard let value = Double(field), value.isFinite, valid(value) else {
                throw OptionError("--latency: '\(field)' is not a valid \(what)")
            }
            return value
        }
        switch (kind, fields.count) {
        case ("fixed", 1):
            self = .fixed(try duration(fields[0]))
        case ("uniform", 2):
            let low = try duration(fields[0]), high = try duration(fields[1])
            guard low <= high else { throw OptionError("--latency uniform: the minimum exceeds the maximum") }
            self = .uniform(low, high)
        case ("lognormal", 2):
            self = .logNormal(median: try duration(fields[0]), sigma: try number(fields[1], "sigma (0 to 3)") { $0 >= 0 && $0 <= 3 })
        case ("pareto", 2):
            self = .pareto(minimum: try duration(fields[0]), shape: try number(fields[1], "shape (above 1, up to 20)") { $0 > 1 && $0 <= 20 })
        case ("regions", _):
            self = .regions(try RegionMatrix(parsing: argument))
        default:
            throw OptionError("--latency: '\(text)' is not fixed:D, uniform:D,D, lognormal:D,SIGMA, pareto:D,SHAPE or regions:world|MATRIX")
        }
    }

    /// The text form, which ``init(parsing:)`` reads back.
    public var description: String {
        switch self {
        case let .fixed(latency): return "fixed:\(DurationText.format(latency))"
        case let .uniform(low, high): return "uniform:\(DurationText.format(low)),\(DurationText.format(high))"
        case let .logNormal(median, sigma): return "lognormal:\(DurationText.format(median)),\(sigma)"
        case let .pareto(minimum, shape): return "pareto:\(DurationText.format(minimum)),\(shape)"
        case let .regions(matrix): return "regions:\(matrix)"
        }
    }
}
