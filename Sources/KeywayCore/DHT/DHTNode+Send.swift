import Collections

/// Sending queries and driving lookups and puts.
extension DHTNode {
    /// Sends `query` to `endpoint`, remembering why; returns `false` when the node already has
    /// ``DHTConfiguration/maximumPendingQueries`` outstanding.
    @discardableResult
    mutating func sendQuery(_ query: KRPCQuery, to endpoint: Endpoint, expecting expectedID: NodeID?, purpose: QueryPurpose, now: Instant) -> Bool {
        guard pending.count < configuration.maximumPendingQueries else { return false }
        let isMaintenance = purpose.isMaintenance
        if isMaintenance {
            let share = configuration.maximumPendingQueries - max(0, configuration.pendingQueriesReservedForLookups)
            guard pendingMaintenance < share else { return false }
        }
        // A random transaction ID, so an off-path forger cannot guess which answers we await.
        var transactionID = UInt16(truncatingIfNeeded: rng.next())
        while pending[transactionID] != nil { transactionID = UInt16(truncatingIfNeeded: rng.next()) }
        if isMaintenance { pendingMaintenance += 1 }
        nextSerial += 1
        let deadline = now + configuration.queryTimeout
        compactDeadlinesIfStale()
        pending[transactionID] = PendingQuery(destination: endpoint, expectedID: expectedID, purpose: purpose, deadline: deadline, serial: nextSerial, sentAt: now)
        deadlines.insert(Deadline(at: deadline, serial: nextSerial, transactionID: transactionID))
        if case .lookup = purpose { armStallWait(transactionID, serial: nextSerial, sentAt: now) }
        var message = KRPCMessage(
            transactionID: [UInt8(transactionID >> 8), UInt8(transactionID & 0xff)],
            body: .query(query), clientVersion: configuration.clientVersion, readOnly: configuration.readOnly)
        var payload = message.encoded()
        if case .get = query, payload.count < configuration.getQueryPaddedSize {
            // `3:pad` and the string's length prefix come on top of the zeros.
            let deficit = configuration.getQueryPaddedSize - payload.count
            message.padding = max(1, deficit - 5 - String(deficit).utf8.count - 1)
            payload = message.encoded()
        }
        outgoing.append(Datagram(endpoint: endpoint, payload: payload))
        recentDestinations.record(endpoint, now: now)
        statistics.queriesSent += 1
        return true
    }

    /// Drops the deadlines of answered queries once they outnumber the live ones three to one.
    /// An answer leaves its timeout (and stall wait) in ``deadlines`` until the time passes,
    /// which costs nothing but memory: the heap's array keeps the capacity of the busiest
    /// moment (a join's refreshes) for the node's life. The rebuilt heap holds exactly the live
    /// entries, whose order is total (time, then serial), so no timer fires differently for a
    /// live query; the node only stops waking at the stale ones. Amortised O(1) a query.
    mutating func compactDeadlinesIfStale() {
        guard deadlines.count >= Self.deadlineCompactionMinimum, deadlines.count > 4 * pending.count else { return }
        let pending = pending
        deadlines = Heap(deadlines.unordered.filter { pending[$0.transactionID]?.serial == $0.serial })
    }

    /// Forgets the outstanding query `transactionID`, returning it.
    @discardableResult
    mutating func removePending(_ transactionID: UInt16) -> PendingQuery? {
        guard let query = pending.removeValue(forKey: transactionID) else { return nil }
        if query.purpose.isMaintenance { pendingMaintenance -= 1 }
        // A dictionary keeps its capacity: one burst of queries (a join's refreshes) would
        // hold its peak for the node's life. Rehash into a smaller one once it is mostly empty
        // (amortised O(1): at least three quarters of the entries left since the last rehash).
        if pending.capacity >= Self.pendingShrinkCapacity && pending.count * 8 <= pending.capacity {
            var smaller = [UInt16: PendingQuery](minimumCapacity: pending.count * 2)
            for (key, value) in pending { smaller[key] = value }
            pending = smaller
        }
        return query
    }

    /// How long a lookup waits for an answer before the query counts as stalled: a
    /// retransmission timeout in RFC 6298's form (smoothed RTT plus four mean deviations), so
    /// steady round trips stall a dead contact soon, but never longer than
    /// ``DHTConfiguration/lookupStallRTTMultiplier`` smoothed RTTs, nor shorter than
    /// ``DHTConfiguration/lookupStallMinimum``.
    var lookupStallWait: Duration {
        let timeout = smoothedRTT + rttVariation * configuration.lookupStallVariationMultiplier
        return max(configuration.lookupStallMinimum, min(timeout, smoothedRTT * configuration.lookupStallRTTMultiplier))
    }

    /// How long a lookup waits for an answer before the query is a "straggler", which the end
    /// condition may pass over once the closest responders agree
    /// (``DHTConfiguration/lookupStragglerAllowance``): ``DHTConfiguration/lookupStragglerRTTMultiplier``
    /// smoothed RTTs, at least ``DHTConfiguration/lookupStragglerMinimum``, and never later than
    /// the stall wait.
    var lookupStragglerWait: Duration {
        min(lookupStallWait, max(configuration.lookupStragglerMinimum, smoothedRTT * configuration.lookupStragglerRTTMultiplier))
    }

