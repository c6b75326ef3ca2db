import ArgumentParser
import Keyway
import KeywayCore
import Prometheus
import Synchronization

/// `--metrics HOST:PORT` of `run`, `listen` and `forward`.
struct MetricsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Serve Prometheus metrics at http://HOST:PORT/metrics (port 0: any free port, printed as metrics: HOST:PORT).",
        valueName: "host:port"))
    var metrics: String?

    /// Where to serve, resolved (one line and exit status 2 when it cannot be).
    func endpoint() async throws -> Endpoint? {
        guard metrics != nil else { return nil }
        return try await NodeArguments.listen(metrics, fallback: KeywayNodeConfiguration.defaultListen, option: "--metrics")
    }
}

/// A running node's metrics in Prometheus's text format, through swift-prometheus's registry
/// (whose metrics are swift-metrics handlers).
///
/// Everything comes from what the node already counts: at each scrape the core's statistics
/// and the runtime's stream accounting are read in one hop to the node's event loop
/// (``KeywayNode/counters()``) and each counter is advanced by what its source grew since the
/// previous scrape, so a counter never goes back; lookup durations and published records come
/// from the node's events. The core knows nothing of metrics.
///
/// Names follow Prometheus's conventions: `keyway_` prefix, base units (seconds, bytes),
/// `_total` for counters, labels for the parts of one quantity.
final class NodeMetrics: Sendable {
    /// Buckets of `keyway_lookup_duration_seconds`: 5 ms to 10 s, a lookup's range from a
    /// loopback mesh to a lossy internet.
    static let lookupBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// The registry the server exports.
    let registry = PrometheusCollectorRegistry()
    private let node: KeywayNode
    private let previous = Mutex<KeywayNodeCounters?>(nil)
    /// Sequence numbers of the records already counted as published.
    private let lastPublished = Mutex<Int64?>(nil)

    private let queriesReceived: [(method: String, counter: Prometheus.Counter)]
    private let queriesAnswered, queriesSent, queryTimeouts: Prometheus.Counter
    private let datagrams: [String: Prometheus.Counter]
    private let datagramBytes: [String: Prometheus.Counter]
    private let dropped: [String: Prometheus.Counter]
    private let passiveRebinds, activeRebinds, handshakes: Prometheus.Counter
    private let streamBytesSent, streamBytesReceived, publishedRecords: Prometheus.Counter
    private let contacts, sessions, streams, storedItems: Prometheus.Gauge
    private let lookupDurations: [LookupKind: DurationHistogram]

