import Foundation
import KeywayCore
import KeywayCrypto

/// The scenario: phases, node lifecycles (start, leave, crash, rejoin), IP churn, partitions.
extension Simulation {
    /// Queues the join phase and the phase boundaries.
    mutating func scheduleScenario() {
        let workload = options.workload
        let seedCount = workload.seeds
        for index in 0..<seedCount { bindAddress(index) }
        seedList = (0..<seedCount).map { DHTSeed(endpoint: nodes[$0].endpoint!, expectedID: nodes[$0].id) }
        for index in 0..<seedCount { startCore(index) }
        let window = workload.joinWindow.nanosecondsClamped
        for index in seedCount..<options.nodes {
            let offset = window > 0 ? Int64(scenarioRandom.next() % UInt64(window)) : 0
            queue.schedule(.action(.start(node: Int32(index))), at: .zero + .nanoseconds(offset))
        }
        let publishStart = Instant.zero + workload.joinWindow
        let publishWindow = (workload.warmup / 2).nanosecondsClamped
        queue.schedule(.action(.publish(node: -1)), at: publishStart)
        for index in 0..<options.nodes {
            let offset = publishWindow > 0 ? Int64(scenarioRandom.next() % UInt64(publishWindow)) : 0
            queue.schedule(.action(.publish(node: Int32(index))), at: publishStart + .nanoseconds(offset))
        }
        queue.schedule(.action(.beginMeasurement), at: publishStart + workload.warmup)
    }

    /// Carries out one step of the scenario.
    mutating func perform(_ action: ScenarioAction) {
        switch action {
        case let .start(node):
            bindAddress(Int(node))
            startCore(Int(node))
        case let .publish(node):
            if node < 0 {
                publishingOpen = true
            } else if nodes[Int(node)].isReady {
                startPublisher(Int(node), publishAtOnce: true)
                drain(Int(node))
            }
        case .beginMeasurement:
            beginMeasurement()
        case let .leave(node, incarnation):
            if churnActive, nodes[Int(node)].incarnation == incarnation, nodes[Int(node)].isAlive { leave(Int(node)) }
        case let .rejoin(node):
            if churnActive { rejoin(Int(node)) }
        case .move:
            move()
        case .resolve:
            startWorkloadResolve()
        case let .probe(move):
            probe(Int(move))
        case let .partition(index, begins):
            guard churnActive else { return }
            if begins {
                network.beginPartition(seed: partitionSeeds[index], fraction: options.faults.partitions[index].fraction)
            } else {
                network.endPartition(seed: partitionSeeds[index])
            }
        case .audit:
            auditAll()
            if checkStart == nil { queue.schedule(.action(.audit), at: now + options.workload.auditInterval) }
        case .sample:
            metrics.liveNodes.append((now, aliveCount))
            if churnActive { queue.schedule(.action(.sample), at: now + options.workload.sampleInterval) }
        case .endChurn:
            endChurn()
        case .beginCheck:
            beginCheck()
        case let .checkPair(pair):
            startCheckResolve(Int(pair))
        case let .eclipseLookup(node):
            eclipseLookup(Int(node))
        case .eclipseProbe:
            eclipseProbe()
        }
    }

    private mutating func beginMeasurement() {
        measurementStart = now
        metrics.setMeasuring(true, now: now, live: aliveCount)
        churnActive = true
        queue.schedule(.action(.resolve), at: now)
        queue.schedule(.action(.sample), at: now)
        queue.schedule(.action(.audit), at: now + options.workload.auditInterval)
        if options.churn.ipChurnRate > 0 { scheduleNextMove() }
        if options.churn.rate > 0 {
            // Hostile nodes are a standing attacker, and the eclipse target stays to be eclipsed.
            for index in 0..<options.nodes where !nodes[index].isSeed && nodes[index].isAlive && nodes[index].hostile == nil && index != hostile.eclipseTarget {
                scheduleSessionEnd(index)
            }
        }
        if hostile.eclipseTarget != nil { queue.schedule(.action(.eclipseProbe), at: now) }
        for (index, partition) in options.faults.partitions.enumerated() {
            partitionSeeds.append(scenarioRandom.next())
            queue.schedule(.action(.partition(index: index, begins: true)), at: now + partition.start)
            queue.schedule(.action(.partition(index: index, begins: false)), at: now + partition.start + partition.duration)
        }
        queue.schedule(.action(.endChurn), at: now + options.duration)
    }

    private mutating func endChurn() {
        churnEnd = now
        churnActive = false
        network.healAll()
        metrics.liveNodes.append((now, aliveCount))
        metrics.setMeasuring(false, now: now, live: aliveCount)
        queue.schedule(.action(.beginCheck), at: now + options.workload.heal)
    }

    // MARK: Lifecycles

    /// Gives the node a new address (and IPv6 one when dual-stack).
    mutating func bindAddress(_ index: Int) {
        if nodes[index].hostile?.inAttackerPrefix == true {
            guard !nodes[index].isAlive else { return }
            let endpoint = hostile.nextAttackerEndpoint()
            network.bindAttacker(node: index, at: endpoint)
            metrics.liveChanging(now: now, live: aliveCount)
            aliveCount += 1
            nodes[index].endpoint = endpoint
            hostileBound(index)
            return
        }
        guard let (primary, secondary) = network.bind(node: index, dualStack: options.workload.dualStack) else { return }
        if !nodes[index].isAlive {
            metrics.liveChanging(now: now, live: aliveCount)
            aliveCount += 1
        }
        nodes[index].endpoint = primary
        nodes[index].secondaryEndpoint = secondary
    }

