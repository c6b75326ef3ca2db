import Testing
import KeywayCore
@testable import KeywaySimulator

/// Small whole-network scenarios: what issue 4 asks the simulator to show.
@Suite struct ScenarioTests {
    /// A short run of `nodes` nodes: 10 s join window, 10 s warm-up, `duration` of measurement.
    static func options(nodes: Int = 200, seed: UInt64 = 7, duration: Duration = .seconds(40)) -> SimulationOptions {
        var options = SimulationOptions.quiet(nodes: nodes, seed: seed)
        options.duration = duration
        options.workload.joinWindow = .seconds(10)
        options.workload.warmup = .seconds(10)
        options.workload.heal = .seconds(20)
        options.workload.resolveRate = 20
        options.workload.checkPairs = 100
        return options
    }

    static func run(_ options: SimulationOptions) throws -> SimulationResult {
        var simulation = try Simulation(options: options)
        let result = simulation.run()
        #expect(result.passed, "checks failed; reproduce with: \(options.commandLine)\n\(result.violations.joined(separator: "\n"))")
        return result
    }

    @Test func withoutChurnOrLossEveryResolveSucceeds() throws {
        let result = try Self.run(Self.options())
        #expect(result.summary.resolves >= 500)
        #expect(result.summary.resolveSuccessRate == 1, "reproduce with: \(result.summary.command)")
        #expect(result.summary.resolveFreshRate == 1)
        #expect(result.summary.checks.convergencePassed == result.summary.checks.convergencePairs)
    }

    @Test func withFivePercentLossAndChurnAtLeast99PercentSucceed() throws {
        var options = Self.options(nodes: 250, seed: 11)
        options.faults.loss = 0.05
        options.churn.rate = 0.05
        options.churn.ipChurnRate = 0.05
        let result = try Self.run(options)
        #expect(result.summary.leaves + result.summary.crashes > 0)
        #expect(result.summary.moves > 0)
        #expect(result.summary.network.lost > 0)
        #expect(result.summary.resolveSuccessRate >= 0.99, "reproduce with: \(result.summary.command)")
    }

    @Test func freshnessAfterAnAddressChangeIsUnderThreeSecondsAtP99() throws {
        var options = Self.options(nodes: 200, seed: 5, duration: .seconds(60))
        options.latency = .fixed(.milliseconds(50))
        options.churn.ipChurnRate = 0.1
        options.workload.resolveRate = 5
        let result = try Self.run(options)
        #expect(result.summary.movesMeasured >= 10)
        #expect(result.summary.freshnessTimeouts == 0)
        #expect(result.summary.freshnessMs.p99 < 3000, "p99 \(result.summary.freshnessMs.p99) ms; reproduce with: \(result.summary.command)")
    }

    @Test func theSameSeedGivesTheSameTraceAndAnotherSeedAnother() throws {
        var options = Self.options(nodes: 120, seed: 3, duration: .seconds(20))
        options.faults.loss = 0.02
        options.faults.duplication = 0.01
        options.faults.reordering = 0.05
        options.churn.rate = 0.05
        options.churn.ipChurnRate = 0.05
        let first = try Self.run(options)
        let second = try Self.run(options)
        #expect(first.summary.traceHash == second.summary.traceHash)
        #expect(first.summary.events == second.summary.events)
        #expect(first.summary.resolveLatencyMs == second.summary.resolveLatencyMs)
        options.seed = 4
        let third = try Self.run(options)
        #expect(third.summary.traceHash != first.summary.traceHash)
    }

    @Test func corruptionAndPartitionsNeverLetABadRecordIn() throws {
        var options = Self.options(nodes: 150, seed: 9, duration: .seconds(30))
        options.faults.corruption = 0.05
        options.faults.duplication = 0.05
        options.faults.partitions = [PartitionFault(start: .seconds(5), duration: .seconds(10), fraction: 0.3)]
        let result = try Self.run(options)
        #expect(result.summary.network.corrupted > 0)
        #expect(result.summary.network.partitioned > 0)
        #expect(result.summary.checks.itemsChecked > 0)
    }

    /// Issue 12 item 7: liars, black holes, stale and forging nodes (a quarter of the network)
    /// tried their attacks, and no resolve took a forged record or one older than its owner
    /// had published, while honest resolves still succeeded.
    @Test func hostileNodesNeverGetAForgedOrOlderRecordAccepted() throws {
        var options = Self.options(nodes: 240, seed: 13)
        options.churn.ipChurnRate = 0.2
        options.hostile = [HostileSpec(fraction: 0.25, kinds: [.drop, .lie, .stale, .forge])]
        let result = try Self.run(options)
        let hostile = try #require(result.summary.hostile)
        #expect(hostile.nodes == ["drop": 15, "lie": 15, "stale": 15, "forge": 15])
        #expect(result.summary.moves > 0)
        #expect(hostile.olderServed > 0, "no stale node served an older version: the test proves nothing")
        #expect(hostile.forgedServed > 0 && result.summary.invalidSignaturesRefused > 0)
        #expect(hostile.queriesDropped > 0)
        #expect(hostile.forgedAccepted == 0 && hostile.olderAccepted == 0)
        #expect(result.summary.resolveSuccessRate >= 0.99, "reproduce with: \(result.summary.command)")
    }

    /// An eclipse: a quarter of the nodes claim IDs next to one key, all from one /24. The
    /// per-prefix limits keep them to a few slots of any table and lookup, and the key resolves.
    @Test func anEclipseFromOneSlash24Fails() throws {
        var options = Self.options(nodes: 240, seed: 17)
        options.hostile = [HostileSpec(fraction: 0.25, kinds: [.eclipse])]
        let result = try Self.run(options)
        let hostile = try #require(result.summary.hostile)
        #expect(hostile.eclipseIDs == 60)
        #expect(hostile.eclipseResolves >= 20)
        #expect(hostile.eclipseSuccessRate >= 0.99, "reproduce with: \(result.summary.command)")
        #expect(hostile.attackerContactsPerTable.max > 0, "no eclipse ID reached an honest table: the test proves nothing")
        #expect(hostile.attackerContactsPerTable.max <= Double(DHTConfiguration().routingContactsPerPrefix))
        #expect(result.summary.resolveSuccessRate >= 0.99)
    }

    /// Sybils: many IDs from one /24, each answering with the others.
    @Test func sybilsFromOneSlash24TakeAtMostAPrefixShareOfAnyTable() throws {
        var options = Self.options(nodes: 240, seed: 19)
        options.hostile = [HostileSpec(fraction: 0.25, kinds: [.sybil])]
        let result = try Self.run(options)
        let hostile = try #require(result.summary.hostile)
        #expect(hostile.attackerContactsPerTable.max > 0)
        #expect(hostile.attackerContactsPerTable.max <= Double(DHTConfiguration().routingContactsPerPrefix))
        #expect(result.summary.resolveSuccessRate >= 0.99, "reproduce with: \(result.summary.command)")
    }
}
