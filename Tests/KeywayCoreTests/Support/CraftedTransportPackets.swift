import KeywayCrypto
@testable import KeywayCore

/// Hand-made data packets for hostile-peer tests: a core that completed a real handshake seals
/// whatever frames a test names, as an attacker holding a session's keys could.
extension SessionManager {
    /// A data packet to `peer` whose plaintext is `packetNumber` (by default the next one the
    /// session would use) and exactly `frames`, sealed under the session's current keys.
    mutating func craftedDataPacket(to peer: Ed25519.PublicKey, frames: [TransportFrame], packetNumber: UInt64? = nil) -> [UInt8] {
        let slot = slots[peer]!
        let number = packetNumber ?? peers[slot]!.connection.nextPacketNumber
        if packetNumber == nil { peers[slot]!.connection.nextPacketNumber += 1 }
        var plaintext = [UInt8]()
        TransportBytes.appendLittleEndian(number, to: &plaintext)
        for frame in frames { frame.encode(to: &plaintext) }
        let keys = peers[slot]!.current!
        var packet = DataPacket.header(receiverIndex: keys.remoteIndex, counter: keys.sendCounter)
        packet += try! keys.send.encrypt(nonce: keys.sendCounter, ad: packet, plaintext: plaintext)
        peers[slot]!.current!.sendCounter += 1
        return packet
    }

    /// The wire ID of the `index`-th stream (from 0) this core opens towards `peer`.
    func localStreamWireID(towards peer: Ed25519.PublicKey, index: UInt64) -> UInt64 {
        let parity: UInt64 = identity.publicKey < peer ? 0 : 1
        return parity + 2 * index
    }
}
