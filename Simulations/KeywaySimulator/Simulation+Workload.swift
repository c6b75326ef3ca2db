import Foundation
import KeywayCore
import KeywayCrypto

/// The workload (resolves of random keys), freshness probes, and the convergence check.
extension Simulation {
    /// Starts one resolve of a random published key from a random ready node, and queues the next.
    mutating func startWorkloadResolve() {
        guard churnActive, options.workload.resolveRate > 0 else { return }
        let wait = -log(workloadRandom.openUnit()) / options.workload.resolveRate
        queue.schedule(.action(.resolve), at: now + .seconds(double: wait))
        guard let resolver = ready.random(using: &workloadRandom),
              let target = published.random(excluding: resolver, using: &workloadRandom) else { return }
        startResolve(.workload, by: resolver, of: target)
    }

    /// Starts a resolve of `target`'s record on `resolver`'s core.
    mutating func startResolve(_ purpose: PendingResolve.Purpose, by resolver: Int, of target: Int) {
        guard cores[resolver] != nil else { return }
        let targetID = nodes[target].id
        var local: Int64?
        if case let .mutable(item)? = cores[resolver]!.store.item(for: targetID, now: now) { local = item.sequence }
        let operation = cores[resolver]!.resolveRecord(publicKey: nodes[target].keyPair.publicKey, now: now)
        let key = ResolveKey(node: Int32(resolver), incarnation: nodes[resolver].incarnation, operation: operation.rawValue)
        pendingResolves[key] = PendingResolve(
            purpose: purpose, target: Int32(target), started: now,
            expectedSequence: nodes[target].publishedSequence, localSequence: local)
        drain(resolver)
    }

    /// A resolve ended: check what came back, then measure it for its purpose.
    mutating func resolved(_ pending: PendingResolve, by resolver: Int, item: MutableItem?, statistics: LookupStatistics) {
        let target = Int(pending.target)
        var valid = false
        if let item {
            valid = checker.checkResolved(item, target: nodes[target].id, node: resolver, localSequence: pending.localSequence, now: now)
            if hostile.isActive { checkAgainstHostiles(item, valid: valid, pending, by: resolver, statistics: statistics) }
        }
        let sequence = valid ? item!.sequence : -1
        switch pending.purpose {
        case .workload:
            metrics.resolves.append(ResolveSample(
                start: pending.started, latency: now - pending.started, hops: statistics.hops,
                idealHops: valid ? idealHops(from: resolver, of: target, sequence: sequence) : nil,
                messages: statistics.queries + statistics.responses,
                success: valid, fresh: valid && sequence >= pending.expectedSequence))
        case let .probe(move):
            let index = Int(move)
            guard metrics.moves[index].outcome == .open, sequence >= metrics.moves[index].newSequence else { return }
            metrics.moves[index].outcome = .fresh(now - metrics.moves[index].at)
            nodes[target].openMove = nil
        case let .check(pair):
            finishCheckResolve(Int(pair), item: valid ? item : nil, statistics: statistics)
        case .eclipse:
            hostile.eclipseResolves += 1
            if valid { hostile.eclipseSuccesses += 1 }
            if valid && sequence >= pending.expectedSequence { hostile.eclipseFresh += 1 }
        }
    }

    /// Freshness: resolves the moved node's key from a random node, until one returns the new address.
    mutating func probe(_ move: Int) {
        guard metrics.moves[move].outcome == .open else { return }
        let target = Int(metrics.moves[move].node)
        if now - metrics.moves[move].at > options.workload.probeLimit {
            metrics.moves[move].outcome = .timedOut
            nodes[target].openMove = nil
            return
        }
        queue.schedule(.action(.probe(move: Int32(move))), at: now + options.workload.probeInterval)
        guard let resolver = ready.random(excluding: target, using: &workloadRandom) else { return }
        metrics.moves[move].probes += 1
        metrics.probeResolves += 1
        startResolve(.probe(move: Int32(move)), by: resolver, of: target)
    }

