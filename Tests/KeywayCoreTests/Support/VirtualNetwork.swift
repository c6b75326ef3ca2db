import Collections
import KeywayCrypto
@testable import KeywayCore

/// A core a ``VirtualNetwork`` can drive: the handle/poll interface every keyway core has.
protocol PollDrivenCore {
    associatedtype Event
    mutating func receive(_ datagram: [UInt8], from source: Endpoint, now: Instant)
    mutating func handleTimeout(now: Instant)
    mutating func pollTransmit() -> Datagram?
    mutating func pollEvent() -> Event?
    func nextTimeout() -> Instant?
}

extension SessionManager: PollDrivenCore {
    mutating func receive(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        handleDatagram(datagram, from: source, now: now)
    }
}

extension DHTNode: PollDrivenCore {
    mutating func receive(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        handleDatagram(datagram, from: source, now: now)
    }
}

extension KeywayNodeCore: PollDrivenCore {
    mutating func receive(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        handleDatagram(datagram, from: source, now: now)
    }
}

/// A deterministic virtual network for transport tests (quinn-proto style): cores exchange
/// datagrams through an event queue on a virtual clock, with latency, jitter (which reorders),
/// loss, and nodes that move to new endpoints or restart. No sockets, no sleeping.
struct VirtualNetwork<Core: PollDrivenCore> {
    struct Event: Comparable {
        var at: Instant
        var serial: UInt64
        var kind: Kind
        enum Kind { case deliver(Datagram, from: Endpoint), timer(node: Int) }
        static func < (lhs: Event, rhs: Event) -> Bool { (lhs.at, lhs.serial) < (rhs.at, rhs.serial) }
        static func == (lhs: Event, rhs: Event) -> Bool { lhs.at == rhs.at && lhs.serial == rhs.serial }
    }

    var nodes: [Core] = []
    var endpoints: [Endpoint] = []
    /// Which node holds each endpoint.
    private(set) var index: [Endpoint: Int] = [:]
    /// Endpoints whose traffic is dropped both ways (a crashed or unreachable node).
    var down: Set<Endpoint> = []
    /// Events each node reported, in order.
    var events: [[Core.Event]] = []
    var now = Instant.zero
    var latency: Duration
    /// Each datagram is delayed by up to this much more (so datagrams reorder).
    var jitter: Duration = .zero
    /// The probability that a datagram is lost.
    var lossRate = 0.0
    /// The largest datagram (UDP payload) the network carries; longer ones are dropped, as a
    /// link drops a packet with the don't-fragment bit that exceeds its MTU. `nil`: no limit.
    var pathMTU: Int?
    /// Extra delay of every datagram sent from these endpoints (a slow or distant node).
    var extraDelay: [Endpoint: Duration] = [:]
    /// Datagrams dropped for exceeding ``pathMTU``.
    var droppedOversize = 0
    /// The longest datagram delivered.
    var longestDelivered = 0
    /// Datagrams delivered, and dropped (lost, or sent to an endpoint nobody holds).
    var delivered = 0
    var dropped = 0
    /// Every datagram delivered, when `tracing` is on (for tests that watch the wire).
    var trace: [(at: Instant, from: Endpoint, to: Endpoint, payload: [UInt8])] = []
    var tracing = false
    private var rng: SeededRandom
    private var queue = Heap<Event>()
    private var armed: [Instant?] = []
    private var serial: UInt64 = 0

    init(latency: Duration = .milliseconds(10), seed: UInt64 = 1) {
        self.latency = latency
        rng = SeededRandom(seed: seed)
    }

    /// Adds `core` at `endpoint`; returns its index.
    @discardableResult
    mutating func add(_ core: Core, at endpoint: Endpoint) -> Int {
        nodes.append(core)
        endpoints.append(endpoint)
        index[endpoint] = nodes.count - 1
        events.append([])
        armed.append(nil)
        drain(nodes.count - 1)
        return nodes.count - 1
    }

    /// Moves node `i` to `endpoint`: datagrams to its old endpoint are lost from now on, and
    /// it sends from the new one (it need not know).
    mutating func move(_ i: Int, to endpoint: Endpoint) {
        index.removeValue(forKey: endpoints[i])
        endpoints[i] = endpoint
        index[endpoint] = i
    }

    /// Replaces node `i` by `core` at `endpoint` (a restart, possibly elsewhere).
    mutating func restart(_ i: Int, with core: Core, at endpoint: Endpoint) {
        move(i, to: endpoint)
        nodes[i] = core
        armed[i] = nil
        drain(i)
    }