    /// Releases the node's addresses.
    private mutating func unbindAddresses(_ index: Int) {
        if let endpoint = nodes[index].endpoint { network.unbind(endpoint) }
        if let endpoint = nodes[index].secondaryEndpoint { network.unbind(endpoint) }
    }

    /// Creates a fresh core for the node (restoring saved contacts) and bootstraps it. Once
    /// publishing is open its publisher starts at once, as ``KeywayNodeCore/start(socket:seeds:contacts:now:)``
    /// starts it: a node with saved contacts publishes through them at once, else once joined.
    mutating func startCore(_ index: Int) {
        guard nodes[index].isAlive else { return }
        var core = DHTNode(keyPair: nodes[index].keyPair, configuration: configuration, seed: coreSeeds.next(), now: now)
        let restored = !nodes[index].savedContacts.isEmpty
        for contact in nodes[index].savedContacts { core.addContact(contact, now: now) }
        nodes[index].savedContacts = []
        let seeds = seedList.filter { $0.expectedID != nodes[index].id }
        core.bootstrap(seeds: seeds, now: now)
        cores[index] = core
        publishers[index] = nodes[index].hostile == nil ? EndpointPublisher(configuration: publisherConfiguration) : nil
        if publishingOpen { startPublisher(index, publishAtOnce: restored || seeds.isEmpty) }
        nodes[index].startedAt = now
        drain(index)
    }

    private mutating func scheduleSessionEnd(_ index: Int) {
        let meanSeconds = 60 / options.churn.rate
        let session = options.churn.sessions.sample(meanSeconds: meanSeconds, using: &churnRandom)
        queue.schedule(.action(.leave(node: Int32(index), incarnation: nodes[index].incarnation)), at: now + .seconds(double: session))
    }

    /// The node's session ends: gracefully (it keeps its contacts) or by crashing.
    private mutating func leave(_ index: Int) {
        let crash = churnRandom.chance(options.churn.crashFraction)
        if crash {
            metrics.crashes += 1
        } else {
            metrics.leaves += 1
            nodes[index].savedContacts = cores[index]?.routingTable.allContacts.map(\.node) ?? []
        }
        if let core = cores[index] { metrics.invalidSignaturesRefused += core.statistics.invalidSignatures }
        unbindAddresses(index)
        metrics.liveChanging(now: now, live: aliveCount)
        aliveCount -= 1
        nodes[index].endpoint = nil
        nodes[index].secondaryEndpoint = nil
        nodes[index].isReady = false
        nodes[index].incarnation &+= 1
        ready.remove(index)
        published.remove(index)
        cores[index] = nil
        publishers[index] = nil
        disarm(index)
        closeMove(of: index)
        checker.reset(node: index)
        let downtime = options.churn.downtimes.sample(mean: options.churn.downtime, using: &churnRandom)
        queue.schedule(.action(.rejoin(node: Int32(index))), at: now + downtime)
    }

    /// The node comes back with its key at a new address, bootstraps and republishes.
    private mutating func rejoin(_ index: Int) {
        guard !nodes[index].isAlive else { return }
        metrics.rejoins += 1
        bindAddress(index)
        startCore(index)
        if options.churn.rate > 0 { scheduleSessionEnd(index) }
    }

    private mutating func scheduleNextMove() {
        let perSecond = options.churn.ipChurnRate * Double(max(aliveCount - options.workload.seeds, 1)) / 60
        let wait = -log(churnRandom.openUnit()) / perSecond
        queue.schedule(.action(.move), at: now + .seconds(double: wait))
    }

    /// IP churn: a random live node's address changes under it; it keeps its state, and its
    /// publisher, handed the new socket, publishes the new endpoints.
    private mutating func move() {
        guard churnActive else { return }
        scheduleNextMove()
        guard let index = ready.random(using: &churnRandom), !nodes[index].isSeed, cores[index] != nil else { return }
        closeMove(of: index)
        unbindAddresses(index)
        bindAddress(index)
        if let socket = socket(of: index) { publishers[index]?.updateSocket(socket, dht: &cores[index]!, now: now) }
        drain(index)
        let move = Int32(metrics.moves.count)
        metrics.moves.append(MoveSample(at: now, node: Int32(index), newSequence: nodes[index].latestSequence))
        nodes[index].openMove = move
        queue.schedule(.action(.probe(move: move)), at: now + options.workload.probeInterval)
    }

    /// Stops measuring the node's open move, if any (it moved again or left).
    mutating func closeMove(of index: Int) {
        guard let move = nodes[index].openMove else { return }
        if metrics.moves[Int(move)].outcome == .open { metrics.moves[Int(move)].outcome = .censored }
        nodes[index].openMove = nil
    }

    /// A one-line status for progress displays.
    func progressSnapshot(wallSeconds: Double) -> SimulationProgress {
        let workload = options.workload
        let planned = (workload.joinWindow + workload.warmup + options.duration + workload.heal).secondsDouble
        let resolves = metrics.resolves.count
        let successes = metrics.resolves.reduce(0) { $0 + ($1.success ? 1 : 0) }
        let phase: String
        if checkStart != nil { phase = "check" } else if churnEnd != nil { phase = "heal" } else if measurementStart != nil { phase = "measure" } else if publishingOpen { phase = "publish" } else { phase = "join" }
        return SimulationProgress(
            virtualSeconds: now.secondsSinceOrigin, plannedSeconds: planned, events: eventsProcessed, wallSeconds: wallSeconds,
            liveNodes: aliveCount, resolves: resolves, successRate: resolves == 0 ? 1 : Double(successes) / Double(resolves), phase: phase)
    }
}

extension Instant {
    /// Seconds since the origin.
    var secondsSinceOrigin: Double { Double(nanoseconds) / 1e9 }
}
