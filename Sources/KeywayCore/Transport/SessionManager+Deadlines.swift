import Collections

/// The timer queue: each peer's earliest deadline in a min-heap, so a datagram or a timeout
/// touches only the peers it concerns, never every peer (issue 12, attack 4: 1,111 idle
/// sessions made each read batch scan them all).
///
/// A peer's deadline depends only on its state, so it is computed again only for the peers an
/// operation touched (``touch(_:)``); each public entry point settles them before it returns
/// (``settleTimers()``). Entries are not removed from the heap when a deadline moves: a newer
/// token makes the old entry stale, stale entries are skipped as they surface, and the heap is
/// rebuilt when they outnumber the live ones.
extension SessionManager {
    /// One peer's deadline in the heap.
    struct DeadlineEntry: Comparable, Sendable {
        let at: Instant
        let slot: Int
        /// Matches ``PeerSession/deadlineToken`` while this entry is the peer's live one.
        let token: UInt64

        static func < (lhs: DeadlineEntry, rhs: DeadlineEntry) -> Bool { (lhs.at, lhs.token) < (rhs.at, rhs.token) }
    }

    /// Marks the peer in `slot` as changed: its deadline is computed again when the current
    /// operation settles.
    mutating func touch(_ slot: Int) {
        guard let peer = peers[slot], !peer.deadlineDirty else { return }
        peers[slot]!.deadlineDirty = true
        dirtySlots.append(slot)
    }

    /// Computes the deadline of every touched peer again and leaves a live entry on top of the
    /// heap, so ``nextTimeout()`` is a peek.
    mutating func settleTimers() {
        while let slot = dirtySlots.popLast() {
            guard peers[slot] != nil else { continue }
            peers[slot]!.deadlineDirty = false
            reschedule(slot)
        }
        if deadlines.count > 2 * slots.count + 64 {
            // Mostly stale: rebuild from the live entries (amortised O(1) per reschedule).
            deadlines = Heap(deadlines.unordered.filter(isLive))
        }
        while let top = deadlines.min, !isLive(top) { deadlines.removeMin() }
    }

    /// Whether `entry` is its peer's current deadline.
    func isLive(_ entry: DeadlineEntry) -> Bool {
        peers[entry.slot]?.deadlineToken == entry.token
    }

    /// Puts the peer in `slot` into the heap at its earliest deadline (or takes it out).
    private mutating func reschedule(_ slot: Int) {
        timerEvaluations += 1
        let due = timers(of: peers[slot]!).map(\.1).min()
        guard due != peers[slot]!.scheduledDeadline || (due != nil && peers[slot]!.deadlineToken == 0) else { return }
        peers[slot]!.scheduledDeadline = due
        guard let due else {
            peers[slot]!.deadlineToken = 0
            return
        }
        deadlineSerial += 1
        peers[slot]!.deadlineToken = deadlineSerial
        deadlines.insert(DeadlineEntry(at: due, slot: slot, token: deadlineSerial))
    }

    /// Takes the peers whose deadline is at or before `now` off the heap, earliest first.
    mutating func popDuePeers(now: Instant) -> [Int] {
        var due: [Int] = []
        while let top = deadlines.min, top.at <= now {
            deadlines.removeMin()
            guard isLive(top) else { continue }
            peers[top.slot]!.deadlineToken = 0
            peers[top.slot]!.scheduledDeadline = nil
            due.append(top.slot)
        }
        return due
    }
}
