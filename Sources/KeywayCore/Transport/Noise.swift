/// The constants of keyway's Noise suite (Noise protocol framework, revision 34).
///
/// keyway speaks exactly two protocols: ``protocolNameIK`` between any two nodes, and
/// ``protocolNameIKpsk2`` when a mesh is configured with a shared secret. Both use X25519,
/// ChaCha20-Poly1305 and BLAKE2b from libsodium through `KeywayCrypto`.
public enum Noise {
    /// `DHLEN`: the length of X25519 public keys, secret keys and DH outputs.
    public static let dhLength = 32
    /// `HASHLEN`: the length of a BLAKE2b digest, of the chaining key and of the handshake hash.
    public static let hashLength = 64
    /// `BLOCKLEN`: BLAKE2b's block length, over which HMAC pads its key.
    public static let blockLength = 128
    /// The length of a cipher key: `HKDF` outputs are truncated to this (Noise section 5.2).
    public static let keyLength = 32
    /// The length of a pre-shared key (Noise section 9).
    public static let pskLength = 32
    /// The length of the authentication tag ChaCha20-Poly1305 appends to every ciphertext.
    public static let macLength = 16
    /// The largest Noise message, handshake or transport, in bytes (Noise section 3).
    public static let maxMessageLength = 65535
    /// The nonce reserved for `REKEY` and never used to encrypt a message (`2^64 - 1`).
    public static let reservedNonce = UInt64.max

    /// The protocol between two nodes: `Noise_IK_25519_ChaChaPoly_BLAKE2b`.
    public static let protocolNameIK = "Noise_IK_25519_ChaChaPoly_BLAKE2b"
    /// The protocol of a mesh with a shared secret: `Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b`.
    public static let protocolNameIKpsk2 = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b"
}
