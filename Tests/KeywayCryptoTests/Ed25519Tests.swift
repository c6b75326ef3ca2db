import Testing
import KeywayCrypto

@Suite struct Ed25519Tests {
    @Test func seedDeterminesKeyPairAndSignaturesVerify() throws {
        let seed = [UInt8](repeating: 7, count: 32)
        let a = try Ed25519.KeyPair(seed: seed)
        let b = try Ed25519.KeyPair(seed: seed)
        #expect(a.publicKey == b.publicKey)
        let message = Array("hello".utf8)
        let signature = a.signature(for: message)
        #expect(signature.count == 64)
        #expect(a.publicKey.isValidSignature(signature, for: message))
        #expect(!a.publicKey.isValidSignature(signature, for: Array("hellp".utf8)))
        var tampered = signature
        tampered[0] ^= 1
        #expect(!a.publicKey.isValidSignature(tampered, for: message))
        #expect(!a.publicKey.isValidSignature(signature.dropLast(), for: message))
    }

    @Test func rejectsWrongLengths() {
        #expect(throws: CryptoError.invalidLength(what: "Ed25519 seed", expected: 32, actual: 31)) {
            _ = try Ed25519.KeyPair(seed: [UInt8](repeating: 0, count: 31))
        }
        #expect(throws: CryptoError.self) { _ = try Ed25519.PublicKey(bytes: [UInt8](repeating: 0, count: 33)) }
    }

    @Test func generatedKeysDiffer() {
        #expect(Ed25519.KeyPair.generate().publicKey != Ed25519.KeyPair.generate().publicKey)
    }

    /// RFC 8032 section 7.1, test 2: a known seed, public key and signature.
    @Test func rfc8032Vector() throws {
        let seed = [UInt8](hexString: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
        let pair = try Ed25519.KeyPair(seed: seed)
        #expect(pair.publicKey.bytes == [UInt8](hexString: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"))
        let signature = pair.signature(for: [0x72])
        #expect(signature == [UInt8](hexString: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"))
    }

    @Test func convertsToX25519Consistently() throws {
        let pair = try Ed25519.KeyPair(seed: [UInt8](repeating: 3, count: 32))
        let fromPublic = try pair.publicKey.curve25519()
        let fromSecret = try X25519.publicKey(forSecretKey: pair.curve25519SecretKey())
        #expect(fromPublic == fromSecret)
    }
}

extension Array where Element == UInt8 {
    init(hexString: String) {
        var out = [UInt8]()
        var chars = Array(hexString.utf8).makeIterator()
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while let h = chars.next(), let l = chars.next() { out.append(nibble(h) << 4 | nibble(l)) }
        self = out
    }
}
