import Collections
import KeywayCrypto
@testable import KeywayCore

/// A tiny deterministic network for tests: DHT cores exchange datagrams through an event queue
/// with a fixed latency, on a virtual clock. No sockets, no sleeping: time jumps from event to event.
struct InMemoryNetwork {
    struct Event: Comparable {
        var at: Instant
        var serial: UInt64
        var kind: Kind
        enum Kind { case deliver(Datagram, from: Endpoint), timer(node: Int) }
        static func < (lhs: Event, rhs: Event) -> Bool { (lhs.at, lhs.serial) < (rhs.at, rhs.serial) }
        static func == (lhs: Event, rhs: Event) -> Bool { lhs.at == rhs.at && lhs.serial == rhs.serial }
    }

    var nodes: [DHTNode] = []
    var endpoints: [Endpoint] = []
    var index: [Endpoint: Int] = [:]
    /// Events each node reported, in order.
    var events: [[DHTEvent]] = []
    var now = Instant.zero
    var latency: Duration
    /// Endpoints whose traffic is dropped (a crashed or unreachable node).
    var down: Set<Endpoint> = []
    private var queue = Heap<Event>()
    private var armed: [Instant?] = []
    private var serial: UInt64 = 0
    var delivered = 0

    init(latency: Duration = .milliseconds(10)) { self.latency = latency }

    /// Adds a node with a key derived from `number`; returns its index.
    @discardableResult
    mutating func addNode(number: Int, configuration: DHTConfiguration = InMemoryNetwork.fastConfiguration) -> Int {
        var seed = [UInt8](repeating: 0, count: 32)
        for i in 0..<8 { seed[i] = UInt8(truncatingIfNeeded: number >> (8 * i)) }
        seed[31] = 0x5a
        let keyPair = try! Ed25519.KeyPair(seed: seed)
        let endpoint = Endpoint(address: .v4(0x0a00_0000 | UInt32(number + 1)), port: 6881)
        nodes.append(DHTNode(keyPair: keyPair, configuration: configuration, seed: UInt64(number) &* 7919 &+ 1, now: now))
        endpoints.append(endpoint)
        index[endpoint] = nodes.count - 1
        events.append([])
        armed.append(nil)
        drain(nodes.count - 1)
        return nodes.count - 1
    }

    /// Shorter timeouts than production, so tests cover many rounds quickly (virtual time anyway).
    static var fastConfiguration: DHTConfiguration {
        var configuration = DHTConfiguration()
        configuration.queryTimeout = .milliseconds(500)
        return configuration
    }

    /// Runs `body` on node `i` at the current time, then collects what it produced.
    mutating func with(_ i: Int, _ body: (inout DHTNode, Instant) -> Void) {
        body(&nodes[i], now)
        drain(i)
    }

    /// Processes events until the queue is empty or `deadline` is reached.
    mutating func run(until deadline: Instant) {
        while let next = queue.min, next.at <= deadline {
            queue.removeMin()
            now = next.at
            switch next.kind {
            case let .deliver(datagram, from):
                guard !down.contains(datagram.endpoint), !down.contains(from), let target = index[datagram.endpoint] else { continue }
                delivered += 1
                nodes[target].handleDatagram(datagram.payload, from: from, now: now)
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
    /// Returns whether the condition held.
    mutating func run(until condition: (InMemoryNetwork) -> Bool, limit: Duration) -> Bool {
        let deadline = now + limit
        while !condition(self) {
            guard let next = queue.min, next.at <= deadline else { return condition(self) }
            run(until: next.at)
        }
        return true
    }

    private mutating func drain(_ i: Int) {
        let from = endpoints[i]
        while let datagram = nodes[i].pollTransmit() {
            schedule(at: now + latency, .deliver(datagram, from: from))
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
