import CSodium

/// X25519 Diffie-Hellman (libsodium `crypto_scalarmult`), the `DH` function of our Noise suite.
public enum X25519 {
    /// Length of public keys, secret keys and shared secrets in bytes.
    public static let keyLength = 32

    /// A new random X25519 key pair: the secret (zeroed when dropped) and its public key.
    public static func generateKeyPair() -> (secretKey: SecureBytes, publicKey: [UInt8]) {
        let secret = SecureBytes(SecureRandom.bytes(count: keyLength))
        // Force-try: a freshly generated secret always has the right length.
        return (secret, try! publicKey(forSecretKey: secret))
    }

    /// The public key of `secretKey` (scalar multiplication by the base point).
    public static func publicKey(forSecretKey secretKey: SecureBytes) throws(CryptoError) -> [UInt8] {
        guard secretKey.count == keyLength else {
            throw .invalidLength(what: "X25519 secret key", expected: keyLength, actual: secretKey.count)
        }
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: keyLength)
        out.withUnsafeMutableBufferPointer { o in
            secretKey.withUnsafeBytes { s in
                _ = crypto_scalarmult_base(o.baseAddress!, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }

    /// The shared secret of `secretKey` and a peer's `publicKey`.
    ///
    /// Throws ``CryptoError/weakSharedSecret`` when the result is all zeros (a low-order point).
    public static func sharedSecret(secretKey: SecureBytes, publicKey: some Collection<UInt8>) throws(CryptoError) -> SecureBytes {
        guard secretKey.count == keyLength else {
            throw .invalidLength(what: "X25519 secret key", expected: keyLength, actual: secretKey.count)
        }
        try CryptoError.checkLength("X25519 public key", publicKey, keyLength)
        Sodium.ensureInitialized()
        let pk = Array(publicKey)
        var rc: Int32 = 0
        let shared = SecureBytes(count: keyLength) { out in
            secretKey.withUnsafeBytes { s in
                pk.withUnsafeBufferPointer { p in
                    rc = crypto_scalarmult(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        s.baseAddress!.assumingMemoryBound(to: UInt8.self), p.baseAddress!)
                }
            }
        }
        if rc != 0 { throw .weakSharedSecret }
        return shared
    }
}
