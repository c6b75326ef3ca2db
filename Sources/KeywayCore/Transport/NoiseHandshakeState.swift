import KeywayCrypto

/// A Noise `HandshakeState` (section 5.3) for the IK pattern, optionally with `psk2`.
///
/// A handshake is two messages, one datagram each:
/// 1. the initiator, who knows the responder's static key, calls ``writeMessage(payload:)``;
/// 2. the responder calls ``readMessage(_:)``, which returns the payload and reveals the
///    initiator's static key in ``remoteStaticKey`` so an allow-list can decide whether to go on;
/// 3. the responder calls ``writeMessage(payload:)``;
/// 4. the initiator calls ``readMessage(_:)``.
///
/// Then each side calls ``split()`` for its ``NoiseTransportCiphers``.
///
/// The core has no randomness of its own: the caller MUST pass a fresh ephemeral secret key,
/// never used before, to every handshake (the runtime draws it from libsodium, the simulator
/// from its seed, for instance with ``ephemeralSecretKey(using:)``).
///
/// A message that fails to read (forged, tampered, truncated, sealed for another key) throws a
/// ``NoiseError`` and leaves the state as it was, so a stray datagram cannot break a handshake
/// that the genuine message can still complete. Calling out of turn throws
/// ``NoiseError/wrongState``.
public struct NoiseHandshakeState: Sendable {
    /// Which side of the handshake this state plays.
    public enum Role: Sendable, Equatable {
        /// Sends the first message; knows the responder's static key in advance.
        case initiator
        /// Answers the first message; learns the initiator's static key from it.
        case responder
    }

    /// The secrets a handshake holds until ``split()``.
    private struct Secrets: Sendable {
        let staticKey: SecureBytes
        let ephemeralKey: SecureBytes
        let presharedKey: SecureBytes?
    }

    /// This side's role.
    public let role: Role
    /// IK, or IKpsk2 when a pre-shared key was given.
    public let pattern: NoisePattern
    /// This side's static X25519 public key.
    public let localStaticKey: [UInt8]
    /// The peer's static X25519 public key: known from the start by an initiator, learned from
    /// message 1 by a responder (`nil` before). A responder MUST check it (for example against
    /// an allow-list) before it answers.
    public private(set) var remoteStaticKey: [UInt8]?

    private let localEphemeralKey: [UInt8]
    private var remoteEphemeralKey: [UInt8]?
    private var symmetric: NoiseSymmetricState
    /// `nil` once ``split()`` has run, so the secrets can be zeroed.
    private var secrets: Secrets?
    /// The index of the next message pattern to write or read.
    private var messageIndex = 0

    // MARK: Starting a handshake

    /// A handshake that sends message 1 to a responder whose static X25519 public key is
    /// `responderStaticKey`.
    ///
    /// - Parameters:
    ///   - staticSecretKey: this node's static X25519 secret key, 32 bytes.
    ///   - ephemeralSecretKey: 32 fresh secret bytes; MUST never be reused.
    ///   - responderStaticKey: the responder's static X25519 public key, 32 bytes.
    ///   - prologue: data both sides MUST agree on, or the handshake fails.
    ///   - presharedKey: the mesh secret, 32 bytes, which selects IKpsk2; `nil` for IK.
    /// - Throws: ``NoiseError/invalidKeyLength(what:actual:)`` for a key of the wrong length.
    public static func initiator(
        staticSecretKey: SecureBytes, ephemeralSecretKey: SecureBytes, responderStaticKey: [UInt8],
        prologue: [UInt8] = [], presharedKey: SecureBytes? = nil
    ) throws(NoiseError) -> NoiseHandshakeState {
        try initiator(
            staticKeyPair: NoiseStaticKeyPair(secretKey: staticSecretKey), ephemeralSecretKey: ephemeralSecretKey,
            responderStaticKey: responderStaticKey, prologue: prologue, presharedKey: presharedKey)
    }

    /// As ``initiator(staticSecretKey:ephemeralSecretKey:responderStaticKey:prologue:presharedKey:)``,
    /// with the static key pair computed beforehand (a node keeps one for all its handshakes).
    public static func initiator(
        staticKeyPair: NoiseStaticKeyPair, ephemeralSecretKey: SecureBytes, responderStaticKey: [UInt8],
        prologue: [UInt8] = [], presharedKey: SecureBytes? = nil
    ) throws(NoiseError) -> NoiseHandshakeState {
        guard responderStaticKey.count == Noise.dhLength else {
            throw .invalidKeyLength(what: "Noise responder static key", actual: responderStaticKey.count)
        }
        return try NoiseHandshakeState(
            role: .initiator, staticKeyPair: staticKeyPair, ephemeralSecretKey: ephemeralSecretKey,
            remoteStaticKey: responderStaticKey, prologue: prologue, presharedKey: presharedKey)
    }

