import KeywayCrypto

/// A Noise `SymmetricState` (section 5.2): the chaining key `ck`, the handshake hash `h` and
/// the cipher state the handshake encrypts with.
///
/// Internal to the handshake; a value type, so a handshake step can run on a copy and be
/// committed only if it succeeds.
struct NoiseSymmetricState: Sendable {
    /// `ck`: the chaining key, `HASHLEN` bytes.
    private var chainingKey: SecureBytes
    /// `h`: the handshake hash, `HASHLEN` bytes.
    private(set) var handshakeHash: [UInt8]
    /// The handshake's cipher state, keyed by ``mixKey(_:)``.
    private var cipher = NoiseCipherState()

    /// `InitializeSymmetric(protocol_name)`: `h` is the name zero-padded to `HASHLEN` (or its
    /// hash when longer), `ck = h`, and the cipher has no key.
    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        handshakeHash = name.count <= Noise.hashLength
            ? name + [UInt8](repeating: 0, count: Noise.hashLength - name.count)
            : NoiseHKDF.hash(name)
        chainingKey = SecureBytes(handshakeHash)
    }

    /// Whether the handshake cipher has a key yet (it encrypts static keys and payloads).
    var hasKey: Bool { cipher.hasKey }

    /// `MixKey(input_key_material)`: `ck, temp_k = HKDF(ck, ikm, 2)`; the cipher takes
    /// `temp_k` truncated to 32 bytes.
    mutating func mixKey(_ inputKeyMaterial: SecureBytes) {
        let outputs = NoiseHKDF.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputCount: 2)
        chainingKey = outputs[0]
        cipher = Self.cipherState(outputs[1])
    }

    /// `MixHash(data)`: `h = HASH(h || data)`.
    mutating func mixHash(_ data: [UInt8]) {
        handshakeHash = NoiseHKDF.hash(handshakeHash, data)
    }

    /// `MixKeyAndHash(input_key_material)` (for `psk`): `ck, temp_h, temp_k = HKDF(ck, ikm, 3)`,
    /// then `MixHash(temp_h)` and the cipher takes `temp_k` truncated to 32 bytes.
    mutating func mixKeyAndHash(_ inputKeyMaterial: SecureBytes) {
        let outputs = NoiseHKDF.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputCount: 3)
        chainingKey = outputs[0]
        mixHash(outputs[1].bytes)
        cipher = Self.cipherState(outputs[2])
    }

    /// `EncryptAndHash(plaintext)`: encrypts with `h` as associated data, then mixes the
    /// ciphertext into `h`.
    mutating func encryptAndHash(_ plaintext: some Collection<UInt8>) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encryptWithAd(ad: handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// `DecryptAndHash(ciphertext)`: decrypts with `h` as associated data, then mixes the
    /// ciphertext into `h`.
    mutating func decryptAndHash(_ ciphertext: some Collection<UInt8>) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decryptWithAd(ad: handshakeHash, ciphertext: ciphertext)
        mixHash(Array(ciphertext))
        return plaintext
    }

    /// `Split()`: the two transport cipher states from `HKDF(ck, empty, 2)`, the first for
    /// initiator-to-responder messages, the second for the other direction.
    func split() -> (initiatorToResponder: NoiseCipherState, responderToInitiator: NoiseCipherState) {
        let outputs = NoiseHKDF.hkdf(chainingKey: chainingKey, inputKeyMaterial: SecureBytes([UInt8]()), outputCount: 2)
        return (Self.cipherState(outputs[0]), Self.cipherState(outputs[1]))
    }

    /// Drops the chaining key and the handshake cipher once the handshake is over, keeping
    /// only `h`, so the secrets are zeroed as soon as no other copy holds them.
    mutating func eraseKeys() {
        chainingKey = SecureBytes([UInt8]())
        cipher = NoiseCipherState()
    }

    /// A cipher state keyed with the first 32 bytes of a 64-byte HKDF output.
    private static func cipherState(_ output: SecureBytes) -> NoiseCipherState {
        NoiseCipherState(derivedKey: NoiseHKDF.prefix(output, Noise.keyLength))
    }
}
