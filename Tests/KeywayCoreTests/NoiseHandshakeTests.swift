import KeywayCrypto
import Testing
@testable import KeywayCore

/// IK and IKpsk2 handshakes between keyway identities, and every way they must refuse.
@Suite struct NoiseHandshakeTests {
    static let alice = try! Ed25519.KeyPair(seed: [UInt8](repeating: 1, count: 32))
    static let bob = try! Ed25519.KeyPair(seed: [UInt8](repeating: 2, count: 32))
    static let carol = try! Ed25519.KeyPair(seed: [UInt8](repeating: 3, count: 32))
    static let meshSecret = SecureBytes([UInt8](repeating: 0x5e, count: 32))
    static let prologue = Array("keyway/1".utf8)
    static let ping = Array("ping".utf8)

    /// A fresh ephemeral key from a seeded generator, as the simulator draws them.
    static func ephemeral(_ seed: UInt64) -> SecureBytes {
        var generator = SeededRandom(seed: seed)
        return NoiseHandshakeState.ephemeralSecretKey(using: &generator)
    }

    static func initiator(
        dialling responder: Ed25519.PublicKey = bob.publicKey, psk: SecureBytes? = nil, prologue: [UInt8] = prologue
    ) throws -> NoiseHandshakeState {
        try .initiator(
            identity: alice, responder: responder, ephemeralSecretKey: ephemeral(10), prologue: prologue, presharedKey: psk)
    }

    static func responder(psk: SecureBytes? = nil, prologue: [UInt8] = prologue) throws -> NoiseHandshakeState {
        try .responder(identity: bob, ephemeralSecretKey: ephemeral(20), prologue: prologue, presharedKey: psk)
    }

    /// A whole handshake; returns both sides' transport ciphers.
    static func handshake(psk: SecureBytes? = nil) throws -> (NoiseTransportCiphers, NoiseTransportCiphers) {
        var initiator = try initiator(psk: psk), responder = try responder(psk: psk)
        _ = try responder.readMessage(try initiator.writeMessage(payload: []))
        _ = try initiator.readMessage(try responder.writeMessage(payload: []))
        return (try initiator.split(), try responder.split())
    }

    @Test(arguments: [false, true])
    func ed25519IdentitiesCompleteAHandshake(withMeshSecret: Bool) throws {
        let psk = withMeshSecret ? Self.meshSecret : nil
        var initiator = try Self.initiator(psk: psk)
        var responder = try Self.responder(psk: psk)
        #expect(initiator.pattern == (withMeshSecret ? .ikpsk2 : .ik))
        #expect(initiator.canWriteMessage && !initiator.canReadMessage)
        #expect(responder.canReadMessage && !responder.canWriteMessage)
        #expect(responder.remoteStaticKey == nil)

        let hello = Array("hello bob".utf8)
        let message1 = try initiator.writeMessage(payload: hello)
        #expect(message1.count == 96 + hello.count)
        #expect(try responder.readMessage(message1) == hello)
        // The responder learns the initiator's Ed25519-derived key and can check it.
        #expect(responder.remoteStaticKey == (try Self.alice.publicKey.curve25519()))
        #expect(responder.remoteStaticKeyBelongs(to: Self.alice.publicKey))
        #expect(!responder.remoteStaticKeyBelongs(to: Self.carol.publicKey))
        // ... and the key you dial is the key that answers.
        #expect(initiator.remoteStaticKey == (try Self.bob.publicKey.curve25519()))
        #expect(responder.localStaticKey == initiator.remoteStaticKey)

        let welcome = Array("welcome alice".utf8)
        let message2 = try responder.writeMessage(payload: welcome)
        #expect(message2.count == 48 + welcome.count)
        #expect(try initiator.readMessage(message2) == welcome)
        #expect(initiator.isComplete && responder.isComplete)
        #expect(initiator.handshakeHash == responder.handshakeHash)

        var a = try initiator.split(), b = try responder.split()
        #expect(a.handshakeHash == b.handshakeHash && a.handshakeHash.count == Noise.hashLength)
        for round in 0..<3 {
            let request = [UInt8(round)], reply = [UInt8(round), 1]
            #expect(try b.receive.decryptWithAd(ad: [UInt8](), ciphertext: a.send.encryptWithAd(ad: [UInt8](), plaintext: request)) == request)
            #expect(try a.receive.decryptWithAd(ad: [UInt8](), ciphertext: b.send.encryptWithAd(ad: [UInt8](), plaintext: reply)) == reply)
        }
        // The two directions use different keys.
        let sealed = try a.send.encrypt(nonce: 100, ad: [UInt8](), plaintext: Self.ping)
        #expect(throws: NoiseError.decryptionFailed) { try a.receive.decrypt(nonce: 100, ad: [UInt8](), ciphertext: sealed) }
    }

