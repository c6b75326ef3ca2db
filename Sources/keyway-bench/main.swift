// keyway-bench: a small release-mode harness that prints the figures Docs/PERFORMANCE.md records.
//
//     swift run -c release keyway-bench [filter]
//     swift run -c release keyway-bench transport   # the transport's figures only
//     swift run -c release keyway-bench transport core   # one of them: raw, handshakes, core, loopback
//
// Each benchmark runs its body repeatedly for about a second after a warm-up and prints the
// median of five rounds as operations per second and nanoseconds per operation. A filter
// (substring) runs only the benchmarks whose name contains it.
import KeywayCore
import KeywayCrypto
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Keeps the optimiser from deleting work whose result is unused.
@inline(never)
func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

struct Benchmark {
    var name: String
    var unit: String = "op"
    /// Runs the measured work `iterations` times.
    var body: (Int) -> Void
}

func measure(_ benchmark: Benchmark) {
    let clock = ContinuousClock()
    // Calibrate: find an iteration count that takes about 200 ms.
    var iterations = 1
    while true {
        let elapsed = clock.measure { benchmark.body(iterations) }
        if elapsed > .milliseconds(200) || iterations > 1 << 30 { break }
        iterations *= 2
    }
    var rates: [Double] = []
    for _ in 0..<5 {
        let elapsed = clock.measure { benchmark.body(iterations) }
        rates.append(Double(iterations) / elapsed.secondsDouble)
    }
    rates.sort()
    let median = rates[2]
    let name = benchmark.name.padding(toLength: 44, withPad: " ", startingAt: 0)
    print("\(name) \(formatRate(median)) \(benchmark.unit)/s   \(String(format: "%10.1f", 1e9 / median)) ns/\(benchmark.unit)")
}

func formatRate(_ rate: Double) -> String {
    let text: String
    if rate >= 1e6 { text = String(format: "%.2fM", rate / 1e6) } else if rate >= 1e3 { text = String(format: "%.1fk", rate / 1e3) } else { text = String(format: "%.1f", rate) }
    return text.padding(toLength: 10, withPad: " ", startingAt: 0)
}

// MARK: Fixtures

var rng = SeededRandom(seed: 2026)
let keyPair = try! Ed25519.KeyPair(seed: rng.bytes(count: 32))
let ownID = NodeID(publicKey: keyPair.publicKey)
let contacts: [NodeContact] = (0..<8).map { n in
    NodeContact(id: .random(using: &rng), endpoint: Endpoint(address: .v4(0x7f00_0001), port: UInt16(20_000 + n)))
}
let record = try! EndpointRecord(
    publicKey: keyPair.publicKey, timestampMicroseconds: 1_763_769_600_000_000,
    endpoints: [Endpoint("192.0.2.10:4000")!, Endpoint("[2001:db8::10]:4000")!])
let item = record.signed(by: keyPair)
let getResponse = KRPCMessage(
    transactionID: [0x12, 0x34],
    body: .response(KRPCResponse(
        id: ownID, nodes: contacts, token: rng.bytes(count: 8), encodedValue: item.encodedValue,
        publicKey: item.publicKey.bytes, sequence: item.sequence, signature: item.signature)),
    clientVersion: Array("KW".utf8) + [0, 1], observedEndpoint: Endpoint("127.0.0.1:6881")!)
let getResponseBytes = getResponse.encoded()
let findNodeQuery = KRPCMessage(transactionID: [1, 2], body: .query(.findNode(id: ownID, target: .random(using: &rng))))
let findNodeQueryBytes = findNodeQuery.encoded()
let randomIDs: [NodeID] = (0..<100_000).map { _ in NodeID.random(using: &rng) }
var fullTable = RoutingTable(ownID: ownID, configuration: DHTConfiguration(), now: .zero)
for (n, id) in randomIDs.enumerated() {
    fullTable.observe(NodeContact(id: id, endpoint: Endpoint(address: .v4(0x0a00_0000 | UInt32(n)), port: 6881)), responded: true, now: .zero)
}