    /// A handshake that waits for message 1 from any initiator.
    ///
    /// Parameters as for ``initiator(staticSecretKey:ephemeralSecretKey:responderStaticKey:prologue:presharedKey:)``;
    /// the ephemeral key is used for message 2.
    public static func responder(
        staticSecretKey: SecureBytes, ephemeralSecretKey: SecureBytes,
        prologue: [UInt8] = [], presharedKey: SecureBytes? = nil
    ) throws(NoiseError) -> NoiseHandshakeState {
        try responder(
            staticKeyPair: NoiseStaticKeyPair(secretKey: staticSecretKey), ephemeralSecretKey: ephemeralSecretKey,
            prologue: prologue, presharedKey: presharedKey)
    }

    /// As ``responder(staticSecretKey:ephemeralSecretKey:prologue:presharedKey:)``, with the
    /// static key pair computed beforehand.
    public static func responder(
        staticKeyPair: NoiseStaticKeyPair, ephemeralSecretKey: SecureBytes,
        prologue: [UInt8] = [], presharedKey: SecureBytes? = nil
    ) throws(NoiseError) -> NoiseHandshakeState {
        try NoiseHandshakeState(
            role: .responder, staticKeyPair: staticKeyPair, ephemeralSecretKey: ephemeralSecretKey,
            remoteStaticKey: nil, prologue: prologue, presharedKey: presharedKey)
    }

    /// An initiator whose static key is its Ed25519 `identity`, dialling the node whose
    /// Ed25519 key is `responder`: the key you dial is the key that must answer.
    ///
    /// Throws ``NoiseError/badPublicKey`` when `responder` is not a valid Ed25519 point.
    public static func initiator(
        identity: Ed25519.KeyPair, responder: Ed25519.PublicKey, ephemeralSecretKey: SecureBytes,
        prologue: [UInt8] = [], presharedKey: SecureBytes? = nil
    ) throws(NoiseError) -> NoiseHandshakeState {
        try initiator(
            staticSecretKey: identity.curve25519SecretKey(), ephemeralSecretKey: ephemeralSecretKey,
            responderStaticKey: curve25519(of: responder), prologue: prologue, presharedKey: presharedKey)
    }

    /// A responder whose static key is its Ed25519 `identity`.
    public static func responder(
        identity: Ed25519.KeyPair, ephemeralSecretKey: SecureBytes,
        prologue: [UInt8] = [], presharedKey: SecureBytes? = nil
    ) throws(NoiseError) -> NoiseHandshakeState {
        try responder(
            staticSecretKey: identity.curve25519SecretKey(), ephemeralSecretKey: ephemeralSecretKey,
            prologue: prologue, presharedKey: presharedKey)
    }

    /// 32 ephemeral secret bytes drawn from `generator`, for callers (the simulator) whose
    /// randomness is a seeded generator. The generator MUST be cryptographically secure
    /// outside a simulation.
    public static func ephemeralSecretKey(using generator: inout some RandomNumberGenerator) -> SecureBytes {
        let wordCount = Noise.dhLength / MemoryLayout<UInt64>.size
        return SecureBytes(count: Noise.dhLength) { out in
            for word in 0..<wordCount {
                var value = generator.next().littleEndian
                withUnsafeBytes(of: &value) { bytes in
                    let start = word * MemoryLayout<UInt64>.size
                    UnsafeMutableRawBufferPointer(rebasing: out[start..<start + bytes.count]).copyMemory(from: bytes)
                }
            }
        }
    }

