import KeywayCrypto

/// A Noise `CipherState` (section 5.1): a ChaCha20-Poly1305 key and a 64-bit nonce counter.
///
/// Two ways to use it, for two kinds of transport:
/// - In order (a handshake, or a stream): ``encryptWithAd(ad:plaintext:)`` and
///   ``decryptWithAd(ad:ciphertext:)`` use and advance the counter ``nonce``, exactly as the
///   specification says.
/// - Out of order (UDP, where each packet carries its counter): ``encrypt(nonce:ad:plaintext:)``
///   and ``decrypt(nonce:ad:ciphertext:)`` take the nonce explicitly and leave the counter alone.
///   A sender still counts in order: it reads ``nonce``, calls ``encryptWithAd(ad:plaintext:)``
///   and puts that nonce in the packet. A receiver decrypts with the packet's nonce through a
///   ``NoiseReplayWindow``, so that no nonce is accepted twice.
///
/// Contracts:
/// - A nonce MUST NOT be used to encrypt twice under one key. This is a value type: a copy
///   that encrypts repeats the original's nonces, so a sender MUST keep one copy and use only it.
/// - Nonce `2^64 - 1` is reserved for ``rekey()``; reaching it throws
///   ``NoiseError/nonceExhausted``, after which the session MUST be replaced by a new handshake.
/// - Every message, ciphertext included, MUST fit in ``Noise/maxMessageLength`` bytes.
/// - A call that throws leaves the state unchanged.
public struct NoiseCipherState: Sendable {
    /// `k`: the cipher key, or `nil` while the handshake has not produced one.
    private var key: SecureBytes?
    /// `n`: the next nonce ``encryptWithAd(ad:plaintext:)`` or ``decryptWithAd(ad:ciphertext:)``
    /// will use.
    public private(set) var nonce: UInt64 = 0

    /// A cipher state with no key (`InitializeKey(empty)`): it passes plaintext through.
    public init() {}

    /// A cipher state with `key` and nonce 0 (`InitializeKey(key)`).
    ///
    /// `key` MUST be ``Noise/keyLength`` bytes; otherwise ``NoiseError/invalidKeyLength(what:actual:)``.
    public init(key: SecureBytes) throws(NoiseError) {
        guard key.count == Noise.keyLength else {
            throw .invalidKeyLength(what: "Noise cipher key", actual: key.count)
        }
        self.key = key
    }

    /// A cipher state with a key this module derived itself, so its length is known to be right.
    init(derivedKey: SecureBytes) {
        precondition(derivedKey.count == Noise.keyLength, "derived Noise key of the wrong length")
        key = derivedKey
    }

    /// `HasKey()`: whether this state encrypts (otherwise it passes plaintext through).
    public var hasKey: Bool { key != nil }

    /// `SetNonce(nonce)`: sets the counter. Lowering it MUST only happen with a fresh key.
    public mutating func setNonce(_ nonce: UInt64) {
        self.nonce = nonce
    }

    /// `EncryptWithAd(ad, plaintext)`: seals `plaintext` with the counter and advances it; with
    /// no key, returns `plaintext` unchanged.
    public mutating func encryptWithAd(
        ad: some Collection<UInt8>, plaintext: some Collection<UInt8>
    ) throws(NoiseError) -> [UInt8] {
        guard hasKey else { return Array(plaintext) }
        let ciphertext = try encrypt(nonce: nonce, ad: ad, plaintext: plaintext)
        nonce += 1
        return ciphertext
    }

    /// `DecryptWithAd(ad, ciphertext)`: opens `ciphertext` with the counter and advances it only
    /// on success; with no key, returns `ciphertext` unchanged.
    public mutating func decryptWithAd(
        ad: some Collection<UInt8>, ciphertext: some Collection<UInt8>
    ) throws(NoiseError) -> [UInt8] {
        guard hasKey else { return Array(ciphertext) }
        let plaintext = try decrypt(nonce: nonce, ad: ad, ciphertext: ciphertext)
        nonce += 1
        return plaintext
    }

