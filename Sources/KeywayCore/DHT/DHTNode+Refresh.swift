/// Bucket refresh at join: Kademlia's last step of joining (Maymounkov & Mazières, section 2.3:
/// "Finally, u refreshes all k-buckets further away than its closest neighbor").
///
/// Why it is needed: the bootstrap lookup of our own ID only meets nodes on the path toward our
/// own ID. A bucket `i` holds the nodes that share exactly `i` leading bits with us, the
/// sibling subtree at depth `i + 1`; the own-ID lookup walks past the far ones but never enters
/// the near siblings, and nodes learnt from answers are not added to the table (only responders
/// and queriers are). After a mass join, both halves of a subtree can then end up with that
/// bucket empty: neither half knows the other, a lookup from one half for a key in the other ends
/// on the 8 closest nodes of its own half, and the key is missed although every replica is live
/// (Docs/SIMULATION.md, "Lookups that settled in the wrong half"). A lookup of a random ID in each
/// bucket's range fills it, and the queries it sends announce us to that subtree in turn.
extension DHTNode {
    /// Join refreshes still to start (bucket indices, nearest first) and those running.
    struct JoinRefreshState: Sendable {
        var waiting: [Int] = []
        var running: Set<OperationID> = []
    }

    /// Queues a refresh of every bucket farther than our closest neighbour's, and starts the
    /// first ``DHTConfiguration/joinRefreshParallelism`` of them. Called when a bootstrap lookup
    /// of our own ID ends.
    mutating func scheduleJoinRefresh(now: Instant) {
        guard configuration.refreshBucketsOnJoin, routingTable.count > 0 else { return }
        let neighbour = routingTable.closest(to: id, count: 1).first.map { routingTable.bucketIndex(for: $0.id) } ?? 0
        // Bucket indices below the last never change when the table splits, so they stay valid
        // while the refreshes run. Nearest first: the sibling subtrees nearest to us are the ones
        // the own-ID lookup is least likely to have met.
        joinRefresh.waiting = Array((0..<min(neighbour, routingTable.buckets.count - 1)).reversed())
        startJoinRefreshes(now: now)
    }

    /// Starts waiting join refreshes while fewer than the allowed number run.
    mutating func startJoinRefreshes(now: Instant) {
        while joinRefresh.running.count < max(1, configuration.joinRefreshParallelism), !joinRefresh.waiting.isEmpty {
            let index = joinRefresh.waiting.removeFirst()
            guard index < routingTable.buckets.count - 1 else { continue }
            routingTable.markRefreshed(index, now: now)
            let target = routingTable.randomID(inBucket: index, using: &rng)
            let operation = startLookup(target: target, purpose: .findNode, now: now)
            // A lookup with no one to ask ends inside `startLookup`; it is not running.
            if lookups[operation] != nil { joinRefresh.running.insert(operation) }
        }
    }

    /// A find_node lookup ended: if it was a join refresh, start the next one.
    mutating func joinRefreshFinished(_ operation: OperationID, now: Instant) {
        guard joinRefresh.running.remove(operation) != nil else { return }
        startJoinRefreshes(now: now)
    }
}