    private init(
        role: Role, staticKeyPair: NoiseStaticKeyPair, ephemeralSecretKey: SecureBytes,
        remoteStaticKey: [UInt8]?, prologue: [UInt8], presharedKey: SecureBytes?
    ) throws(NoiseError) {
        if let presharedKey, presharedKey.count != Noise.pskLength {
            throw .invalidKeyLength(what: "Noise pre-shared key", actual: presharedKey.count)
        }
        self.role = role
        pattern = presharedKey == nil ? .ik : .ikpsk2
        localStaticKey = staticKeyPair.publicKey
        localEphemeralKey = try Self.publicKey(of: ephemeralSecretKey, "Noise ephemeral secret key")
        self.remoteStaticKey = remoteStaticKey
        secrets = Secrets(staticKey: staticKeyPair.secretKey, ephemeralKey: ephemeralSecretKey, presharedKey: presharedKey)
        symmetric = NoiseSymmetricState(protocolName: pattern.protocolName)
        symmetric.mixHash(prologue)
        // Pre-message pattern `<- s`: both sides hash the responder's static key, which an
        // initiator was given (its factory checks it) and a responder owns.
        symmetric.mixHash(role == .initiator ? remoteStaticKey ?? [] : localStaticKey)
    }

    // MARK: State

    /// `h`: the handshake hash so far; after the last message, the session's identifier.
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// Whether both messages have been written or read.
    public var isComplete: Bool { messageIndex == pattern.messages.count }

    /// Whether the next step is this side's ``writeMessage(payload:)``.
    public var canWriteMessage: Bool { secrets != nil && !isComplete && isWriter(of: messageIndex) }

    /// Whether the next step is this side's ``readMessage(_:)``.
    public var canReadMessage: Bool { secrets != nil && !isComplete && !isWriter(of: messageIndex) }

    /// Whether the peer's static key is the X25519 form of the Ed25519 `identity`: how an
    /// allow-list of Ed25519 keys checks ``remoteStaticKey``.
    public func remoteStaticKeyBelongs(to identity: Ed25519.PublicKey) -> Bool {
        guard let remoteStaticKey, let converted = try? identity.curve25519() else { return false }
        return converted == remoteStaticKey
    }

    // MARK: Messages

    /// `WriteMessage(payload)`: the next handshake message, carrying `payload` encrypted.
    ///
    /// Throws ``NoiseError/wrongState`` when it is not this side's turn,
    /// ``NoiseError/invalidMessageLength(actual:allowed:)`` when the message would exceed
    /// ``Noise/maxMessageLength``, and ``NoiseError/badPublicKey`` when a Diffie-Hellman with the
    /// peer's key gives the all-zero output. On a throw the state is unchanged.
    public mutating func writeMessage(payload: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard canWriteMessage else { throw .wrongState }
        let tokens = pattern.messages[messageIndex]
        let minimum = pattern.minimumLength(of: tokens, startingWithKey: symmetric.hasKey)
        guard minimum + payload.count <= Noise.maxMessageLength else {
            throw .invalidMessageLength(actual: minimum + payload.count, allowed: minimum...Noise.maxMessageLength)
        }
        var next = self
        var message = [UInt8]()
        message.reserveCapacity(minimum + payload.count)
        for token in tokens {
            switch token {
            case .e:
                message += localEphemeralKey
                next.mixEphemeral(localEphemeralKey)
            case .s:
                message += try next.symmetric.encryptAndHash(localStaticKey)
            case .ee, .es, .se, .ss, .psk:
                try next.mix(token)
            }
        }
        message += try next.symmetric.encryptAndHash(payload)
        next.messageIndex += 1
        self = next
        return message
    }

    /// `ReadMessage(message)`: processes the peer's next handshake message and returns its
    /// decrypted payload. After message 1 a responder knows ``remoteStaticKey``.
    ///
    /// Throws ``NoiseError/wrongState`` when it is not this side's turn to read,
    /// ``NoiseError/invalidMessageLength(actual:allowed:)`` for a message too short for the
    /// pattern or longer than ``Noise/maxMessageLength``, ``NoiseError/decryptionFailed`` when
    /// it does not authenticate (including a message sealed for another static key or
    /// pre-shared key), and ``NoiseError/badPublicKey`` for a low-order key. On a throw the state
    /// is unchanged.
    public mutating func readMessage(_ message: some Collection<UInt8>) throws(NoiseError) -> [UInt8] {
        guard canReadMessage else { throw .wrongState }
        let tokens = pattern.messages[messageIndex]
        let minimum = pattern.minimumLength(of: tokens, startingWithKey: symmetric.hasKey)
        guard (minimum...Noise.maxMessageLength).contains(message.count) else {
            throw .invalidMessageLength(actual: message.count, allowed: minimum...Noise.maxMessageLength)
        }
        var next = self
        // The length check above guarantees every token below finds its bytes.
        var rest = ArraySlice(message)
        for token in tokens {
            switch token {
            case .e:
                let key = Array(rest.prefix(Noise.dhLength))
                rest = rest.dropFirst(Noise.dhLength)
                next.remoteEphemeralKey = key
                next.mixEphemeral(key)
            case .s:
                let length = Noise.dhLength + (next.symmetric.hasKey ? Noise.macLength : 0)
                let sealed = rest.prefix(length)
                rest = rest.dropFirst(length)
                next.remoteStaticKey = try next.symmetric.decryptAndHash(sealed)
            case .ee, .es, .se, .ss, .psk:
                try next.mix(token)
            }
        }
        let payload = try next.symmetric.decryptAndHash(rest)
        next.messageIndex += 1
        self = next
        return payload
    }