    /// Seals `plaintext` under the explicit `nonce` (ciphertext followed by the 16-byte tag).
    ///
    /// The caller MUST never pass the same `nonce` twice for one key. Throws
    /// ``NoiseError/missingKey`` without a key, ``NoiseError/nonceExhausted`` for the reserved
    /// nonce, and ``NoiseError/invalidMessageLength(actual:allowed:)`` when the ciphertext would
    /// exceed ``Noise/maxMessageLength``.
    public func encrypt(
        nonce: UInt64, ad: some Collection<UInt8>, plaintext: some Collection<UInt8>
    ) throws(NoiseError) -> [UInt8] {
        guard let key else { throw .missingKey }
        guard nonce != Noise.reservedNonce else { throw .nonceExhausted }
        let length = plaintext.count + Noise.macLength
        guard length <= Noise.maxMessageLength else {
            throw .invalidMessageLength(actual: length, allowed: Self.ciphertextLengths)
        }
        return try Self.seal(plaintext, key: key, nonce: nonce, ad: ad)
    }

    /// Opens `ciphertext` sealed under the explicit `nonce`.
    ///
    /// This does not detect replays: a receiver of out-of-order packets MUST check the nonce
    /// with a ``NoiseReplayWindow`` (or use ``NoiseReplayWindow/open(_:nonce:ad:ciphertext:)``).
    /// Throws ``NoiseError/decryptionFailed`` for any tampering,
    /// ``NoiseError/invalidMessageLength(actual:allowed:)`` for a ciphertext shorter than its tag
    /// or longer than a Noise message, ``NoiseError/missingKey`` and
    /// ``NoiseError/nonceExhausted`` as ``encrypt(nonce:ad:plaintext:)`` does.
    public func decrypt(
        nonce: UInt64, ad: some Collection<UInt8>, ciphertext: some Collection<UInt8>
    ) throws(NoiseError) -> [UInt8] {
        guard let key else { throw .missingKey }
        guard nonce != Noise.reservedNonce else { throw .nonceExhausted }
        guard Self.ciphertextLengths.contains(ciphertext.count) else {
            throw .invalidMessageLength(actual: ciphertext.count, allowed: Self.ciphertextLengths)
        }
        do {
            return try ChaChaPoly.open(
                ciphertext, key: key, nonce: ChaChaPoly.noiseNonce(nonce), associatedData: ad)
        } catch {
            throw .decryptionFailed
        }
    }

    /// `Rekey()` (section 11.3): replaces the key with `REKEY(k)`, the first 32 bytes of
    /// `ENCRYPT(k, 2^64 - 1, empty, 32 zero bytes)`. The counter is unchanged.
    ///
    /// Both peers MUST rekey at the same point in the message stream. Throws
    /// ``NoiseError/missingKey`` without a key.
    public mutating func rekey() throws(NoiseError) {
        guard let key else { throw .missingKey }
        var sealed = try Self.seal(
            [UInt8](repeating: 0, count: Noise.keyLength), key: key, nonce: Noise.reservedNonce, ad: [UInt8]())
        defer { NoiseHKDF.wipe(&sealed) }
        self.key = SecureBytes(sealed[0..<Noise.keyLength])
    }

    /// The lengths a keyed ciphertext may have: at least a tag, at most a whole Noise message.
    static let ciphertextLengths = Noise.macLength...Noise.maxMessageLength

    /// `ENCRYPT(k, n, ad, plaintext)` with the Noise nonce encoding.
    private static func seal(
        _ plaintext: some Collection<UInt8>, key: SecureBytes, nonce: UInt64, ad: some Collection<UInt8>
    ) throws(NoiseError) -> [UInt8] {
        do {
            return try ChaChaPoly.seal(plaintext, key: key, nonce: ChaChaPoly.noiseNonce(nonce), associatedData: ad)
        } catch {
            // Unreachable: the key is checked at initialisation and the nonce is built here.
            throw .invalidKeyLength(what: "Noise cipher key", actual: key.count)
        }
    }
}
