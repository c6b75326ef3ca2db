import KeywayCore

/// What the virtual network does wrong, besides latency. Every fault is a typed option.
public struct FaultOptions: Sendable, Equatable {
    /// Probability that a datagram is lost (`--loss`).
    public var loss = 0.0
    /// Probability that a datagram is delivered twice, the copy with its own latency (`--duplicate`).
    public var duplication = 0.0
    /// Probability that a datagram is held back by up to ``reorderingDelay`` extra, so later ones
    /// overtake it (`--reorder`).
    public var reordering = 0.0
    /// The most a reordered datagram is held back.
    public var reorderingDelay: Duration = .milliseconds(200)
    /// Probability that one byte of a datagram is flipped in transit (`--corrupt`): exercises
    /// the decoder's refusals and the signature checks.
    public var corruption = 0.0
    /// Network partitions, each for a window of the measurement phase (`--partition`).
    public var partitions: [PartitionFault] = []

    /// No faults.
    public init() {}

    /// Whether any fault is active.
    public var isEmpty: Bool {
        loss == 0 && duplication == 0 && reordering == 0 && corruption == 0 && partitions.isEmpty
    }
}

/// A partition: for `duration` from `start` (counted from the start of the measurement phase),
/// a random `fraction` of the nodes can talk only among themselves, the rest likewise.
public struct PartitionFault: Sendable, Equatable, CustomStringConvertible {
    /// When it begins, from the start of the measurement phase.
    public var start: Duration
    /// How long it lasts.
    public var duration: Duration
    /// Share of the nodes cut off on the smaller side (0 to 0.5).
    public var fraction: Double

    /// A partition from its parts.
    public init(start: Duration, duration: Duration, fraction: Double) {
        self.start = start
        self.duration = duration
        self.fraction = fraction
    }

    /// Parses `START+LENGTH[:FRACTION]`, like `60s+30s:0.3` (the fraction defaults to 0.5).
    public init(parsing text: String) throws(OptionError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let window = parts[0].split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, window.count == 2, let start = DurationText.parse(window[0]),
              let duration = DurationText.parse(window[1]), duration > .zero else {
            throw OptionError("--partition: '\(text)' is not START+LENGTH[:FRACTION], like 60s+30s:0.3")
        }
        var fraction = 0.5
        if parts.count == 2 {
            guard let value = Double(parts[1]), value > 0, value <= 0.5 else {
                throw OptionError("--partition: the fraction in '\(text)' must be above 0 and at most 0.5")
            }
            fraction = value
        }
        self.init(start: start, duration: duration, fraction: fraction)
    }

    /// `START+LENGTH:FRACTION`.
    public var description: String {
        "\(DurationText.format(start))+\(DurationText.format(duration)):\(fraction)"
    }
}
