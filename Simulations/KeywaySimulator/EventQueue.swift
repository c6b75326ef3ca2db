import Collections
import KeywayCore

/// The virtual clock's agenda: events ordered by time, ties broken by the order they were
/// scheduled, so a run never depends on anything but its inputs.
struct EventQueue {
    /// One scheduled event.
    struct Entry: Comparable {
        var at: UInt64
        var serial: UInt64
        var event: SimulationEvent
        static func < (lhs: Entry, rhs: Entry) -> Bool { lhs.at < rhs.at || (lhs.at == rhs.at && lhs.serial < rhs.serial) }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.at == rhs.at && lhs.serial == rhs.serial }
    }

    private var heap = Heap<Entry>()
    private var serial: UInt64 = 0

    /// Schedules `event` at `time`.
    @inline(__always)
    mutating func schedule(_ event: SimulationEvent, at time: Instant) {
        serial &+= 1
        heap.insert(Entry(at: time.nanoseconds, serial: serial, event: event))
    }

    /// Takes the earliest event.
    @inline(__always)
    mutating func next() -> (at: Instant, event: SimulationEvent)? {
        guard let entry = heap.popMin() else { return nil }
        return (Instant(nanoseconds: entry.at), entry.event)
    }

    /// Events waiting.
    var count: Int { heap.count }
}

/// Everything that can happen in a simulation.
enum SimulationEvent {
    /// A datagram reaches its destination address.
    case deliver(InFlightDatagram)
    /// A node's DHT timer; ignored unless `generation` is the node's current one.
    case timer(node: Int32, generation: UInt32)
    /// A step of the scenario.
    case action(ScenarioAction)
}

/// A datagram on the virtual wire.
struct InFlightDatagram {
    /// The sending node (its identity, whatever address it has by now).
    var sender: Int32
    /// The address it was sent from.
    var source: Endpoint
    /// The address it was sent to.
    var destination: Endpoint
    /// The UDP payload.
    var payload: [UInt8]
}

/// Steps of the scenario: phases, churn, workload, checks.
enum ScenarioAction {
    /// A node starts for the first time.
    case start(node: Int32)
    /// A node publishes its record in the publish step after the join window.
    case publish(node: Int32)
    /// The measurement phase begins: resolves, churn and partitions start.
    case beginMeasurement
    /// A node's session ends (ignored if it restarted meanwhile).
    case leave(node: Int32, incarnation: UInt32)
    /// A departed node comes back with the same key at a new address.
    case rejoin(node: Int32)
    /// The next address change of the IP-churn process.
    case move
    /// The next resolve of the workload.
    case resolve
    /// The next freshness probe after move number `move`.
    case probe(move: Int32)
    /// Partition number `index` begins or ends.
    case partition(index: Int, begins: Bool)
    /// Audit every live node's store.
    case audit
    /// Close a time-series bucket.
    case sample
    /// Churn and partitions stop; the network heals.
    case endChurn
    /// The convergence check begins.
    case beginCheck
    /// Pair number `pair` of the convergence check resolves (again).
    case checkPair(pair: Int32)
    /// An eclipse node looks its target up again (``HostileBehaviour/eclipse``).
    case eclipseLookup(node: Int32)
    /// A random honest node resolves the eclipse target.
    case eclipseProbe
}
