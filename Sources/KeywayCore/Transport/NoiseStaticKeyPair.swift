import KeywayCrypto

/// A static X25519 key pair for Noise, its public half computed once: a node makes one from its
/// Ed25519 identity when it starts, so no handshake pays for the base-point multiplication again.
public struct NoiseStaticKeyPair: Sendable {
    /// The 32-byte X25519 secret key.
    public let secretKey: SecureBytes
    /// Its X25519 public key.
    public let publicKey: [UInt8]

    /// The pair of `secretKey`. Throws ``NoiseError/invalidKeyLength(what:actual:)`` unless it
    /// is 32 bytes.
    public init(secretKey: SecureBytes) throws(NoiseError) {
        publicKey = try NoiseHandshakeState.publicKey(of: secretKey, "Noise static secret key")
        self.secretKey = secretKey
    }

    /// The X25519 form of the Ed25519 `identity` (the key peers dial).
    public init(identity: Ed25519.KeyPair) {
        // A converted Ed25519 secret key is always 32 bytes.
        try! self.init(secretKey: identity.curve25519SecretKey())
    }
}
