import KeywayCore

/// What the simulated users do, and the phases of a run.
///
/// Phases: **join** (nodes start at uniform random times over ``joinWindow``, the seeds first,
/// and bootstrap), **publish and warm-up** (``warmup``: every node publishes its record at a
/// random time in the first half, so records land on the nodes closest to them in the grown
/// network; a node that bootstraps later publishes at once),
/// **measurement** (the run's `--duration`: resolves of random published keys at
/// ``resolveRate`` per second, churn and partitions), **heal** (churn stops and partitions end;
/// ``heal`` passes), **convergence check** (``checkPairs`` random pairs of live nodes: each must
/// resolve the other's newest record within ``checkBound``).
public struct WorkloadOptions: Sendable, Equatable {
    /// Seed nodes, the first contacts every other node is given (`--seeds`).
    public var seeds = 4
    /// The window over which nodes start (`--join-window`).
    public var joinWindow: Duration = .seconds(60)
    /// Quiet time after the join window before measuring (`--warmup`).
    public var warmup: Duration = .seconds(30)
    /// Resolves of random keys started per second across the network (`--resolve-rate`).
    public var resolveRate = 20.0
    /// After an address change, a probe resolve of the moved key starts this often until one
    /// returns the new address (`--probe-interval`).
    public var probeInterval: Duration = .milliseconds(250)
    /// A move whose new address no probe returned within this long counts as stale at this value.
    public var probeLimit: Duration = .seconds(60)
    /// Time between the end of churn and partitions and the convergence check (`--heal`).
    public var heal: Duration = .seconds(30)
    /// Pairs of live nodes the convergence check tries (`--check-pairs`; every ordered pair
    /// when there are fewer).
    public var checkPairs = 200
    /// How long a pair may take, retrying each second, to resolve the newest record (`--check-bound`).
    public var checkBound: Duration = .seconds(30)
    /// Width of the time-series buckets in the report (`--sample-interval`).
    public var sampleInterval: Duration = .seconds(10)
    /// How often every live node's store is audited (``InvariantChecker``).
    public var auditInterval: Duration = .seconds(30)
    /// Give every node an IPv6 address too, published in its record (`--dual-stack`).
    public var dualStack = false

    /// The defaults above.
    public init() {}
}
