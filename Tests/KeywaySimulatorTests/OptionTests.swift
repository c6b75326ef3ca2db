import Testing
import KeywayCore
@testable import KeywaySimulator

/// Option text forms, validation and the reproduction command.
@Suite struct OptionTests {
    @Test func latencyModelsParseAndPrintBack() throws {
        for text in ["fixed:50ms", "uniform:20ms,80ms", "lognormal:40ms,0.5", "pareto:30ms,2.5", "regions:world", "regions:5,40;40,5"] {
            let model = try LatencyModel(parsing: text)
            #expect(model.description == text)
            #expect(try LatencyModel(parsing: model.description) == model)
        }
        #expect(try LatencyModel(parsing: "50ms") == .fixed(.milliseconds(50)))
        #expect(try LatencyModel(parsing: "regions:world").regionCount == 4)
    }

    @Test func badLatenciesAreRefusedWithAMessage() {
        for text in ["", "fast", "fixed:-5ms", "uniform:80ms,20ms", "lognormal:40ms", "pareto:30ms,0.5", "regions:1,2;3", "fixed:1h"] {
            #expect(throws: OptionError.self) { try LatencyModel(parsing: text) }
        }
    }

    @Test func durationsParse() {
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("2") == .seconds(2))
        #expect(DurationText.parse("1.5m") == .seconds(90))
        #expect(DurationText.parse("300us") == .microseconds(300))
        #expect(DurationText.parse("-1s") == nil)
        #expect(DurationText.parse("soon") == nil)
        #expect(DurationText.format(.milliseconds(250)) == "250ms")
    }

    @Test func partitionsParse() throws {
        let partition = try PartitionFault(parsing: "60s+30s:0.3")
        #expect(partition == PartitionFault(start: .seconds(60), duration: .seconds(30), fraction: 0.3))
        #expect(try PartitionFault(parsing: partition.description) == partition)
        #expect(try PartitionFault(parsing: "1s+2s").fraction == 0.5)
        #expect(throws: OptionError.self) { try PartitionFault(parsing: "1s+2s:0.9") }
        #expect(throws: OptionError.self) { try PartitionFault(parsing: "later") }
    }

    @Test func validationNamesTheBadOption() {
        var options = SimulationOptions()
        options.faults.loss = 1.5
        #expect(throws: OptionError("--loss must be between 0 and 1, not 1.5")) { try options.validate() }
        options = SimulationOptions()
        options.nodes = 1
        #expect(throws: OptionError.self) { try options.validate() }
        options = SimulationOptions()
        options.workload.seeds = 0
        #expect(throws: OptionError.self) { try options.validate() }
        #expect(throws: OptionError.self) { try Simulation(options: options) }
    }

    @Test func theCommandLineNamesEveryChangedOption() {
        var options = SimulationOptions()
        options.seed = 42
        options.faults.loss = 0.05
        options.latency = .fixed(.milliseconds(50))
        #expect(options.commandLine == "swift run -c release keyway-sim --nodes 10000 --seed 42 --latency fixed:50ms --loss 0.05")
    }

    @Test func hostileSpecsParseAndPrintBack() throws {
        let spec = try HostileSpec(parsing: "0.2:lie")
        #expect(spec == HostileSpec(fraction: 0.2, kinds: [.lie]))
        #expect(try HostileSpec(parsing: spec.description) == spec)
        #expect(try HostileSpec(parsing: "30%:drop,Forge,stale") == HostileSpec(fraction: 0.3, kinds: [.drop, .forge, .stale]))
        for kind in HostileBehaviour.allCases { #expect(try HostileSpec(parsing: "0.1:\(kind.rawValue)").kinds == [kind]) }
    }

    @Test func badHostileSpecsAreRefusedWithAMessage() {
        #expect(throws: OptionError("--hostile: 'evil' in '0.2:evil' is not one of drop, lie, stale, forge, sybil, eclipse")) {
            try HostileSpec(parsing: "0.2:evil")
        }
        for text in ["", "0.2", "lie", "0:lie", "1:lie", "-0.1:lie", "0.2:", "0.2:lie,", "nan:lie", "0.2:lie:drop"] {
            #expect(throws: OptionError.self, "\(text)") { try HostileSpec(parsing: text) }
        }
        var options = SimulationOptions()
        options.hostile = [HostileSpec(fraction: 0.5, kinds: [.lie]), HostileSpec(fraction: 0.45, kinds: [.drop])]
        #expect(throws: OptionError("--hostile: the fractions add up to more than 0.9")) { try options.validate() }
        options = SimulationOptions.quiet(nodes: 10, seed: 1)
        options.hostile = [HostileSpec(fraction: 0.5, kinds: [.drop])]
        #expect(throws: OptionError("--hostile: 5 hostile nodes leave fewer than 2 honest nodes besides the 4 seeds")) { try options.validate() }
    }

    @Test func hostileRolesAreDealtToNonSeedsInTurn() throws {
        var rng = SeededRandom(seed: 1)
        let world = HostileWorld(specs: [HostileSpec(fraction: 0.3, kinds: [.lie, .eclipse])], nodes: 100, seeds: 4, rng: &rng)
        #expect(world.counts == [.lie: 15, .eclipse: 15])
        #expect(world.kinds.prefix(4).allSatisfy { $0 == nil })
        let target = try #require(world.eclipseTarget)
        #expect(target >= 4 && world.kinds[target] == nil)
        #expect(HostileWorld.attackerSlot(of: HostileWorld.attackerEndpoint(slot: 999)) == 999)
        #expect(HostileWorld.attackerSlot(of: Endpoint(address: .v4(0x0AFF_FF01), port: 6881)) == nil)
    }

    @Test func theCommandLineNamesHostileNodes() {
        var options = SimulationOptions()
        options.hostile = [HostileSpec(fraction: 0.2, kinds: [.stale, .forge])]
        #expect(options.commandLine == "swift run -c release keyway-sim --nodes 10000 --seed 1 --hostile 0.2:stale,forge")
    }

    @Test func distributionsHaveTheirMean() {
        for kind in DistributionKind.allCases {
            var rng = SeededRandom(seed: 1)
            let draws = (0..<200_000).map { _ in kind.sample(meanSeconds: 10, using: &rng) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            // Pareto with shape 2 has infinite variance: its sample mean converges slowly.
            #expect(abs(mean - 10) < (kind == .pareto ? 1.5 : 0.3), "\(kind): mean \(mean)")
        }
    }

    @Test func percentilesUseNearestRank() {
        let p = Percentiles((1...100).map(Double.init))
        #expect(p.p50 == 50 && p.p90 == 90 && p.p99 == 99 && p.max == 100 && p.count == 100)
        #expect(Percentiles([]).p99 == 0)
    }

    @Test func theTraceHashSeesEveryByte() {
        var a = TraceHash(), b = TraceHash()
        let endpoint = Endpoint(address: .v4(1), port: 2)
        a.record(at: .zero, from: endpoint, to: endpoint, payload: [1, 2, 3])
        b.record(at: .zero, from: endpoint, to: endpoint, payload: [1, 2, 4])
        #expect(a != b)
        #expect(TraceHash.payloadHash(Array(repeating: 0, count: 9)) != TraceHash.payloadHash(Array(repeating: 0, count: 8)))
    }

    @Test func chartsAreWellFormedSVG() {
        let chart = SVGChart(title: "t <1>", xLabel: "x", yLabel: "y", series: [.init(name: "a", colour: "red", points: [(1, 0.1), (10, 0.5), (100, 1)], stepped: true)], yRange: 0...1, logX: true)
        let svg = chart.render()
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("t &lt;1&gt;"))
    }
}