    /// Runs `body` on node `i` at the current time, then collects what it produced.
    @discardableResult
    mutating func with<R>(_ i: Int, _ body: (inout Core, Instant) -> R) -> R {
        let result = body(&nodes[i], now)
        drain(i)
        return result
    }

    /// Processes events until the queue is empty or `deadline` is reached.
    mutating func run(until deadline: Instant) {
        while let next = queue.min, next.at <= deadline {
            queue.removeMin()
            now = next.at
            switch next.kind {
            case let .deliver(datagram, from):
                guard !down.contains(datagram.endpoint), !down.contains(from), let target = index[datagram.endpoint] else {
                    dropped += 1
                    continue
                }
                delivered += 1
                if tracing { trace.append((now, from, datagram.endpoint, datagram.payload)) }
                nodes[target].receive(datagram.payload, from: from, now: now)
                drain(target)
            case let .timer(node):
                guard armed[node] == next.at else { continue }
                armed[node] = nil
                nodes[node].handleTimeout(now: now)
                drain(node)
            }
        }
        now = max(now, deadline)
    }

    /// Runs for `duration` of virtual time.
    mutating func run(for duration: Duration) { run(until: now + duration) }

    /// Runs until `condition` holds, checking after every event, or until `limit` passes.
    @discardableResult
    mutating func run(until condition: (VirtualNetwork) -> Bool, limit: Duration) -> Bool {
        let deadline = now + limit
        while !condition(self) {
            guard let next = queue.min, next.at <= deadline else {
                now = max(now, deadline)
                return condition(self)
            }
            run(until: next.at)
        }
        return true
    }

    private mutating func drain(_ i: Int) {
        let from = endpoints[i]
        while let datagram = nodes[i].pollTransmit() {
            if let pathMTU, datagram.payload.count > pathMTU {
                dropped += 1
                droppedOversize += 1
                continue
            }
            longestDelivered = max(longestDelivered, datagram.payload.count)
            if lossRate > 0, Double(rng.next() % 1_000_000) / 1_000_000 < lossRate {
                dropped += 1
                continue
            }
            var delay = latency + (extraDelay[from] ?? .zero)
            let spread = jitter.nanosecondsClamped
            if spread > 0 { delay += .nanoseconds(Int64(rng.next() % UInt64(spread))) }
            schedule(at: now + delay, .deliver(datagram, from: from))
        }
        while let event = nodes[i].pollEvent() { events[i].append(event) }
        if let deadline = nodes[i].nextTimeout(), armed[i] != deadline {
            armed[i] = deadline
            schedule(at: max(deadline, now), .timer(node: i))
        }
    }

    private mutating func schedule(at: Instant, _ kind: Event.Kind) {
        serial += 1
        queue.insert(Event(at: at, serial: serial, kind: kind))
    }
}

/// Keys, endpoints and payloads for transport tests.
enum TransportFixtures {
    /// The key pair derived from `number`.
    static func identity(_ number: Int) -> Ed25519.KeyPair {
        var seed = [UInt8](repeating: 0x11, count: 32)
        for i in 0..<8 { seed[i] = UInt8(truncatingIfNeeded: number >> (8 * i)) }
        return try! Ed25519.KeyPair(seed: seed)
    }

    /// `10.1.0.<host>:<port>`.
    static func endpoint(_ host: Int, port: UInt16 = 7000) -> Endpoint {
        Endpoint(address: .v4(0x0a01_0000 | UInt32(host)), port: port)
    }

    /// `count` deterministic pseudo-random bytes.
    static func payload(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            var word = rng.next()
            withUnsafeBytes(of: &word) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }

    /// The BLAKE2b-256 digest of `bytes`.
    static func digest(_ bytes: [UInt8]) -> [UInt8] { BLAKE2b.hash(bytes, outputLength: 32) }

    /// The bytes of `stream` delivered in `events`, concatenated.
    static func received(on stream: UInt64? = nil, in events: [TransportEvent]) -> [UInt8] {
        var out = [UInt8]()
        for case let .streamData(id, bytes) in events where stream == nil || id.number == stream {
            out += bytes
        }
        return out
    }

    /// A configuration whose send buffer takes whole test payloads at once.
    static var roomy: TransportConfiguration {
        var configuration = TransportConfiguration()
        configuration.streamSendBufferLimit = 64 << 20
        return configuration
    }
}