/// A node with a routing table of ~130 contacts (what `find_node` queries from random IDs
/// leave behind), and the three queries a load generator sends, as bytes.
var answeringNode: DHTNode = {
    var configuration = DHTConfiguration()
    configuration.inboundQueryRatePerSource = 0
    var node = DHTNode(keyPair: keyPair, configuration: configuration, seed: 7, now: .zero)
    for n in 0..<20_000 {
        let query = KRPCMessage(transactionID: [1, 2], body: .query(.findNode(id: randomIDs[n], target: randomIDs[n])))
        node.handleDatagram(query.encoded(), from: Endpoint(address: .v4(0x0a00_0000 | UInt32(n)), port: 6881), now: .zero)
        while node.pollTransmit() != nil {}
    }
    return node
}()
let querier = Endpoint("127.0.0.1:40000")!
let queryBytes: [(String, [UInt8])] = [
    ("ping", KRPCMessage(transactionID: [1, 2, 3, 4], body: .query(.ping(id: randomIDs[0])), readOnly: true).encoded()),
    ("find_node", KRPCMessage(transactionID: [1, 2, 3, 4], body: .query(.findNode(id: randomIDs[0], target: randomIDs[1])), readOnly: true).encoded()),
    ("get", KRPCMessage(transactionID: [1, 2, 3, 4], body: .query(.get(id: randomIDs[0], target: randomIDs[2], sequence: nil)), readOnly: true).encoded()),
]
let tokens = WriteTokens(configuration: DHTConfiguration(), now: .zero, rng: &rng)

// MARK: Benchmarks

let benchmarks: [Benchmark] = queryBytes.map { name, bytes in
    // The core's whole share of answering one query: decode, table, encode; no socket.
    Benchmark(name: "DHT node answers \(name) (core only, \(bytes.count) B)") { n in
        bytes.withUnsafeBufferPointer { datagram in
            for _ in 0..<n {
                answeringNode.handleDatagram(bytes: datagram, from: querier, now: .zero)
                while let reply = answeringNode.pollTransmit() { blackHole(reply) }
            }
        }
    }
} + [
    Benchmark(name: "write token (SipHash of an IPv4 address)") { n in
        for i in 0..<n { blackHole(tokens.token(for: .v4(UInt32(truncatingIfNeeded: i)))) }
    },
    Benchmark(name: "bencode decode (get response, \(getResponseBytes.count) B)") { n in
        for _ in 0..<n { blackHole(try? BencodeValue.decode(getResponseBytes)) }
    },
    Benchmark(name: "KRPC decode (get response with record)") { n in
        for _ in 0..<n { blackHole(try? KRPCMessage.decode(getResponseBytes)) }
    },
    Benchmark(name: "KRPC encode (get response with record)") { n in
        for _ in 0..<n { blackHole(getResponse.encoded()) }
    },
    Benchmark(name: "KRPC decode (find_node query)") { n in
        for _ in 0..<n { blackHole(try? KRPCMessage.decode(findNodeQueryBytes)) }
    },
    Benchmark(name: "routing table insert (into 100k-ID table)") { n in
        var table = RoutingTable(ownID: ownID, configuration: DHTConfiguration(), now: .zero)
        for i in 0..<n {
            let id = randomIDs[i % randomIDs.count]
            table.observe(NodeContact(id: id, endpoint: Endpoint(address: .v4(UInt32(i)), port: 1)), responded: true, now: .zero)
        }
        blackHole(table.count)
    },
    Benchmark(name: "routing table closest-8 (\(fullTable.count) contacts)") { n in
        for i in 0..<n { blackHole(fullTable.closest(to: randomIDs[i % randomIDs.count], count: 8)) }
    },
    Benchmark(name: "record sign (DNS packet + Ed25519)") { n in
        for i in 0..<n {
            let r = try! EndpointRecord(publicKey: keyPair.publicKey, timestampMicroseconds: Int64(i), endpoints: record.endpoints)
            blackHole(r.signed(by: keyPair))
        }
    },
    Benchmark(name: "record verify (Ed25519 + DNS decode)") { n in
        for _ in 0..<n {
            blackHole(item.isValid)
            blackHole(try? EndpointRecord(item: item))
        }
    },
]

let filter = CommandLine.arguments.dropFirst().first
if filter != "transport" {
    print("keyway-bench: median of 5 rounds of ~200 ms each")
    for benchmark in benchmarks where filter == nil || benchmark.name.contains(filter!) {
        measure(benchmark)
    }
}
// `keyway-bench transport`: the transport's figures (see TransportBench.swift).
// `keyway-bench transport core|loopback|raw|handshakes` runs one of them alone (for profiling).
if filter == nil || filter == "transport" {
    try await TransportBench.run(only: CommandLine.arguments.dropFirst(2).first)
}