    /// The ideal model's hop count for a resolve of `target`'s record (at least `sequence`)
    /// from `resolver`, over a membership snapshot at most ``idealSnapshotInterval`` old.
    mutating func idealHops(from resolver: Int, of target: Int, sequence: Int64) -> Int? {
        if ideal.takenAt.map({ now - $0 >= Simulation.idealSnapshotInterval }) ?? true {
            var live: [(id: NodeID, node: Int32)] = []
            live.reserveCapacity(aliveCount)
            for index in nodes.indices where cores[index] != nil && nodes[index].hostile == nil { live.append((nodes[index].id, Int32(index))) }
            ideal.rebuild(ids: live, now: now)
        }
        let targetID = nodes[target].id
        return ideal.hops(
            from: nodes[resolver].id, target: targetID, configuration: configuration,
            isLive: { cores[Int($0)] != nil },
            holds: { node in
                if case let .mutable(item)? = cores[Int(node)]?.store.item(for: targetID, now: now) { return item.sequence >= sequence }
                return false
            })
    }

    // MARK: Convergence check

    /// Picks the pairs (every ordered pair of live published nodes when there are few) and
    /// starts them all.
    mutating func beginCheck() {
        checkStart = now
        let candidates = published.members.map(Int.init).sorted()
        let limit = options.workload.checkPairs
        if candidates.count * (candidates.count - 1) <= limit {
            for a in candidates { for b in candidates where a != b { checkPairs.append((Int32(a), Int32(b), now, false)) } }
        } else if candidates.count >= 2 {
            for _ in 0..<limit {
                let a = candidates[workloadRandom.index(below: candidates.count)]
                var b = a
                while b == a { b = candidates[workloadRandom.index(below: candidates.count)] }
                checkPairs.append((Int32(a), Int32(b), now, false))
            }
        }
        if let target = hostile.eclipseTarget, published.contains(target) {
            // The eclipsed key must resolve too: pairs from random honest nodes to it.
            let resolvers = candidates.filter { $0 != target }
            for _ in 0..<(resolvers.isEmpty ? 0 : HostileWorld.eclipseCheckPairs) {
                checkPairs.append((Int32(resolvers[workloadRandom.index(below: resolvers.count)]), Int32(target), now, false))
            }
        }
        checkRemaining = checkPairs.count
        metrics.checkPairs = checkPairs.count
        if checkRemaining == 0 { finished = true }
        for pair in checkPairs.indices { startCheckResolve(pair) }
    }

    mutating func startCheckResolve(_ pair: Int) {
        let (resolver, target, _, done) = checkPairs[pair]
        guard !done else { return }
        startResolve(.check(pair: Int32(pair)), by: Int(resolver), of: Int(target))
    }

    /// Passes the pair if the newest record with the current endpoints came back; otherwise
    /// retries each second until the bound, then fails it.
    private mutating func finishCheckResolve(_ pair: Int, item: MutableItem?, statistics: LookupStatistics) {
        let (resolver, target, started, done) = checkPairs[pair]
        guard !done else { return }
        let node = nodes[Int(target)]
        var current = false
        if let item, item.sequence >= node.latestSequence, let record = try? EndpointRecord(item: item) {
            // The publisher orders the set (a confirmed external endpoint first): compare sets.
            current = Set(record.endpoints) == Set(node.publishedEndpoints)
        }
        let elapsed = now - started
        if current {
            metrics.checkPassed += 1
            metrics.checkDurations.append(elapsed.milliseconds)
        } else if elapsed + .seconds(1) <= options.workload.checkBound {
            queue.schedule(.action(.checkPair(pair: Int32(pair))), at: now + .seconds(1))
            return
        } else {
            metrics.checkFailed += 1
            checker.fail("convergence: node \(resolver) could not resolve node \(target)'s current record within \(DurationText.format(options.workload.checkBound)) (got seq \(item.map { String($0.sequence) } ?? "none"), want \(node.latestSequence)); \(replicaReport(of: Int(target))); last lookup: \(statistics.queries) queries, \(statistics.responses) responses, \(statistics.timeouts) timeouts; \(tableReport(of: Int(resolver))); \(oracleLookup(from: Int(resolver), of: Int(target)))")
        }
        checkPairs[pair].done = true
        checkRemaining -= 1
        if checkRemaining == 0 { finished = true }
    }

