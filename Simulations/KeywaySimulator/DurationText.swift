import KeywayCore

/// Text forms of durations for options and reports: `250ms`, `2s`, `1.5m`, `300us`.
public enum DurationText {
    /// Units accepted after a number, longest suffix first so `ms` is not read as `s`.
    private static let units: [(suffix: String, nanoseconds: Double)] = [
        ("min", 60e9), ("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// Parses `<number><unit>` with unit `ns`, `us`, `ms`, `s`, `m`/`min` or `h`; a bare number is
    /// seconds. `nil` for anything else, negatives, and values beyond a year.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingWhitespace()
        var number = Substring(trimmed)
        var scale = 1e9
        for unit in units where trimmed.hasSuffix(unit.suffix) {
            number = trimmed.dropLast(unit.suffix.count)
            scale = unit.nanoseconds
            break
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let nanoseconds = value * scale
        guard nanoseconds <= 365 * 86_400e9 else { return nil }
        return .nanoseconds(Int64(nanoseconds.rounded()))
    }

    /// The shortest exact-enough form: `50ms`, `2s`, `1.5s`, `120us`.
    public static func format(_ duration: Duration) -> String {
        let ns = duration.nanosecondsClamped
        if ns == 0 { return "0s" }
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns % 1_000 == 0 { return "\(ns / 1_000)us" }
        return "\(ns)ns"
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}

extension Duration {
    /// This duration in milliseconds as a floating-point number.
    public var milliseconds: Double { secondsDouble * 1000 }

    /// The duration of `seconds` (clamped at zero).
    static func seconds(double seconds: Double) -> Duration {
        .nanoseconds(Int64(max(0, min(seconds, 9e9)) * 1e9))
    }
}
