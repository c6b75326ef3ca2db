import Foundation

/// Turns a ``SimulationResult`` into what people read: a table, JSON, Markdown and SVG charts.
public enum Report {
    /// The short table printed at the end of a run.
    public static func table(_ result: SimulationResult) -> String {
        let s = result.summary
        func ms(_ p: Percentiles) -> String { "p50 \(fmt(p.p50)) · p90 \(fmt(p.p90)) · p99 \(fmt(p.p99)) · max \(fmt(p.max)) ms" }
        let rows: [(String, String)] = [
            ("nodes · seed", "\(s.nodes) · \(s.seed)"),
            ("resolves", "\(s.resolves): success \(pct(s.resolveSuccessRate)), newest record \(pct(s.resolveFreshRate))"),
            ("resolve latency", ms(s.resolveLatencyMs)),
            ("hops", "p50 \(fmt(s.hops.p50)) · p99 \(fmt(s.hops.p99)) · max \(fmt(s.hops.max))"),
            ("ideal-model hops", "p50 \(fmt(s.idealHops.p50)) · p99 \(fmt(s.idealHops.p99)) · gap p50 \(fmt(s.hopGap.p50)) · gap p99 \(fmt(s.hopGap.p99))"),
            ("messages per resolve", fmt(s.messagesPerResolve)),
            ("freshness after a move", "\(ms(s.freshnessMs)) (\(s.movesMeasured) moves, \(s.freshnessTimeouts) stale past the limit)"),
            ("traffic per node", "\(fmt(s.messagesPerNodePerMinute)) datagrams/min · \(fmt(s.bytesPerNodePerMinute / 1024)) KiB/min"),
            ("churn", "\(s.leaves) leaves · \(s.crashes) crashes · \(s.rejoins) rejoins · \(s.moves) moves · \(s.liveNodes) live at end"),
            ("network", "\(s.network.sent) sent · \(s.network.lost) lost · \(s.network.duplicated) dup · \(s.network.corrupted) corrupt · \(s.network.partitioned) partitioned · \(s.network.unreachable) unreachable"),
            ("checks", s.checks.violations == 0
                ? "passed (\(s.checks.itemsChecked) items; convergence \(s.checks.convergencePassed)/\(s.checks.convergencePairs) pairs, p99 \(fmt(s.checks.convergenceMs.p99)) ms)"
                : "FAILED: \(s.checks.violations) violations"),
            ("trace hash", s.traceHash),
        ] + hostileRows(s) + [
            ("simulator", "\(fmt(s.wallSeconds)) s wall · \(fmt(s.eventsPerSecond / 1e6)) M events/s · \(s.events) events · peak RSS \(fmt(Double(s.peakRssBytes) / 1_048_576)) MiB (\(s.bytesPerNode / 1024) KiB/node)"),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }.joined(separator: "\n") + "\n"
    }

