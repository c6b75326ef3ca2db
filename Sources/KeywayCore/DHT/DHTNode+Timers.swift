/// Timers: query timeouts, bootstrap retries and periodic maintenance.
extension DHTNode {
    /// Fires every timer whose deadline is at or before `now`.
    public mutating func handleTimeout(now: Instant) {
        expireQueries(now: now)
        if let retry = bootstrap.retryAt, retry <= now {
            startBootstrapAttempt(now: now)
        }
        if nextMaintenance <= now {
            nextMaintenance = now + configuration.maintenanceInterval
            maintain(now: now)
        }
    }

    /// ``DHTTimer/queryTimeout``: each overdue query counts as a failure of its destination.
    private mutating func expireQueries(now: Instant) {
        while let first = deadlines.min, first.at <= now {
            deadlines.removeMin()
            // Answered queries leave stale heap entries behind; the serial tells them apart.
            guard let query = pending[first.transactionID], query.serial == first.serial else { continue }
            switch first.kind {
            case .stall, .straggler:
                if case let .lookup(operation) = query.purpose {
                    if first.kind == .stall {
                        lookups[operation]?.recordStall(endpoint: query.destination)
                    } else {
                        lookups[operation]?.recordStraggling(endpoint: query.destination)
                    }
                    advance(operation, now: now)
                }
                continue
            case .timeout:
                break
            }
            removePending(first.transactionID)
            statistics.queryTimeouts += 1
            if let expected = query.expectedID { recordFailure(of: expected, at: query.destination, now: now) }
            switch query.purpose {
            case let .lookup(operation):
                lookups[operation]?.recordFailure(endpoint: query.destination, timedOut: true)
                advance(operation, now: now)
            case let .put(operation):
                puts[operation]?.awaiting -= 1
                puts[operation]?.statistics.timeouts += 1
                completePutIfDone(operation, now: now)
            case .seed:
                seedTimedOut(now: now)
            case .maintenance, .handOff:
                break
            }
        }
    }

    private mutating func seedTimedOut(now: Instant) {
        bootstrap.awaitingSeeds -= 1
        if bootstrap.awaitingSeeds <= 0 && !bootstrap.seedAnswered && bootstrap.lookup == nil && routingTable.count == 0 {
            scheduleBootstrapRetry(now: now)
        }
    }

    /// ``DHTTimer/maintenance``: rotate tokens, expire storage, refresh idle buckets,
    /// republish our items, and rejoin through the seeds if the table has emptied.
    private mutating func maintain(now: Instant) {
        handOffBudget = configuration.handOffBudgetPerInterval
        latePuts = latePuts.filter { $0.value.until > now }
        tokens.rotateIfDue(now: now, rng: &rng)
        store.expire(now: now)
        peers.expire(now: now)
        rateLimiter.forgetIdle(now: now)

        if routingTable.count == 0, !seeds.isEmpty, bootstrap.retryAt == nil, bootstrap.awaitingSeeds <= 0, bootstrap.lookup == nil {
            startBootstrapAttempt(now: now)
        }

        // Refresh at most one idle bucket per tick, so a node never bursts.
        if routingTable.count > 0, let index = routingTable.bucketsNeedingRefresh(now: now).first {
            routingTable.markRefreshed(index, now: now)
            let target = routingTable.randomID(inBucket: index, using: &rng)
            startLookup(target: target, purpose: .findNode, now: now)
        }

        let republishAt = now + configuration.republishInterval
        for (target, entry) in published where entry.republishAt <= now {
            published[target]?.republishAt = republishAt
            startLookup(target: target, purpose: .putItem(entry.item), now: now)
        }
    }
}
