import Testing
import KeywayCrypto

@Suite struct PrimitivesTests {
    @Test func x25519AgreesBothWays() throws {
        let a = X25519.generateKeyPair(), b = X25519.generateKeyPair()
        let ab = try X25519.sharedSecret(secretKey: a.secretKey, publicKey: b.publicKey)
        let ba = try X25519.sharedSecret(secretKey: b.secretKey, publicKey: a.publicKey)
        #expect(ab == ba)
        #expect(throws: CryptoError.weakSharedSecret) {
            _ = try X25519.sharedSecret(secretKey: a.secretKey, publicKey: [UInt8](repeating: 0, count: 32))
        }
    }

    /// RFC 7748 section 6.1.
    @Test func x25519Rfc7748() throws {
        let alice = SecureBytes([UInt8](hexString: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        #expect(try X25519.publicKey(forSecretKey: alice) == [UInt8](hexString: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
        let shared = try X25519.sharedSecret(secretKey: alice, publicKey: [UInt8](hexString: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        #expect(shared.bytes == [UInt8](hexString: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"))
    }

    /// RFC 8439 section 2.8.2.
    @Test func chachaPolyRfc8439() throws {
        let key = SecureBytes([UInt8](hexString: "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
        let nonce = [UInt8](hexString: "070000004041424344454647")
        let aad = [UInt8](hexString: "50515253c0c1c2c3c4c5c6c7")
        let plaintext = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        let sealed = try ChaChaPoly.seal(plaintext, key: key, nonce: nonce, associatedData: aad)
        #expect(Array(sealed.suffix(16)) == [UInt8](hexString: "1ae10b594f09e26a7e902ecbd0600691"))
        #expect(try ChaChaPoly.open(sealed, key: key, nonce: nonce, associatedData: aad) == plaintext)
        var tampered = sealed
        tampered[3] ^= 0x80
        #expect(throws: CryptoError.authenticationFailed) { _ = try ChaChaPoly.open(tampered, key: key, nonce: nonce, associatedData: aad) }
        #expect(throws: CryptoError.authenticationFailed) { _ = try ChaChaPoly.open(sealed.prefix(10), key: key, nonce: nonce, associatedData: aad) }
    }

    @Test func chachaPolySealInPlaceMatchesSeal() throws {
        let key = SecureBytes((0..<32).map { UInt8($0) })
        let nonce = ChaChaPoly.noiseNonce(7)
        let plaintext = (0..<1400).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var buffer = plaintext + [UInt8](repeating: 0, count: ChaChaPoly.tagLength)
        try ChaChaPoly.sealInPlace(&buffer, plaintextLength: plaintext.count, key: key, nonce: nonce)
        #expect(buffer == (try ChaChaPoly.seal(plaintext, key: key, nonce: nonce)))
        #expect(try ChaChaPoly.open(buffer, key: key, nonce: nonce) == plaintext)
        // No room for the tag: refused, the buffer untouched.
        var short = plaintext
        #expect(throws: CryptoError.self) { try ChaChaPoly.sealInPlace(&short, plaintextLength: plaintext.count, key: key, nonce: nonce) }
        #expect(short == plaintext)
    }

    @Test func noiseNonceLayout() {
        #expect(ChaChaPoly.noiseNonce(0x0102) == [0, 0, 0, 0, 0x02, 0x01, 0, 0, 0, 0, 0, 0])
    }

    /// BLAKE2b-512 of "abc" (RFC 7693 appendix A) and the empty-input keyed case.
    @Test func blake2b() {
        #expect(BLAKE2b.hash(Array("abc".utf8)) == [UInt8](hexString: "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"))
        var hasher = BLAKE2b.Hasher()
        hasher.update(Array("a".utf8)); hasher.update(Array("bc".utf8))
        #expect(hasher.finalize() == BLAKE2b.hash(Array("abc".utf8)))
        #expect(BLAKE2b.hash([], outputLength: 8, key: [1, 2, 3]).count == 8)
        #expect(BLAKE2b.hash([], outputLength: 8, key: [1, 2, 3]) != BLAKE2b.hash([], outputLength: 8, key: [1, 2, 4]))
    }

    /// The one-shot hash (libsodium's stack state) and the incremental hasher agree, keyed or
    /// not, for contiguous and non-contiguous input and every output length.
    @Test func blake2bOneShotMatchesIncremental() {
        let message = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for key in [[], [UInt8](repeating: 9, count: 16), [UInt8](repeating: 1, count: BLAKE2b.maximumKeyLength)] {
            for length in [1, 8, 32, BLAKE2b.maximumOutputLength] {
                var hasher = BLAKE2b.Hasher(outputLength: length, key: key)
                hasher.update(message)
                let expected = hasher.finalize()
                #expect(BLAKE2b.hash(message, outputLength: length, key: key) == expected)
                #expect(BLAKE2b.hash(message.lazy.map { $0 }, outputLength: length, key: key) == expected)
            }
        }
    }

    /// The SipHash-2-4 reference vectors (key 00..0f; messages 00..(n-1)) for the empty and the
    /// 15-byte message, a truncated tag, and a key change.
    @Test func sipHash() {
        let key = (0..<16).map { UInt8($0) }
        #expect(SipHash.hash([], key: key) == [UInt8](hexString: "310e0edd47db6f72"))
        let fifteen = (0..<15).map { UInt8($0) }
        #expect(SipHash.hash(fifteen, key: key) == [UInt8](hexString: "e545be4961ca29a1"))
        #expect(SipHash.hash(fifteen, key: key, outputLength: 4) == [UInt8](hexString: "e545be49"))
        var other = key
        other[15] ^= 1
        #expect(SipHash.hash(fifteen, key: other) != SipHash.hash(fifteen, key: key))
    }

    @Test func sha1() {
        #expect(SHA1.hash(Array("abc".utf8)) == [UInt8](hexString: "a9993e364706816aba3e25717850c26c9cd0d89d"))
        #expect(SHA1.hash(parts: [Array("a".utf8), Array("bc".utf8)]) == SHA1.hash(Array("abc".utf8)))
    }

    /// FIPS 180 examples, and lengths on both sides of the padding boundaries (55/56 bytes: the
    /// length still fits in the last block or not; 64: a full block), from Python's hashlib.
    @Test func sha1KnownAnswers() {
        #expect(SHA1.hash([]) == [UInt8](hexString: "da39a3ee5e6b4b0d3255bfef95601890afd80709"))
        #expect(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == [UInt8](hexString: "84983e441c3bd26ebaae4aa1f95129e5e54670f1"))
        #expect(SHA1.hash(repeatElement(UInt8(ascii: "a"), count: 1_000_000))
            == [UInt8](hexString: "34aa973cd4c4daa4f61eeb2bdbad27316534016f"))
        let expected: [(Int, String)] = [
            (55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"), (56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"),
            (63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"), (64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"),
            (65, "11655326c708d70319be2610e8a57d9a5b959d3b"), (119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"),
            (120, "f34c1488385346a55709ba056ddd08280dd4c6d6"),
        ]
        for (count, digest) in expected {
            let input = [UInt8](repeating: UInt8(ascii: "a"), count: count)
            #expect(SHA1.hash(input) == [UInt8](hexString: digest), "\(count) bytes")
            // Split anywhere, the incremental hash agrees.
            #expect(SHA1.hash(parts: [Array(input[..<(count / 3)]), Array(input[(count / 3)...])]) == [UInt8](hexString: digest))
        }
    }

    @Test func randomBytesDiffer() {
        #expect(SecureRandom.bytes(count: 32) != SecureRandom.bytes(count: 32))
        #expect(SecureRandom.bytes(count: 5).count == 5)
    }

    @Test func secureBytesCompareByContent() {
        #expect(SecureBytes([1, 2, 3]) == SecureBytes([1, 2, 3]))
        #expect(SecureBytes([1, 2, 3]) != SecureBytes([1, 2, 4]))
        #expect(SecureBytes([1, 2, 3]).bytes == [1, 2, 3])
    }
}