    /// Schedules the straggler and stall waits of the lookup query `transactionID` sent at
    /// `sentAt`, each unless it would come no sooner than the next.
    mutating func armStallWait(_ transactionID: UInt16, serial: UInt64, sentAt: Instant) {
        let wait = lookupStallWait
        guard wait < configuration.queryTimeout else { return }
        deadlines.insert(Deadline(at: sentAt + wait, serial: serial, transactionID: transactionID, kind: .stall))
        let straggler = lookupStragglerWait
        if configuration.lookupStragglerAllowance > 0, straggler < wait {
            deadlines.insert(Deadline(at: sentAt + straggler, serial: serial, transactionID: transactionID, kind: .straggler))
        }
    }

    /// Re-arms the stall waits of every outstanding lookup query from the current round-trip
    /// estimate: called when the first real sample replaces ``DHTConfiguration/initialRoundTripEstimate``.
    /// A query already past its new wait stalls at the next timer; a second stall or straggler
    /// entry of the same query is harmless (both are idempotent).
    mutating func rearmStallWaits() {
        for (transactionID, query) in pending {
            guard case .lookup = query.purpose else { continue }
            armStallWait(transactionID, serial: query.serial, sentAt: query.sentAt)
        }
    }

    /// Queues a reply to a query, if it fits the egress budget.
    mutating func reply(_ transactionID: [UInt8], _ body: KRPCMessage.Body, to endpoint: Endpoint, now: Instant) {
        let message = KRPCMessage(transactionID: transactionID, body: body, clientVersion: configuration.clientVersion, observedEndpoint: endpoint)
        send(answer: message.encoded(), to: endpoint, now: now)
    }

    /// Queues an encoded answer, if it fits the egress budget.
    mutating func send(answer payload: [UInt8], to endpoint: Endpoint, now: Instant) {
        guard egressBudget.spend(payload.count, now: now) else {
            statistics.repliesOverEgressBudget += 1
            return
        }
        outgoing.append(Datagram(endpoint: endpoint, payload: payload))
        recentDestinations.record(endpoint, now: now)
        statistics.queriesAnswered += 1
    }

    mutating func newOperationID() -> OperationID {
        defer { nextOperation += 1 }
        return OperationID(rawValue: nextOperation)
    }

    @discardableResult
    mutating func startLookup(target: NodeID, purpose: Lookup.Purpose, now: Instant) -> OperationID {
        let operation = newOperationID()
        let start = routingTable.closest(to: target, count: configuration.lookupResultCount)
        var lookup = Lookup(id: operation, target: target, purpose: purpose, seeds: start, now: now, configuration: configuration)
        if case let .getItem(query) = purpose, case let .mutable(local)? = store.item(for: target, now: now), local.publicKey.bytes == query.publicKey {
            lookup.best = local
        }
        if case let .putItem(item) = purpose { lookup.best = item }
        lookups[operation] = lookup
        advance(operation, now: now)
        return operation
    }

    /// Sends whatever queries the lookup wants next, or finishes it.
    mutating func advance(_ operation: OperationID, now: Instant) {
        guard var lookup = lookups[operation] else { return }
        for node in lookup.nextQueries() {
            let query: KRPCQuery
            switch lookup.purpose {
            case .findNode: query = .findNode(id: id, target: lookup.target)
            case .getItem, .putItem: query = .get(id: id, target: lookup.target, sequence: nil)
            }
            if !sendQuery(query, to: node.endpoint, expecting: node.id, purpose: .lookup(operation), now: now) {
                lookup.recordFailure(endpoint: node.endpoint, timedOut: false)
            }
        }
        if lookup.isFinished {
            lookups.removeValue(forKey: operation)
            finish(lookup, now: now)
        } else {
            lookups[operation] = lookup
        }
    }

    private func statistics(of lookup: Lookup, now: Instant) -> LookupStatistics {
        LookupStatistics(queries: lookup.queriesSent, responses: lookup.responses, timeouts: lookup.timeouts, hops: lookup.hops, duration: now - lookup.startedAt)
    }

