// Target `dns`: the pkarr DNS packet decoder and the endpoint record on top of it. Whatever
// decodes re-encodes (compressed or not) to a packet that decodes the same; a record read from
// a BEP 44 value re-reads the same.
@testable import KeywayCore
import KeywayCrypto

let fuzzKey = try! Ed25519.KeyPair(seed: [UInt8](repeating: 9, count: Ed25519.seedLength))
let roomyLimits = DNSLimits(maximumPacketLength: DNSSpec.maximumRecordDataLength)

func fuzzOne(_ input: [UInt8]) {
    if let packet = try? DNSPacket(decoding: input) {
        // Re-encoding may not compress names inside record data as the input did.
        let again = try? DNSPacket(decoding: (try? packet.encoded()) ?? [], limits: roomyLimits)
        require(again == packet, "re-encoded DNS packet decodes to another packet")
        let flat = try? DNSPacket(decoding: (try? packet.encoded(compressingNames: false)) ?? [], limits: roomyLimits)
        require(flat == packet, "uncompressed DNS packet decodes to another packet")
    }
    let item = MutableItem(
        publicKey: fuzzKey.publicKey, sequence: 1, encodedValue: BencodedByteString.encode(input), signature: [])
    if let record = try? EndpointRecord(item: item) {
        let reread = try? EndpointRecord(item: MutableItem(
            publicKey: fuzzKey.publicKey, sequence: record.timestampMicroseconds, encodedValue: record.encodedValue,
            signature: []))
        require(reread == record, "an endpoint record re-reads differently")
    }
}

func fuzzSeeds() -> [[UInt8]] {
    let sets: [[String]] = [
        ["192.0.2.1:4000"], ["[2001:db8::1]:6881", "198.51.100.7:1"], ["203.0.113.5:6881", "[::1]:9", "10.0.0.1:65535"],
    ]
    return sets.enumerated().map { index, endpoints in
        try! EndpointRecord(
            publicKey: fuzzKey.publicKey, timestampMicroseconds: 1_700_000_000_000_000 + Int64(index),
            endpoints: endpoints.map { Endpoint($0)! }
        ).dnsPacket()
    }
}
