import KeywayCrypto
import Testing
@testable import KeywayCore

/// Cipher states and the replay window: every bad input ends in a `NoiseError`.
@Suite struct NoiseCipherStateTests {
    static let key = SecureBytes((0..<32).map { UInt8($0) })
    static let ad = Array("header".utf8)
    static let text = Array("hello, keyway".utf8)

    static func pair() throws -> (sender: NoiseCipherState, receiver: NoiseCipherState) {
        (try NoiseCipherState(key: key), try NoiseCipherState(key: key))
    }

    @Test func sequentialRoundTripAdvancesTheNonce() throws {
        var (sender, receiver) = try Self.pair()
        for _ in 0..<3 {
            let sealed = try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text)
            #expect(sealed.count == Self.text.count + Noise.macLength)
            #expect(try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed) == Self.text)
        }
        #expect(sender.nonce == 3 && receiver.nonce == 3)
    }

    @Test func withoutAKeyPlaintextPassesThroughButExplicitNoncesRefuse() throws {
        var empty = NoiseCipherState()
        #expect(!empty.hasKey)
        #expect(try empty.encryptWithAd(ad: Self.ad, plaintext: Self.text) == Self.text)
        #expect(throws: NoiseError.missingKey) { try empty.encrypt(nonce: 0, ad: Self.ad, plaintext: Self.text) }
        #expect(throws: NoiseError.missingKey) { try empty.decrypt(nonce: 0, ad: Self.ad, ciphertext: Self.text) }
        #expect(throws: NoiseError.missingKey) { try empty.rekey() }
        #expect(throws: NoiseError.invalidKeyLength(what: "Noise cipher key", actual: 31)) {
            try NoiseCipherState(key: SecureBytes([UInt8](repeating: 1, count: 31)))
        }
    }

    @Test func tamperedAndTruncatedCiphertextsFail() throws {
        var (sender, receiver) = try Self.pair()
        let sealed = try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text)
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            #expect(throws: NoiseError.decryptionFailed) { try receiver.decryptWithAd(ad: Self.ad, ciphertext: tampered) }
        }
        #expect(throws: NoiseError.decryptionFailed) { try receiver.decryptWithAd(ad: [UInt8](), ciphertext: sealed) }
        #expect(throws: NoiseError.decryptionFailed) {
            try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed.dropLast())
        }
        for length in 0..<Noise.macLength {
            #expect(throws: NoiseError.invalidMessageLength(actual: length, allowed: Noise.macLength...Noise.maxMessageLength)) {
                try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed.prefix(length))
            }
        }
        // Failures do not advance the counter: the genuine message still opens.
        #expect(receiver.nonce == 0)
        #expect(try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed) == Self.text)
    }

    @Test func sequentialReplayFails() throws {
        var (sender, receiver) = try Self.pair()
        let sealed = try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text)
        _ = try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed)
        #expect(throws: NoiseError.decryptionFailed) { try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed) }
    }

    @Test func explicitNoncesMatchTheSequentialOnes() throws {
        var (sender, _) = try Self.pair()
        let explicit = try sender.encrypt(nonce: 0, ad: Self.ad, plaintext: Self.text)
        #expect(sender.nonce == 0)
        #expect(try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text) == explicit)
        #expect(throws: NoiseError.decryptionFailed) { try sender.decrypt(nonce: 1, ad: Self.ad, ciphertext: explicit) }
        #expect(try sender.decrypt(nonce: 0, ad: Self.ad, ciphertext: explicit) == Self.text)
    }

    @Test func theReservedNonceIsNeverUsed() throws {
        var (sender, receiver) = try Self.pair()
        sender.setNonce(Noise.reservedNonce - 1)
        let last = try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text)
        #expect(sender.nonce == Noise.reservedNonce)
        #expect(throws: NoiseError.nonceExhausted) { try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text) }
        #expect(sender.nonce == Noise.reservedNonce)
        #expect(throws: NoiseError.nonceExhausted) { try sender.encrypt(nonce: Noise.reservedNonce, ad: Self.ad, plaintext: Self.text) }
        receiver.setNonce(Noise.reservedNonce - 1)
        #expect(try receiver.decryptWithAd(ad: Self.ad, ciphertext: last) == Self.text)
        #expect(throws: NoiseError.nonceExhausted) { try receiver.decryptWithAd(ad: Self.ad, ciphertext: last) }
    }

    @Test func oversizedMessagesAreRefused() throws {
        var (sender, receiver) = try Self.pair()
        let largest = [UInt8](repeating: 7, count: Noise.maxMessageLength - Noise.macLength)
        let sealed = try sender.encryptWithAd(ad: [UInt8](), plaintext: largest)
        #expect(sealed.count == Noise.maxMessageLength)
        #expect(try receiver.decryptWithAd(ad: [UInt8](), ciphertext: sealed) == largest)
        #expect(throws: NoiseError.self) { try sender.encryptWithAd(ad: [UInt8](), plaintext: largest + [0]) }
        #expect(throws: NoiseError.self) { try receiver.decryptWithAd(ad: [UInt8](), ciphertext: sealed + [0]) }
    }

    @Test func rekeyFollowsSection11() throws {
        var (sender, receiver) = try Self.pair()
        _ = try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text)
        try sender.rekey()
        #expect(sender.nonce == 1)
        // REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64 - 1, empty, 32 zeros).
        let expected = try ChaChaPoly.seal(
            [UInt8](repeating: 0, count: 32), key: Self.key, nonce: ChaChaPoly.noiseNonce(.max)).prefix(32)
        let rekeyed = try NoiseCipherState(key: SecureBytes(expected))
        let sealed = try sender.encryptWithAd(ad: Self.ad, plaintext: Self.text)
        #expect(try rekeyed.decrypt(nonce: 1, ad: Self.ad, ciphertext: sealed) == Self.text)
        receiver.setNonce(1)
        #expect(throws: NoiseError.decryptionFailed) { try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed) }
        try receiver.rekey()
        #expect(try receiver.decryptWithAd(ad: Self.ad, ciphertext: sealed) == Self.text)
    }

    @Test func replayWindowAcceptsEachNonceOnce() throws {
        let (sender, receiver) = try Self.pair()
        var window = NoiseReplayWindow()
        let packets = try (0..<10).map { try sender.encrypt(nonce: UInt64($0), ad: Self.ad, plaintext: [UInt8($0)]) }
        // Out of order, then every packet again.
        for nonce in [3, 0, 9, 1, 2, 8, 4, 7, 5, 6] {
            #expect(try window.open(receiver, nonce: UInt64(nonce), ad: Self.ad, ciphertext: packets[nonce]) == [UInt8(nonce)])
        }
        for nonce in 0..<10 {
            #expect(throws: NoiseError.replayedNonce) {
                try window.open(receiver, nonce: UInt64(nonce), ad: Self.ad, ciphertext: packets[nonce])
            }
        }
    }

    @Test func replayWindowRecordsOnlyAuthenticPackets() throws {
        let (sender, receiver) = try Self.pair()
        var window = NoiseReplayWindow()
        let packet = try sender.encrypt(nonce: 5, ad: Self.ad, plaintext: Self.text)
        var forged = packet
        forged[0] ^= 0xff
        #expect(throws: NoiseError.decryptionFailed) { try window.open(receiver, nonce: 5, ad: Self.ad, ciphertext: forged) }
        #expect(throws: NoiseError.self) { try window.open(receiver, nonce: 5, ad: Self.ad, ciphertext: packet.prefix(3)) }
        #expect(window == NoiseReplayWindow())
        #expect(try window.open(receiver, nonce: 5, ad: Self.ad, ciphertext: packet) == Self.text)
        #expect(throws: NoiseError.nonceExhausted) { try window.check(Noise.reservedNonce) }
    }

    /// The default window and windows of other sizes (``TransportConfiguration/replayWindowPackets``).
    @Test(arguments: [nil, 64, 1000, 10_000])
    func replayWindowSlides(packets: Int?) throws {
        var window = packets.map { NoiseReplayWindow(packets: $0) } ?? NoiseReplayWindow()
        #expect(window.size >= UInt64(packets ?? 4032))
        try window.record(0)
        let far = window.size * 3 + 17
        try window.record(far)
        #expect(throws: NoiseError.replayedNonce) { try window.check(0) }
        #expect(throws: NoiseError.replayedNonce) { try window.check(far) }
        #expect(throws: NoiseError.replayedNonce) { try window.check(far - window.size) }
        // Everything inside the window and not yet seen is still accepted, once.
        for nonce in (far - window.size + 1)..<far {
            try window.record(nonce)
            #expect(throws: NoiseError.replayedNonce) { try window.check(nonce) }
        }
        // A jump of less than a whole window keeps the recent nonces marked.
        let jump = min(100, window.size / 2)
        try window.record(far + jump)
        for nonce in (far + jump - window.size + 1)...far {
            #expect(throws: NoiseError.replayedNonce) { try window.check(nonce) }
        }
        for nonce in (far + 1)..<(far + jump) { try window.check(nonce) }
    }
}