    /// `Split()`: the transport cipher states, once the handshake is complete. The handshake's
    /// secrets are dropped; any further call on this state throws ``NoiseError/wrongState``.
    public mutating func split() throws(NoiseError) -> NoiseTransportCiphers {
        guard isComplete, secrets != nil else { throw .wrongState }
        let (initiatorToResponder, responderToInitiator) = symmetric.split()
        let hash = symmetric.handshakeHash
        secrets = nil
        symmetric.eraseKeys()
        switch role {
        case .initiator:
            return NoiseTransportCiphers(send: initiatorToResponder, receive: responderToInitiator, handshakeHash: hash)
        case .responder:
            return NoiseTransportCiphers(send: responderToInitiator, receive: initiatorToResponder, handshakeHash: hash)
        }
    }

    // MARK: Tokens

    /// Whether this side writes message `index` (the initiator writes the even ones).
    private func isWriter(of index: Int) -> Bool {
        (index % 2 == 0) == (role == .initiator)
    }

    /// The `e` token's hashing: `MixHash(e.public)`, and in a psk handshake also `MixKey`.
    private mutating func mixEphemeral(_ publicKey: [UInt8]) {
        symmetric.mixHash(publicKey)
        if pattern.usesPresharedKey { symmetric.mixKey(SecureBytes(publicKey)) }
    }

    /// The `ee`, `es`, `se`, `ss` and `psk` tokens, which only mix key material.
    private mutating func mix(_ token: NoisePattern.Token) throws(NoiseError) {
        guard let secrets else { throw .wrongState }
        let isInitiator = role == .initiator
        switch token {
        case .ee:
            try mixDH(secrets.ephemeralKey, remoteEphemeralKey)
        case .es:
            try isInitiator
                ? mixDH(secrets.ephemeralKey, remoteStaticKey) : mixDH(secrets.staticKey, remoteEphemeralKey)
        case .se:
            try isInitiator
                ? mixDH(secrets.staticKey, remoteEphemeralKey) : mixDH(secrets.ephemeralKey, remoteStaticKey)
        case .ss:
            try mixDH(secrets.staticKey, remoteStaticKey)
        case .psk:
            guard let presharedKey = secrets.presharedKey else { throw .wrongState }
            symmetric.mixKeyAndHash(presharedKey)
        case .e, .s:
            throw .wrongState
        }
    }

    /// `MixKey(DH(local, remote))`.
    private mutating func mixDH(_ localSecretKey: SecureBytes, _ remotePublicKey: [UInt8]?) throws(NoiseError) {
        guard let remotePublicKey else { throw .wrongState }
        do {
            symmetric.mixKey(try X25519.sharedSecret(secretKey: localSecretKey, publicKey: remotePublicKey))
        } catch {
            throw .badPublicKey
        }
    }

    /// The public key of a 32-byte X25519 secret key.
    static func publicKey(of secretKey: SecureBytes, _ what: String) throws(NoiseError) -> [UInt8] {
        guard secretKey.count == Noise.dhLength else { throw .invalidKeyLength(what: what, actual: secretKey.count) }
        do {
            return try X25519.publicKey(forSecretKey: secretKey)
        } catch {
            throw .invalidKeyLength(what: what, actual: secretKey.count)
        }
    }

    /// The X25519 form of an Ed25519 public key.
    private static func curve25519(of key: Ed25519.PublicKey) throws(NoiseError) -> [UInt8] {
        do {
            return try key.curve25519()
        } catch {
            throw .badPublicKey
        }
    }
}
