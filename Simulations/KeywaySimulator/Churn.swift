import KeywayCore

/// Nodes leaving, crashing, coming back and changing address, during the measurement phase.
///
/// - Sessions: each non-seed node's time online is drawn from ``sessions`` with mean
///   1 / ``rate`` minutes. When it ends the node leaves: gracefully (it keeps its routing table,
///   as a node that saves it to disk on shutdown) or, with probability ``crashFraction``, by
///   crashing (it loses all state but its key). KRPC has no goodbye message, so peers notice
///   either only by silence.
/// - Rejoins: after a downtime drawn from ``downtimes`` with mean ``downtime`` the node comes
///   back with the same key at a new address (a restarted container), bootstraps from the
///   seeds (and its saved contacts) and republishes.
/// - IP churn: at ``ipChurnRate`` moves per live node per minute (a Poisson process), a live
///   node's address changes under it; it keeps its identity and state, rebinds and republishes
///   at once with a newer `seq`. Freshness is measured after each move.
/// - Seed nodes never churn: they stand for the stable first contacts an operator runs.
public struct ChurnOptions: Sendable, Equatable {
    /// Sessions ending per live node per minute (`--churn`); 0 turns session churn off.
    public var rate = 0.0
    /// The law of session lengths (`--sessions`).
    public var sessions = DistributionKind.exponential
    /// Share of departures that are crashes (`--crash-fraction`).
    public var crashFraction = 0.5
    /// Mean time a departed node stays away (`--downtime`).
    public var downtime: Duration = .seconds(30)
    /// The law of downtimes.
    public var downtimes = DistributionKind.exponential
    /// Address changes per live node per minute (`--ip-churn`); 0 turns IP churn off.
    public var ipChurnRate = 0.0

    /// No churn.
    public init() {}

    /// Whether nodes leave, rejoin or move at all.
    public var isActive: Bool { rate > 0 || ipChurnRate > 0 }
}
