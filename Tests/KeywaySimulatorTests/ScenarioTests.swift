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
}