    /// Where the target's record lives now: for the diagnosis of a failed pair.
    func replicaReport(of target: Int) -> String {
        let id = nodes[target].id
        var holders: [(rank: Int, sequence: Int64)] = []
        let byDistance = (0..<options.nodes).filter { cores[$0] != nil }.sorted { nodes[$0].id.distance(to: id) < nodes[$1].id.distance(to: id) }
        for (rank, index) in byDistance.enumerated() {
            if case let .mutable(item)? = cores[index]!.store.item(for: id, now: now) { holders.append((rank, item.sequence)) }
        }
        let newest = holders.filter { $0.sequence >= nodes[target].latestSequence }.map(\.rank)
        // The nearest live nodes: when each (re)started against the owner's last put, and what it holds.
        let putAt = Double(nodes[target].latestSequence - Simulation.wallClockOrigin) / 1e6
        let nearest = byDistance.prefix(12).enumerated().map { rank, index -> String in
            let started = nodes[index].startedAt.map { String(format: "%.1fs", $0.secondsSinceOrigin) } ?? "?"
            var held = "none"
            if case let .mutable(item)? = cores[index]!.store.item(for: id, now: now) {
                held = item.sequence >= nodes[target].latestSequence ? "newest" : "older"
            }
            let kind = nodes[index].hostile.map { " (\($0.rawValue))" } ?? ""
            return "#\(rank) node \(index)\(kind) started \(started) holds \(held)"
        }
        return "\(holders.count) live nodes hold a version, the newest at distance ranks \(newest.prefix(12)) among live nodes; owner's last put began at \(String(format: "%.1fs", putAt)); nearest live: \(nearest.joined(separator: ", "))"
    }

    /// How much of a node's routing table is still reachable: for the diagnosis of a failed pair.
    func tableReport(of index: Int) -> String {
        guard let core = cores[index] else { return "resolver offline" }
        let contacts = core.routingTable.allContacts
        let reachable = contacts.filter { contact in network.owner(of: contact.node.endpoint).map { nodes[$0].id == contact.node.id } ?? false }
        return "resolver \(index) (\(nodes[index].isReady ? "ready" : "not bootstrapped"), incarnation \(nodes[index].incarnation)) has \(contacts.count) contacts, \(reachable.count) reachable, \(core.activeLookups) lookups, \(core.pendingQueries) queries pending"
    }

    /// An ideal lookup over the current routing tables (no loss, no timeouts): for the
    /// diagnosis of a failed pair, it tells a routing-table hole from a network problem.
    func oracleLookup(from resolver: Int, of target: Int) -> String {
        let id = nodes[target].id
        guard let start = cores[resolver]?.routingTable.closest(to: id, count: configuration.lookupResultCount) else { return "" }
        var candidates: [NodeContact] = []
        var queried = Set<NodeID>(), dead = Set<NodeID>()
        func add(_ list: [NodeContact]) {
            for contact in list where !candidates.contains(where: { $0.id == contact.id }) { candidates.append(contact) }
            candidates.sort { $0.id.distance(to: id) < $1.id.distance(to: id) }
        }
        add(start)
        var steps = 0
        while steps < 200 {
            let live = candidates.filter { !dead.contains($0.id) }.prefix(configuration.lookupResultCount)
            guard let next = live.first(where: { !queried.contains($0.id) }) else { break }
            steps += 1
            queried.insert(next.id)
            guard let owner = network.owner(of: next.endpoint), nodes[owner].id == next.id, let core = cores[owner] else {
                dead.insert(next.id)
                continue
            }
            add(core.routingTable.closest(to: id, count: configuration.bucketSize))
        }
        let live = candidates.filter { !dead.contains($0.id) }.prefix(configuration.lookupResultCount)
        let holders = live.filter { contact in
            guard let owner = network.owner(of: contact.endpoint), let core = cores[owner] else { return false }
            if case .mutable? = core.store.item(for: id, now: now) { return true }
            return false
        }.count
        return "oracle lookup: \(steps) queries, \(dead.count) dead, \(holders) of its final \(live.count) hold the record"
    }

    // MARK: Audits

    /// Audits the store of every live node.
    mutating func auditAll() {
        for index in 0..<options.nodes {
            guard let core = cores[index] else { continue }
            checker.audit(node: index, store: core.store, now: now)
        }
    }

    /// The last audit, and the refusals counted by nodes still alive.
    mutating func finalAudit() {
        auditAll()
        finalHostileChecks()
        for core in cores { if let core { metrics.invalidSignaturesRefused += core.statistics.invalidSignatures } }
    }
}
