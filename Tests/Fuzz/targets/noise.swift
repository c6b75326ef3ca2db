// Target `noise`: the Noise IK / IKpsk2 handshake messages (keyway's
// Noise_IK_25519_ChaChaPoly_BLAKE2b and Noise_IKpsk2_...). Input byte 0 picks the role and the
// pattern: bit 0 clear, a responder reads message 1 (and, if it is accepted, answers and splits);
// bit 0 set, an initiator that sent its message 1 reads message 2 (and splits); bit 1 set, IKpsk2.
// Every key and ephemeral is fixed, so a seed's message is valid for the harness.
@testable import KeywayCore
import KeywayCrypto

let responderIdentity = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0x52, count: Ed25519.seedLength))
let initiatorIdentity = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0x49, count: Ed25519.seedLength))
let fixedPresharedKey = SecureBytes([UInt8](repeating: 0x70, count: 32))
let prologue = Array("keyway fuzz".utf8)

func responder(psk: Bool) -> NoiseHandshakeState {
    try! NoiseHandshakeState.responder(
        identity: responderIdentity, ephemeralSecretKey: SecureBytes([UInt8](repeating: 0x65, count: 32)),
        prologue: prologue, presharedKey: psk ? fixedPresharedKey : nil)
}

func initiator(psk: Bool) -> NoiseHandshakeState {
    try! NoiseHandshakeState.initiator(
        identity: initiatorIdentity, responder: responderIdentity.publicKey,
        ephemeralSecretKey: SecureBytes([UInt8](repeating: 0x45, count: 32)),
        prologue: prologue, presharedKey: psk ? fixedPresharedKey : nil)
}

// The states every input starts from, built once: a handshake state is a value, so each input
// gets its own copy, and the key conversions, ephemeral public keys and the initiator's message 1
// (two Diffie-Hellman operations) are not paid again for every input. Index: 0 IK, 1 IKpsk2.
let responderPrototypes = [responder(psk: false), responder(psk: true)]
let initiatorPrototypes = [false, true].map { psk in
    var state = initiator(psk: psk)
    _ = try! state.writeMessage(payload: [])
    return state
}

func fuzzOne(_ input: [UInt8]) {
    guard let mode = input.first else { return }
    let message = input.dropFirst()
    let psk = mode & 2 != 0 ? 1 : 0
    if mode & 1 == 0 {
        var state = responderPrototypes[psk]
        guard (try? state.readMessage(message)) != nil else { return }
        require(state.remoteStaticKey?.count == Noise.dhLength, "an accepted message 1 left no static key")
        require((try? state.writeMessage(payload: [1, 2, 3])) != nil, "cannot answer an accepted message 1")
        require((try? state.split()) != nil, "cannot split after message 2")
    } else {
        var state = initiatorPrototypes[psk]
        guard (try? state.readMessage(message)) != nil else { return }
        require((try? state.split()) != nil, "cannot split after an accepted message 2")
    }
}

func fuzzSeeds() -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for psk in [false, true] {
        var sender = initiator(psk: psk)
        let first = try! sender.writeMessage(payload: Array("hello".utf8))
        seeds.append([psk ? 2 : 0] + first)
        var answerer = responder(psk: psk)
        _ = try! answerer.readMessage(first)
        let second = try! answerer.writeMessage(payload: [])
        seeds.append([psk ? 3 : 1] + second)
    }
    return seeds
}
