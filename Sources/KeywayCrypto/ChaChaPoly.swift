import CSodium

/// ChaCha20-Poly1305, IETF variant (RFC 8439; libsodium `crypto_aead_chacha20poly1305_ietf_*`).
public enum ChaChaPoly {
    /// Key length in bytes.
    public static let keyLength = 32
    /// Nonce length in bytes.
    public static let nonceLength = 12
    /// Authentication tag length in bytes.
    public static let tagLength = 16

    /// The Noise nonce for counter `n`: 4 zero bytes, then `n` as 8 little-endian bytes.
    public static func noiseNonce(_ n: UInt64) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: nonceLength)
        for i in 0..<8 { nonce[4 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        return nonce
    }

    /// Encrypts `plaintext` and appends the 16-byte tag.
    public static func seal(
        _ plaintext: some Collection<UInt8>, key: SecureBytes, nonce: some Collection<UInt8>,
        associatedData: some Collection<UInt8> = [UInt8]()
    ) throws(CryptoError) -> [UInt8] {
        guard key.count == keyLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 key", expected: keyLength, actual: key.count)
        }
        try CryptoError.checkLength("ChaCha20-Poly1305 nonce", nonce, nonceLength)
        Sodium.ensureInitialized()
        let pt = Array(plaintext), n = Array(nonce), ad = Array(associatedData)
        var out = [UInt8](repeating: 0, count: pt.count + tagLength)
        var outLength: UInt64 = 0
        out.withUnsafeMutableBufferPointer { o in
            pt.withUnsafeBufferPointer { p in
                ad.withUnsafeBufferPointer { a in
                    n.withUnsafeBufferPointer { nb in
                        key.withUnsafeBytes { k in
                            _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                                o.baseAddress!, &outLength, p.baseAddress, UInt64(p.count),
                                a.baseAddress, UInt64(a.count), nil, nb.baseAddress!,
                                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        return out
    }

    /// Encrypts the first `plaintextLength` bytes of `buffer` in place and writes the 16-byte tag
    /// right after them, with no allocation: `buffer` must hold at least `plaintextLength +`
    /// ``tagLength`` bytes. The primitive's raw speed, as the benchmarks measure it.
    public static func sealInPlace(
        _ buffer: inout [UInt8], plaintextLength: Int, key: SecureBytes, nonce: [UInt8]
    ) throws(CryptoError) {
        guard key.count == keyLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 key", expected: keyLength, actual: key.count)
        }
        try CryptoError.checkLength("ChaCha20-Poly1305 nonce", nonce, nonceLength)
        guard plaintextLength >= 0, buffer.count - tagLength >= plaintextLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 in-place buffer", expected: plaintextLength + tagLength, actual: buffer.count)
        }
        Sodium.ensureInitialized()
        var outLength: UInt64 = 0
        buffer.withUnsafeMutableBufferPointer { b in
            nonce.withUnsafeBufferPointer { n in
                key.withUnsafeBytes { k in
                    _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                        b.baseAddress!, &outLength, b.baseAddress!, UInt64(plaintextLength), nil, 0, nil,
                        n.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
    }

    /// Verifies the tag and decrypts; throws ``CryptoError/authenticationFailed`` on any mismatch.
    public static func open(
        _ ciphertext: some Collection<UInt8>, key: SecureBytes, nonce: some Collection<UInt8>,
        associatedData: some Collection<UInt8> = [UInt8]()
    ) throws(CryptoError) -> [UInt8] {
        guard key.count == keyLength else {
            throw .invalidLength(what: "ChaCha20-Poly1305 key", expected: keyLength, actual: key.count)
        }
        try CryptoError.checkLength("ChaCha20-Poly1305 nonce", nonce, nonceLength)
        let ct = Array(ciphertext), n = Array(nonce), ad = Array(associatedData)
        guard ct.count >= tagLength else { throw .authenticationFailed }
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: ct.count - tagLength)
        var outLength: UInt64 = 0
        let rc = out.withUnsafeMutableBufferPointer { o in
            ct.withUnsafeBufferPointer { c in
                ad.withUnsafeBufferPointer { a in
                    n.withUnsafeBufferPointer { nb in
                        key.withUnsafeBytes { k in
                            crypto_aead_chacha20poly1305_ietf_decrypt(
                                o.baseAddress, &outLength, nil, c.baseAddress!, UInt64(c.count),
                                a.baseAddress, UInt64(a.count), nb.baseAddress!,
                                k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                        }
                    }
                }
            }
        }
        if rc != 0 { throw .authenticationFailed }
        return out
    }
}
