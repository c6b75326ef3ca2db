/// Path MTU discovery for one session: datagram packetization-layer PMTUD (RFC 8899), reduced
/// to what a reliable stream needs.
///
/// Definitions. A session's *datagram size* is the most bytes one of its data packets may take
/// on the wire above UDP (header, frames and tag). ``base`` is assumed to cross every path
/// (RFC 8899's BASE_PLPMTU); ``maximum`` is the largest size the search tries (MAX_PLPMTU). A
/// *size probe* is a packet of exactly the size being tried, carrying PING and PADDING only.
///
/// The search: first the maximum (a loopback path takes it at once), then the common sizes in
/// ``candidates`` that lie between what is known to work and what failed (a jumbo frame, an
/// Ethernet frame: most paths are one of them, so a good size is in use within a few round
/// trips), then bisection between the largest size acknowledged and the smallest that failed,
/// until they are within ``precision``. Each size is tried with ``attempts`` probes sent together, so a
/// step costs one round trip: one acknowledged probe proves the size, and the size fails when
/// all were lost. Converged, the search rests for ``raiseInterval`` and then tries higher again
/// (RFC 8899 PMTU_RAISE_TIMER).
///
/// Contracts:
/// - A probe's loss MUST NOT count as congestion, and a probe MUST NOT carry stream data, so
///   nothing waits on it.
/// - A sender MUST send with the don't-fragment bit set (Linux `IP_PMTUDISC_DO`); otherwise a
///   path that fragments would pass probes and then split every packet.
/// - When packets of the size in use stop arriving (a black hole: the path shrank), the caller
///   MUST report it with ``blackHole()``, which falls back to ``base`` at once, and from
///   ``base`` to ``minimum`` (RFC 8899 MIN_PLPMTU) when even that does not cross, as in a
///   tunnel narrower than the base; the search then continues below the size that failed.
struct PathMTUSearch: Sendable {
    /// The size assumed to work almost everywhere, used from the start.
    let base: Int
    /// The size used when even ``base`` does not cross.
    let minimum: Int
    /// The largest size tried.
    let maximum: Int
    /// Probes lost at one size before it counts as too large.
    let attempts: Int
    /// The search ends when the size in use is this close to one known to fail.
    let precision: Int
    /// How long a converged search rests before it tries higher again.
    let raiseInterval: Duration
    /// Common path MTUs tried before bisection; the caller MUST give them largest first.
    let candidates: [Int]

    /// The size data packets may have now: ``base`` or a size a probe proved.
    private(set) var current: Int
    /// The smallest size known not to cross (`maximum + 1` while none is).
    private var ceiling: Int
    /// Probes of ``target`` sent, and lost, so far.
    private var sent = 0
    private var lost = 0
    /// When a converged search starts again.
    private var resumeAt: Instant?

    /// A search from `base` up to `maximum`; with `maximum <= base` it never probes.
    init(base: Int, minimum: Int, maximum: Int, attempts: Int, precision: Int, raiseInterval: Duration, candidates: [Int] = []) {
        self.base = base
        self.minimum = min(minimum, base)
        self.maximum = max(base, maximum)
        self.attempts = max(1, attempts)
        self.precision = max(1, precision)
        self.raiseInterval = raiseInterval
        self.candidates = candidates
        current = base
        ceiling = self.maximum + 1
    }

    /// The size the next probe tries: the maximum first, then the largest common size not yet
    /// ruled out, then the middle of what is unknown.
    private var target: Int {
        if ceiling > maximum { return maximum }
        if let common = candidates.first(where: { $0 > current && $0 < ceiling }) { return common }
        return (current + ceiling) / 2
    }

    /// Whether the search has nothing left to try until ``resumeAt``.
    private var converged: Bool { ceiling - current <= precision }

    /// The size of the probe to send at `now`, if one is due.
    mutating func dueProbe(now: Instant) -> Int? {
        if let resumeAt {
            guard now >= resumeAt else { return nil }
            self.resumeAt = nil
            ceiling = maximum + 1
            startStep()
        }
        if converged {
            resumeAt = now + raiseInterval
            return nil
        }
        return sent < attempts ? target : nil
    }

    /// A probe of the size ``dueProbe(now:)`` gave was sent.
    mutating func probeSent() {
        sent += 1
    }

    /// A probe of `size` was acknowledged: the path carries it.
    mutating func probeAcknowledged(size: Int) {
        guard size > current, size < ceiling else { return }
        current = size
        startStep()
    }

    /// A probe of `size` was lost; when every probe of the size being tried was, that size
    /// counts as too large.
    mutating func probeLost(size: Int) {
        guard size == target, !converged else { return }
        lost += 1
        if lost >= attempts {
            ceiling = size
            startStep()
        }
    }

    /// Forgets the probes of the last step: the next step tries a new size.
    private mutating func startStep() {
        sent = 0
        lost = 0
    }

    /// Packets of the size in use stopped arriving: fall back to ``base`` (or, from ``base``,
    /// to ``minimum``) and search again below the size that failed.
    mutating func blackHole() {
        guard current > minimum else { return }
        ceiling = current
        current = current > base ? base : minimum
        startStep()
        resumeAt = nil
    }
}