    /// Metrics of `node`, all at zero.
    init(node: KeywayNode) {
        self.node = node
        let registry = self.registry
        func descriptor(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "keyway", metricName: name, unitName: unit, helpText: help)
        }
        let receivedDescriptor = descriptor("dht_queries_received", "total", "KRPC queries received, by method, before rate limiting.")
        queriesReceived = DHTStatistics().queriesReceived.byMethod.map { entry in
            (entry.method, registry.makeCounter(descriptor: receivedDescriptor, labels: [("method", entry.method)]))
        }
        queriesAnswered = registry.makeCounter(descriptor: descriptor("dht_queries_answered", "total", "KRPC queries answered, with a response or an error."))
        queriesSent = registry.makeCounter(descriptor: descriptor("dht_queries_sent", "total", "KRPC queries this node sent."))
        queryTimeouts = registry.makeCounter(descriptor: descriptor("dht_query_timeouts", "total", "KRPC queries of this node that timed out."))
        let datagramDescriptor = descriptor("datagrams", "total", "UDP datagrams, by layer (dht, transport) and direction.")
        let bytesDescriptor = descriptor("datagram", "bytes_total", "UDP payload bytes, by layer (dht, transport) and direction.")
        var datagrams = [String: Prometheus.Counter]()
        var datagramBytes = [String: Prometheus.Counter]()
        for layer in ["dht", "transport"] {
            for direction in ["received", "sent"] {
                let labels = [("layer", layer), ("direction", direction)]
                datagrams["\(layer) \(direction)"] = registry.makeCounter(descriptor: datagramDescriptor, labels: labels)
                datagramBytes["\(layer) \(direction)"] = registry.makeCounter(descriptor: bytesDescriptor, labels: labels)
            }
        }
        self.datagrams = datagrams
        self.datagramBytes = datagramBytes
        let droppedDescriptor = descriptor("dropped_datagrams", "total", "Datagrams dropped unanswered, by layer and reason.")
        var dropped = [String: Prometheus.Counter]()
        for (layer, reason) in Self.dropReasons {
            dropped["\(layer) \(reason)"] = registry.makeCounter(descriptor: droppedDescriptor, labels: [("layer", layer), ("reason", reason)])
        }
        self.dropped = dropped
        let rebindDescriptor = descriptor("rebinds", "total", "Sessions moved to a peer's new endpoint: passive (an authenticated packet came from it) or active (a newer record lists it).")
        passiveRebinds = registry.makeCounter(descriptor: rebindDescriptor, labels: [("kind", "passive")])
        activeRebinds = registry.makeCounter(descriptor: rebindDescriptor, labels: [("kind", "active")])
        handshakes = registry.makeCounter(descriptor: descriptor("handshakes_completed", "total", "Noise handshakes completed, on either side."))
        let streamDescriptor = descriptor("stream", "bytes_total", "Stream payload bytes: sent (taken from writes) and received (delivered in order).")
        streamBytesSent = registry.makeCounter(descriptor: streamDescriptor, labels: [("direction", "sent")])
        streamBytesReceived = registry.makeCounter(descriptor: streamDescriptor, labels: [("direction", "received")])
        publishedRecords = registry.makeCounter(descriptor: descriptor("published_records", "total", "Endpoint records this node published (each a new seq), counted when their put finished."))
        contacts = registry.makeGauge(descriptor: descriptor("routing_table", "contacts", "Contacts in the routing table."))
        sessions = registry.makeGauge(descriptor: descriptor("sessions", "", "Transport sessions, established or being set up."))
        streams = registry.makeGauge(descriptor: descriptor("streams", "", "Streams the application holds open."))
        storedItems = registry.makeGauge(descriptor: descriptor("stored_items", "", "BEP 44 items this node stores for others."))
        let lookupDescriptor = descriptor("lookup_duration", "seconds", "DHT lookups from start to end, by kind (get: resolve, put: publish).")
        var lookupDurations = [LookupKind: DurationHistogram]()
        for kind in [LookupKind.get, .put] {
            lookupDurations[kind] = registry.makeDurationHistogram(descriptor: lookupDescriptor, labels: [("kind", kind.rawValue)], buckets: Self.lookupBuckets)
        }
        self.lookupDurations = lookupDurations
        registry.makeGauge(descriptor: descriptor("build", "info", "Always 1; the version of keyway in its label."), labels: [("version", Keyway.version)]).set(to: 1.0)
    }

    /// The `(layer, reason)` labels of `keyway_dropped_datagrams_total`.
    static let dropReasons: [(String, String)] = [
        ("dht", "malformed"), ("dht", "rate_limited"),
        ("transport", "malformed"), ("transport", "bad_mac"), ("transport", "rate_limited"), ("transport", "unknown_index"),
        ("transport", "unauthenticated"), ("transport", "replayed"), ("transport", "expired"), ("transport", "refused"),
        ("transport", "bad_frames"), ("transport", "reassembly_limit"), ("transport", "session_limit"),
    ]

    /// The drop counts of `counters`, keyed `"layer reason"` as ``dropReasons`` names them.
    private static func drops(_ counters: KeywayNodeCounters) -> [String: Int] {
        let dht = counters.dht, transport = counters.transport
        return [
            "dht malformed": dht.datagramsDropped, "dht rate_limited": dht.queriesRateLimited,
            "transport malformed": transport.droppedMalformed, "transport bad_mac": transport.droppedBadMAC,
            "transport rate_limited": transport.droppedRateLimited, "transport unknown_index": transport.droppedUnknownIndex,
            "transport unauthenticated": transport.droppedUnauthenticated, "transport replayed": transport.droppedReplayed,
            "transport expired": transport.droppedExpired, "transport refused": transport.droppedRefused,
            "transport bad_frames": transport.droppedBadFrames, "transport reassembly_limit": transport.droppedReassemblyLimit,
            "transport session_limit": transport.droppedSessionLimit,
        ]
    }

    /// The text of a scrape: the node's counters now, then the registry's export.
    func scrape() async -> [UInt8] {
        if let counters = try? await node.counters() { update(counters) }
        return registry.emitToBuffer()
    }

    /// Advances every counter by its source's growth since the previous update, and sets the
    /// gauges.
    func update(_ now: KeywayNodeCounters) {
        previous.withLock { previous in
            let before = previous
            func advance(_ counter: Prometheus.Counter, _ value: (KeywayNodeCounters) -> Int) {
                let growth = value(now) - (before.map(value) ?? 0)
                if growth > 0 { counter.increment(by: Int64(growth)) }
            }
            for (index, entry) in queriesReceived.enumerated() {
                advance(entry.counter) { $0.dht.queriesReceived.byMethod[index].count }
            }
            advance(queriesAnswered) { $0.dht.queriesAnswered }
            advance(queriesSent) { $0.dht.queriesSent }
            advance(queryTimeouts) { $0.dht.queryTimeouts }
            if let counter = datagrams["dht received"] { advance(counter) { $0.dht.datagramsReceived } }
            if let counter = datagrams["dht sent"] { advance(counter) { $0.dht.datagramsSent } }
            if let counter = datagrams["transport received"] { advance(counter) { $0.transport.datagramsReceived } }
            if let counter = datagrams["transport sent"] { advance(counter) { $0.transport.datagramsSent } }
            if let counter = datagramBytes["dht received"] { advance(counter) { $0.dht.bytesReceived } }
            if let counter = datagramBytes["dht sent"] { advance(counter) { $0.dht.bytesSent } }
            if let counter = datagramBytes["transport received"] { advance(counter) { $0.transport.bytesReceived } }
            if let counter = datagramBytes["transport sent"] { advance(counter) { $0.transport.bytesSent } }
            for (key, counter) in dropped {
                advance(counter) { Self.drops($0)[key] ?? 0 }
            }
            advance(passiveRebinds) { $0.transport.passiveRebinds }
            advance(activeRebinds) { $0.transport.activeRebinds }
            advance(handshakes) { $0.transport.handshakesCompleted }
            advance(streamBytesSent) { $0.streamBytesSent }
            advance(streamBytesReceived) { $0.streamBytesReceived }
            contacts.set(to: Double(now.routingTableContacts))
            sessions.set(to: Double(now.sessions))
            streams.set(to: Double(now.streams))
            storedItems.set(to: Double(now.storedItems))
            previous = now
        }
    }

    /// Counts lookups and published records from `events` until the node stops.
    func follow(_ events: AsyncStream<KeywayEvent>) -> Task<Void, Never> {
        Task {
            for await event in events {
                switch event {
                case let .lookupFinished(kind, duration):
                    lookupDurations[kind]?.record(duration)
                case let .published(record, _):
                    let isNew = lastPublished.withLock { last in
                        defer { last = record.timestampMicroseconds }
                        return last != record.timestampMicroseconds
                    }
                    if isNew { publishedRecords.increment() }
                default:
                    break
                }
            }
        }
    }
}
