import CSodium

/// Ed25519 signatures (libsodium `crypto_sign_*`): the identity of every keyway node.
public enum Ed25519 {
    /// Length of a public key in bytes.
    public static let publicKeyLength = 32
    /// Length of a seed (the secret a key pair is derived from) in bytes.
    public static let seedLength = 32
    /// Length of a detached signature in bytes.
    public static let signatureLength = 64

    /// An Ed25519 public key: 32 bytes, the node's permanent address.
    public struct PublicKey: Hashable, Sendable, Comparable {
        /// The 32 key bytes.
        public let bytes: [UInt8]

        /// Wraps 32 bytes; throws ``CryptoError/invalidLength(what:expected:actual:)`` otherwise.
        ///
        /// No curve check happens here: a key that is not a valid point simply never verifies.
        public init(bytes: some Collection<UInt8>) throws(CryptoError) {
            try CryptoError.checkLength("Ed25519 public key", bytes, Ed25519.publicKeyLength)
            self.bytes = Array(bytes)
        }

        /// Whether `signature` is a valid signature of `message` by this key.
        public func isValidSignature(_ signature: some Collection<UInt8>, for message: some Collection<UInt8>) -> Bool {
            guard signature.count == Ed25519.signatureLength else { return false }
            Sodium.ensureInitialized()
            let sig = Array(signature), msg = Array(message)
            return sig.withUnsafeBufferPointer { s in
                msg.withUnsafeBufferPointer { m in
                    bytes.withUnsafeBufferPointer { k in
                        crypto_sign_verify_detached(s.baseAddress!, m.baseAddress, UInt64(m.count), k.baseAddress!) == 0
                    }
                }
            }
        }

        /// The X25519 (Curve25519 Montgomery) form of this key, for Diffie-Hellman.
        public func curve25519() throws(CryptoError) -> [UInt8] {
            Sodium.ensureInitialized()
            var out = [UInt8](repeating: 0, count: X25519.keyLength)
            let rc = out.withUnsafeMutableBufferPointer { o in
                bytes.withUnsafeBufferPointer { crypto_sign_ed25519_pk_to_curve25519(o.baseAddress!, $0.baseAddress!) }
            }
            if rc != 0 { throw .invalidPublicKey }
            return out
        }

        /// Lexicographic byte order, so keys can be sorted deterministically.
        public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool {
            lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
        }
    }

    /// An Ed25519 key pair. The secret half lives in ``SecureBytes`` and is zeroed when dropped.
    public struct KeyPair: Sendable {
        /// The public half.
        public let publicKey: PublicKey
        /// The 32-byte seed the pair derives from; this is what an identity file stores.
        public let seed: SecureBytes
        /// libsodium's 64-byte secret key (seed followed by public key).
        private let secretKey: SecureBytes

        /// A new key pair from libsodium's secure random source.
        public static func generate() -> KeyPair {
            // Force-try: a freshly generated seed always has the right length.
            try! KeyPair(seed: SecureBytes(SecureRandom.bytes(count: Ed25519.seedLength)))
        }

        /// The key pair a 32-byte seed determines (the same seed gives the same pair).
        public init(seed: SecureBytes) throws(CryptoError) {
            guard seed.count == Ed25519.seedLength else {
                throw .invalidLength(what: "Ed25519 seed", expected: Ed25519.seedLength, actual: seed.count)
            }
            Sodium.ensureInitialized()
            var pk = [UInt8](repeating: 0, count: Ed25519.publicKeyLength)
            let sk = SecureBytes(count: 64) { skBuf in
                seed.withUnsafeBytes { s in
                    pk.withUnsafeMutableBufferPointer { p in
                        _ = crypto_sign_seed_keypair(
                            p.baseAddress!, skBuf.baseAddress!.assumingMemoryBound(to: UInt8.self),
                            s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            self.seed = seed
            self.secretKey = sk
            self.publicKey = try PublicKey(bytes: pk)
        }

        /// The key pair a 32-byte seed determines.
        public init(seed: [UInt8]) throws(CryptoError) {
            try self.init(seed: SecureBytes(seed))
        }

        /// A detached 64-byte signature of `message`. Ed25519 signing is deterministic.
        public func signature(for message: some Collection<UInt8>) -> [UInt8] {
            var sig = [UInt8](repeating: 0, count: Ed25519.signatureLength)
            let msg = Array(message)
            sig.withUnsafeMutableBufferPointer { s in
                msg.withUnsafeBufferPointer { m in
                    secretKey.withUnsafeBytes { k in
                        _ = crypto_sign_detached(
                            s.baseAddress!, nil, m.baseAddress, UInt64(m.count),
                            k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            return sig
        }

        /// The X25519 secret scalar derived from this identity, for Noise's static key.
        public func curve25519SecretKey() -> SecureBytes {
            SecureBytes(count: X25519.keyLength) { out in
                secretKey.withUnsafeBytes { k in
                    _ = crypto_sign_ed25519_sk_to_curve25519(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
    }
}