    @Test func theWrongResponderStaticKeyFails() throws {
        // Alice dials Carol's key, but Bob answers: he cannot read message 1.
        var initiator = try Self.initiator(dialling: Self.carol.publicKey)
        var responder = try Self.responder()
        let message1 = try initiator.writeMessage(payload: Self.ping)
        #expect(throws: NoiseError.decryptionFailed) { try responder.readMessage(message1) }
        #expect(responder.remoteStaticKey == nil)
        #expect(responder.canReadMessage)
        // The failed read left Bob's state untouched: a genuine message 1 still works.
        var genuine = try Self.initiator()
        #expect(try responder.readMessage(genuine.writeMessage(payload: Self.ping)) == Self.ping)
    }

    @Test func mismatchedSecretsAndProloguesFail() throws {
        // Different mesh secrets: message 1 reads (psk2 mixes in at message 2), message 2 does not.
        var initiator = try Self.initiator(psk: Self.meshSecret)
        var responder = try Self.responder(psk: SecureBytes([UInt8](repeating: 0x77, count: 32)))
        _ = try responder.readMessage(initiator.writeMessage(payload: []))
        let message2 = try responder.writeMessage(payload: [])
        #expect(throws: NoiseError.decryptionFailed) { try initiator.readMessage(message2) }
        #expect(!initiator.isComplete)

        // A mesh secret on one side only: the protocol names differ.
        var withSecret = try Self.initiator(psk: Self.meshSecret)
        var without = try Self.responder()
        #expect(throws: NoiseError.decryptionFailed) { try without.readMessage(withSecret.writeMessage(payload: [])) }

        var other = try Self.initiator(prologue: Array("other".utf8))
        var bob = try Self.responder()
        #expect(throws: NoiseError.decryptionFailed) { try bob.readMessage(other.writeMessage(payload: [])) }
    }

    /// Every single-bit flip (at `bit`) and every truncation of `message` fails to read, with a
    /// `NoiseError` and no crash, and leaves `reader` able to read the genuine `message`.
    static func expectEveryCorruptionFails(
        _ message: [UInt8], bit: UInt8, reader: inout NoiseHandshakeState
    ) {
        for index in message.indices {
            var tampered = message
            tampered[index] ^= bit
            #expect(throws: NoiseError.self) { try reader.readMessage(tampered) }
        }
        for length in 0..<message.count {
            #expect(throws: NoiseError.self) { try reader.readMessage(message.prefix(length)) }
        }
        #expect(reader.canReadMessage)
    }

    @Test(arguments: [false, true])
    func tamperedAndTruncatedHandshakeMessagesFail(withMeshSecret: Bool) throws {
        let psk = withMeshSecret ? Self.meshSecret : nil
        var initiator = try Self.initiator(psk: psk), responder = try Self.responder(psk: psk)
        let message1 = try initiator.writeMessage(payload: Self.ping)
        Self.expectEveryCorruptionFails(message1, bit: 0x80, reader: &responder)
        #expect(throws: NoiseError.invalidMessageLength(actual: 95, allowed: 96...Noise.maxMessageLength)) {
            try responder.readMessage(message1.prefix(95))
        }
        #expect(responder.remoteStaticKey == nil)
        #expect(try responder.readMessage(message1) == Self.ping)