    private mutating func finish(_ lookup: Lookup, now: Instant) {
        var stats = statistics(of: lookup, now: now)
        switch lookup.purpose {
        case .findNode:
            if lookup.id == bootstrap.lookup {
                bootstrap.lookup = nil
                if !isBootstrapped && routingTable.count > 0 {
                    isBootstrapped = true
                    events.append(.bootstrapped(contacts: routingTable.count))
                }
                scheduleJoinRefresh(now: now)
            } else {
                joinRefreshFinished(lookup.id, now: now)
            }
        case .getItem:
            if lookup.best != nil { stats.hops = lookup.bestDepth }
            events.append(.itemResolved(lookup.id, target: lookup.target, item: lookup.best, statistics: stats))
            if configuration.repairStaleReplicas, let best = lookup.best {
                for candidate in lookup.closestResponders(configuration.replicationFactor) {
                    guard let token = candidate.token, (candidate.returnedSequence ?? .min) < best.sequence else { continue }
                    sendQuery(.put(putArguments(best, token: token)), to: candidate.node.endpoint, expecting: candidate.node.id, purpose: .maintenance, now: now)
                }
            }
        case let .putItem(item):
            var operation = PutOperation(item: item, awaiting: 0, stored: 0, statistics: stats, startedAt: lookup.startedAt)
            let replicas = lookup.closestResponders(configuration.replicationFactor)
            // Store locally when we are among the closest nodes to the target.
            let ownDistance = id.distance(to: item.target)
            if replicas.count < configuration.replicationFactor || replicas.contains(where: { ownDistance < $0.distance }) {
                if store.put(item, cas: nil, now: now) == nil { operation.stored += 1 }
            }
            for candidate in replicas {
                guard let token = candidate.token else { continue }
                if sendQuery(.put(putArguments(item, token: token)), to: candidate.node.endpoint, expecting: candidate.node.id, purpose: .put(lookup.id), now: now) {
                    operation.awaiting += 1
                    operation.statistics.queries += 1
                }
            }
            puts[lookup.id] = operation
            if configuration.latePutWindow > .zero {
                let farthest = replicas.last.map { $0.node.id.distance(to: item.target) }
                latePuts[lookup.id] = LatePut(
                    item: item, targets: Set(replicas.map(\.node.id)), farthest: farthest, until: now + configuration.latePutWindow)
            }
            completePutIfDone(lookup.id, now: now)
        }
    }

    /// An answer to a query of a put lookup that has already ended. A node that answers late
    /// (its query had stalled) and is closer to the target than the farthest node the item went
    /// to, or joins fewer than a replication factor of them, gets the item too: otherwise a
    /// slow node among the very closest would never store it, and lookups from elsewhere,
    /// which converge on it, would find nothing there.
    mutating func latePutAnswer(_ operation: OperationID, response: KRPCResponse, from responder: NodeContact, expected: NodeID?, now: Instant) {
        guard var late = latePuts[operation] else { return }
        guard now < late.until else {
            latePuts.removeValue(forKey: operation)
            return
        }
        guard expected == nil || expected == response.id, let token = response.token,
              !late.targets.contains(response.id) else { return }
        let distance = response.id.distance(to: late.item.target)
        guard late.targets.count < configuration.replicationFactor || late.farthest.map({ distance < $0 }) ?? true else { return }
        late.targets.insert(response.id)
        latePuts[operation] = late
        if sendQuery(.put(putArguments(late.item, token: token)), to: responder.endpoint, expecting: response.id, purpose: .maintenance, now: now) {
            statistics.latePuts += 1
        }
    }

    func putArguments(_ item: MutableItem, token: [UInt8]) -> KRPCPut {
        KRPCPut(id: id, token: token, encodedValue: item.encodedValue, publicKey: item.publicKey.bytes,
                salt: item.salt.isEmpty ? nil : item.salt, sequence: item.sequence, signature: item.signature)
    }

    mutating func completePutIfDone(_ operation: OperationID, now: Instant) {
        guard var put = puts[operation], put.awaiting == 0 else { return }
        puts.removeValue(forKey: operation)
        put.statistics.duration = now - put.startedAt
        events.append(.itemPublished(operation, target: put.item.target, sequence: put.item.sequence, storedOn: put.stored, statistics: put.statistics))
    }

    mutating func startBootstrapAttempt(now: Instant) {
        bootstrap.attempt += 1
        bootstrap.retryAt = nil
        bootstrap.seedAnswered = false
        bootstrap.awaitingSeeds = 0
        for seed in seeds where sendQuery(.findNode(id: id, target: id), to: seed.endpoint, expecting: seed.expectedID, purpose: .seed(seed), now: now) {
            bootstrap.awaitingSeeds += 1
        }
        // Contacts restored from disk count as seeds too.
        if routingTable.count > 0 { startBootstrapLookup(now: now) }
        if bootstrap.awaitingSeeds == 0 && bootstrap.lookup == nil { scheduleBootstrapRetry(now: now) }
    }

    mutating func startBootstrapLookup(now: Instant) {
        guard bootstrap.lookup == nil else { return }
        let operation = newOperationID()
        bootstrap.lookup = operation
        let start = routingTable.closest(to: id, count: configuration.lookupResultCount)
        lookups[operation] = Lookup(id: operation, target: id, purpose: .findNode, seeds: start, now: now, configuration: configuration)
        advance(operation, now: now)
    }

    mutating func scheduleBootstrapRetry(now: Instant) {
        guard !seeds.isEmpty else { return }
        let exponent = min(bootstrap.attempt - 1, 20)
        let base = configuration.bootstrapRetryInitialDelay * (1 << exponent)
        let delay = min(base, configuration.bootstrapRetryMaximumDelay)
        let retryAt = now + delay
        bootstrap.retryAt = retryAt
        events.append(.seedsUnreachable(attempt: bootstrap.attempt, retryAt: retryAt))
    }
}