    /// The table rows of ``HostileSummary``, when there were hostile nodes.
    static func hostileRows(_ s: SimulationSummary) -> [(String, String)] {
        guard let h = s.hostile else { return [] }
        let kinds = h.nodes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: " · ")
        var rows = [
            ("hostile nodes", "\(kinds) · \(h.queriesAnswered) queries answered, \(h.queriesDropped) dropped"),
            ("served by them", "\(h.forgedServed) forged records · \(h.olderServed) older versions · attacker-/24 contacts per honest table max \(fmt(h.attackerContactsPerTable.max))"),
            ("accepted from them", "\(h.forgedAccepted) forged · \(h.olderAccepted) older than published · \(s.invalidSignaturesRefused) bad signatures refused"),
        ]
        if let target = h.eclipseTarget {
            rows.append(("eclipse", "node \(target) behind \(h.eclipseIDs) IDs: \(h.eclipseResolves) resolves, success \(pct(h.eclipseSuccessRate)), newest \(pct(h.eclipseFreshRate))"))
        }
        return rows
    }

    /// The summary as one JSON object (snake_case keys, sorted).
    public static func summaryJSON(_ result: SimulationResult) -> String {
        encode(result.summary)
    }

    /// The whole result as JSON (summary, series, CDFs, violations).
    public static func fullJSON(_ result: SimulationResult) -> String {
        encode(result)
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A Markdown summary, linking the charts written beside it.
    public static func markdown(_ result: SimulationResult) -> String {
        let s = result.summary
        var out = "# keyway-sim run: \(s.nodes) nodes, seed \(s.seed)\n\n"
        out += "Reproduce: `\(s.command)`\n\n"
        out += "| figure | value |\n|---|---|\n"
        let rows: [(String, String)] = [
            ("resolves", "\(s.resolves)"),
            ("resolve success rate", pct(s.resolveSuccessRate)),
            ("newest record returned", pct(s.resolveFreshRate)),
            ("resolve latency p50 / p90 / p99 / max (ms)", "\(fmt(s.resolveLatencyMs.p50)) / \(fmt(s.resolveLatencyMs.p90)) / \(fmt(s.resolveLatencyMs.p99)) / \(fmt(s.resolveLatencyMs.max))"),
            ("hops p50 / p99 / max", "\(fmt(s.hops.p50)) / \(fmt(s.hops.p99)) / \(fmt(s.hops.max))"),
            ("ideal-model hops p50 / p99; gap p50 / p99", "\(fmt(s.idealHops.p50)) / \(fmt(s.idealHops.p99)); \(fmt(s.hopGap.p50)) / \(fmt(s.hopGap.p99))"),
            ("messages per resolve", fmt(s.messagesPerResolve)),
            ("freshness after a move p50 / p90 / p99 / max (ms)", "\(fmt(s.freshnessMs.p50)) / \(fmt(s.freshnessMs.p90)) / \(fmt(s.freshnessMs.p99)) / \(fmt(s.freshnessMs.max))"),
            ("moves measured (stale past the limit)", "\(s.movesMeasured) (\(s.freshnessTimeouts))"),
            ("datagrams per node per minute", fmt(s.messagesPerNodePerMinute)),
            ("bytes per node per minute", fmt(s.bytesPerNodePerMinute)),
            ("leaves / crashes / rejoins / moves", "\(s.leaves) / \(s.crashes) / \(s.rejoins) / \(s.moves)"),
            ("checks", s.checks.violations == 0 ? "passed" : "FAILED (\(s.checks.violations))"),
            ("convergence pairs passed", "\(s.checks.convergencePassed) / \(s.checks.convergencePairs)"),
            ("trace hash", "`\(s.traceHash)`"),
            ("wall time (s)", fmt(s.wallSeconds)),
            ("events / events per second", "\(s.events) / \(fmt(s.eventsPerSecond))"),
            ("peak RSS (MiB) / per node (KiB)", "\(fmt(Double(s.peakRssBytes) / 1_048_576)) / \(fmt(Double(s.bytesPerNode) / 1024))"),
        ]
        for (name, value) in rows + hostileRows(s) { out += "| \(name) | \(value) |\n" }
        out += "\n![resolve latency CDF](latency-cdf.svg)\n\n![success and freshness over time](churn-timeline.svg)\n"
        if !result.violations.isEmpty {
            out += "\n## Check violations\n\n" + result.violations.map { "- \($0)" }.joined(separator: "\n") + "\n"
        }
        return out
    }

    /// The resolve latency CDF chart.
    public static func latencyChart(_ result: SimulationResult) -> SVGChart {
        var series = [SVGChart.Series(name: "resolve latency", colour: "#1f77b4", points: result.latencyCDF.map { ($0.value, $0.fraction) }, stepped: true)]
        if !result.freshnessCDF.isEmpty {
            series.append(SVGChart.Series(name: "freshness after a move", colour: "#d62728", points: result.freshnessCDF.map { ($0.value, $0.fraction) }, stepped: true))
        }
        return SVGChart(
            title: "Resolve latency CDF (\(result.summary.nodes) nodes)", xLabel: "milliseconds (log scale)",
            yLabel: "fraction at or below", series: series, yRange: 0...1, logX: true)
    }

    /// Success, newest-record rate and freshness over the measurement phase.
    public static func churnChart(_ result: SimulationResult) -> SVGChart {
        let maxFreshness = max(result.series.map(\.freshnessP50Ms).max() ?? 0, 1)
        var chart = SVGChart(
            title: "Under churn (\(result.summary.nodes) nodes): success and freshness over time",
            xLabel: "seconds into the measurement phase",
            yLabel: "rate (freshness p50 scaled: 1 = \(fmt(maxFreshness)) ms)",
            series: [
                SVGChart.Series(name: "resolve success rate", colour: "#2ca02c", points: result.series.map { ($0.seconds, $0.successRate) }),
                SVGChart.Series(name: "newest record returned", colour: "#1f77b4", points: result.series.map { ($0.seconds, $0.freshRate) }),
                SVGChart.Series(name: "freshness p50 (scaled)", colour: "#d62728", points: result.series.filter { $0.moves > 0 }.map { ($0.seconds, $0.freshnessP50Ms / maxFreshness) }),
            ],
            yRange: 0...1.05)
        chart.legendAtBottom = true
        return chart
    }

    /// Writes `summary.json` (the full result), `summary.md`, `latency-cdf.svg` and
    /// `churn-timeline.svg` into `directory`, creating it.
    public static func write(_ result: SimulationResult, to directory: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files: [(String, String)] = [
            ("summary.json", fullJSON(result) + "\n"),
            ("summary.md", markdown(result)),
            ("latency-cdf.svg", latencyChart(result).render()),
            ("churn-timeline.svg", churnChart(result).render()),
        ]
        for (name, text) in files {
            try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
        }
    }

    static func fmt(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int(value)) }
        return String(format: abs(value) >= 100 ? "%.0f" : "%.2f", value)
    }

    static func pct(_ value: Double) -> String { String(format: "%.2f%%", value * 100) }
}