        let message2 = try responder.writeMessage(payload: Self.ping)
        Self.expectEveryCorruptionFails(message2, bit: 0x01, reader: &initiator)
        #expect(try initiator.readMessage(message2) == Self.ping)
        #expect(initiator.handshakeHash == responder.handshakeHash)
    }

    @Test func replayedAndOutOfTurnMessagesAreWrongState() throws {
        var initiator = try Self.initiator(), responder = try Self.responder()
        #expect(throws: NoiseError.wrongState) { try responder.writeMessage(payload: []) }
        #expect(throws: NoiseError.wrongState) { try initiator.readMessage([UInt8](repeating: 0, count: 48)) }
        #expect(throws: NoiseError.wrongState) { try initiator.split() }
        let message1 = try initiator.writeMessage(payload: [])
        #expect(throws: NoiseError.wrongState) { try initiator.writeMessage(payload: []) }
        _ = try responder.readMessage(message1)
        #expect(throws: NoiseError.wrongState) { try responder.readMessage(message1) }
        let message2 = try responder.writeMessage(payload: [])
        _ = try initiator.readMessage(message2)
        #expect(throws: NoiseError.wrongState) { try initiator.readMessage(message2) }
        _ = try initiator.split()
        #expect(throws: NoiseError.wrongState) { try initiator.split() }
        #expect(!initiator.canWriteMessage && !initiator.canReadMessage)
    }

    @Test func oversizedMessagesAreRefused() throws {
        var initiator = try Self.initiator(), responder = try Self.responder()
        let tooLong = [UInt8](repeating: 0, count: Noise.maxMessageLength - 96 + 1)
        #expect(throws: NoiseError.invalidMessageLength(actual: Noise.maxMessageLength + 1, allowed: 96...Noise.maxMessageLength)) {
            try initiator.writeMessage(payload: tooLong)
        }
        let largest = try initiator.writeMessage(payload: tooLong.dropLast())
        #expect(largest.count == Noise.maxMessageLength)
        #expect(throws: NoiseError.self) { try responder.readMessage(largest + [0]) }
        #expect(try responder.readMessage(largest).count == tooLong.count - 1)
    }

    @Test func badKeysAreRefused() throws {
        let good = SecureBytes([UInt8](repeating: 9, count: 32))
        let short = SecureBytes([UInt8](repeating: 9, count: 31))
        #expect(throws: NoiseError.invalidKeyLength(what: "Noise static secret key", actual: 31)) {
            try NoiseHandshakeState.responder(staticSecretKey: short, ephemeralSecretKey: good)
        }
        #expect(throws: NoiseError.invalidKeyLength(what: "Noise ephemeral secret key", actual: 31)) {
            try NoiseHandshakeState.responder(staticSecretKey: good, ephemeralSecretKey: short)
        }
        #expect(throws: NoiseError.invalidKeyLength(what: "Noise pre-shared key", actual: 31)) {
            try NoiseHandshakeState.responder(staticSecretKey: good, ephemeralSecretKey: good, presharedKey: short)
        }
        #expect(throws: NoiseError.invalidKeyLength(what: "Noise responder static key", actual: 3)) {
            try NoiseHandshakeState.initiator(staticSecretKey: good, ephemeralSecretKey: good, responderStaticKey: [1, 2, 3])
        }
        // A low-order responder key (here the zero point) fails the DH, not the process.
        var lowOrder = try NoiseHandshakeState.initiator(
            staticSecretKey: good, ephemeralSecretKey: good, responderStaticKey: [UInt8](repeating: 0, count: 32))
        #expect(throws: NoiseError.badPublicKey) { try lowOrder.writeMessage(payload: []) }
        #expect(lowOrder.canWriteMessage)
        // A message 1 whose ephemeral key is low-order.
        var responder = try Self.responder()
        var initiator = try Self.initiator()
        var message1 = try initiator.writeMessage(payload: [])
        message1.replaceSubrange(0..<32, with: [UInt8](repeating: 0, count: 32))
        #expect(throws: NoiseError.badPublicKey) { try responder.readMessage(message1) }
    }

    @Test func transportOverUDPToleratesReorderingButNotReplays() throws {
        let (initiatorCiphers, responder) = try Self.handshake(psk: Self.meshSecret)
        var initiator = initiatorCiphers
        var window = NoiseReplayWindow()
        var packets = [(nonce: UInt64, bytes: [UInt8])]()
        for index in 0..<5 {
            let nonce = initiator.send.nonce
            packets.append((nonce, try initiator.send.encryptWithAd(ad: [UInt8](), plaintext: [UInt8(index)])))
        }
        for packet in packets.reversed() {
            #expect(try window.open(responder.receive, nonce: packet.nonce, ad: [UInt8](), ciphertext: packet.bytes) == [UInt8(packet.nonce)])
        }
        #expect(throws: NoiseError.replayedNonce) {
            try window.open(responder.receive, nonce: packets[2].nonce, ad: [UInt8](), ciphertext: packets[2].bytes)
        }
        var tampered = packets[0].bytes
        tampered[tampered.count - 1] ^= 1
        #expect(throws: NoiseError.self) {
            try window.open(responder.receive, nonce: packets[0].nonce, ad: [UInt8](), ciphertext: tampered)
        }
    }

    @Test func seededEphemeralKeysAreReproducible() {
        #expect(Self.ephemeral(1) == Self.ephemeral(1))
        #expect(Self.ephemeral(1) != Self.ephemeral(2))
        #expect(Self.ephemeral(1).count == Noise.dhLength)
    }
}
