// Target `transport-packet`: a datagram from anyone to a node's transport (SessionManager):
// type field, handshake initiation and response (MACs, cookies, Noise, replay), cookie replies,
// data packets for unknown or known indices. Each input is one datagram to a fresh manager;
// what it sends and reports is drained, and its timers run once.
@testable import KeywayCore
import KeywayCrypto

let nodeIdentity = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0x4e, count: Ed25519.seedLength))
let dialerIdentity = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0x44, count: Ed25519.seedLength))
let source = Endpoint("192.0.2.9:4000")!
let nodeEndpoint = Endpoint("192.0.2.1:6881")!
let start = Instant.seconds(100)

func drain(_ manager: inout SessionManager) {
    var count = 0
    while manager.pollTransmit() != nil, count < 1_000 { count += 1 }
    count = 0
    while manager.pollEvent() != nil, count < 1_000 { count += 1 }
}

func fuzzOne(_ input: [UInt8]) {
    var manager = SessionManager(identity: nodeIdentity, seed: 1, now: start)
    _ = manager.handleDatagram(input, from: source, now: start)
    drain(&manager)
    if let next = manager.nextTimeout() {
        manager.handleTimeout(now: max(next, start))
        drain(&manager)
    }
}

func fuzzSeeds() -> [[UInt8]] {
    // A real initiation to the node, its answer, and the first data packet after it.
    var dialer = SessionManager(identity: dialerIdentity, seed: 2, now: start)
    var node = SessionManager(identity: nodeIdentity, seed: 1, now: start)
    dialer.connect(to: nodeIdentity.publicKey, at: [nodeEndpoint], now: start)
    var seeds: [[UInt8]] = []
    var toNode: [[UInt8]] = []
    while let datagram = dialer.pollTransmit() { toNode.append(datagram.payload) }
    seeds += toNode
    for datagram in toNode { _ = node.handleDatagram(datagram, from: source, now: start) }
    var toDialer: [[UInt8]] = []
    while let datagram = node.pollTransmit() { toDialer.append(datagram.payload) }
    seeds += toDialer
    for datagram in toDialer { _ = dialer.handleDatagram(datagram, from: nodeEndpoint, now: start) }
    let stream = dialer.openStream(to: nodeIdentity.publicKey, now: start)
    _ = dialer.write(Array("GET /secret".utf8), to: stream, now: start)
    while let datagram = dialer.pollTransmit() { seeds.append(datagram.payload) }
    return seeds
}
