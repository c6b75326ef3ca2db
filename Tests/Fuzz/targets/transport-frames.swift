// Target `transport-frames`: the frames of authenticated packets, as a peer with a session can
// send them (the decrypted plaintext goes to StreamConnection.receive). Input: packets, each a
// length byte L, a packet-number step byte, then L bytes of frames. The connection has sent
// stream data of its own first, so ACK frames have packets to acknowledge; after the packets
// it builds what it would send, and its loss timers run.
@testable import KeywayCore
import Collections
import KeywayCrypto

let localKey = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0x4c, count: Ed25519.seedLength)).publicKey
let peerKey = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0x50, count: Ed25519.seedLength)).publicKey
let limits = StreamConnection.Limits(TransportConfiguration())
let start = Instant.seconds(100)

/// `input` cut into (packet-number step, frames) pairs.
func packets(_ input: [UInt8]) -> [(step: UInt8, frames: [UInt8])] {
    var result: [(UInt8, [UInt8])] = []
    var offset = 0
    while offset + 2 <= input.count {
        let length = Int(input[offset])
        let step = input[offset + 1]
        offset += 2
        let end = min(input.count, offset + length)
        result.append((step, Array(input[offset..<end])))
        offset = end
    }
    return result
}

/// The connection every input starts from, built once (it is a value: each input gets its own
/// copy): one stream of ours with 3,000 bytes written and up to 8 packets of it sent, so ACK
/// frames have packets to acknowledge.
let prototype: (connection: StreamConnection, sink: StreamConnection.Sink) = {
    var connection = StreamConnection(local: localKey, peer: peerKey, limits: limits)
    var sink = StreamConnection.Sink(events: Deque(), statistics: TransportStatistics(), nextStreamNumber: 1)
    let stream = connection.openStream(number: 0)
    _ = connection.write([UInt8](repeating: 0x61, count: 3_000), number: stream.number)
    var sent = 0
    while connection.nextPacket(now: start, statistics: &sink.statistics) != nil, sent < 8 { sent += 1 }
    return (connection, sink)
}()

func fuzzOne(_ input: [UInt8]) {
    var (connection, sink) = prototype
    var now = start
    var packetNumber: UInt64 = 0
    for (step, frames) in packets(input) {
        // Steps 0...255 around the last number: repeats, gaps and reordering.
        packetNumber = UInt64(max(0, Int(packetNumber) + Int(step) - 8))
        now = now + .milliseconds(1)
        let plaintext = [UInt8](repeating: 0, count: TransportSpec.packetNumberLength) + frames
        _ = connection.receive(packetNumber: packetNumber, plaintext: plaintext, now: now, sink: &sink)
    }
    var built = 0
    while connection.nextPacket(now: now, statistics: &sink.statistics) != nil, built < 64 { built += 1 }
    connection.detectLosses(now: now + .seconds(1), statistics: &sink.statistics)
    connection.handleLossTimeout(now: now + .seconds(2), statistics: &sink.statistics)
}

func fuzzSeeds() -> [[UInt8]] {
    func packet(_ step: UInt8, _ frames: [UInt8]) -> [UInt8] { [UInt8(frames.count), step] + frames }
    var stream: [UInt8] = []
    TransportFrame.encodeStreamHeader(id: 1, offset: 0, length: 5, fin: false, to: &stream)
    stream += Array("hello".utf8)
    var end: [UInt8] = []
    TransportFrame.encodeStreamHeader(id: 1, offset: 5, length: 0, fin: true, to: &end)
    var ack: [UInt8] = []
    TransportFrame.encodeAck(ranges: [0..<2, 3..<5][...], delayMicroseconds: 250, to: &ack)
    var controls: [UInt8] = []
    TransportFrame.maxData(1 << 20).encode(to: &controls)
    TransportFrame.maxStreamData(id: 1, maximum: 1 << 18).encode(to: &controls)
    var reset: [UInt8] = []
    TransportFrame.resetStream(id: 1, code: 7, finalSize: 5).encode(to: &reset)
    return [
        packet(8, stream),
        packet(8, controls + stream) + packet(9, end) + packet(9, ack),
        packet(8, stream) + packet(9, reset) + packet(7, [TransportSpec.FrameType.ping]),
        packet(8, ack + [TransportSpec.FrameType.padding, TransportSpec.FrameType.padding]),
    ]
}
