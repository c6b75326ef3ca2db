/// What a finished handshake yields (`Split()`): one cipher state per direction and the
/// handshake hash.
///
/// The initiator's ``send`` is the responder's ``receive`` and vice versa, both starting at
/// nonce 0. ``handshakeHash`` identifies the session and is the same on both sides; it is not
/// secret and may be used for channel binding.
public struct NoiseTransportCiphers: Sendable {
    /// Encrypts the messages this side sends. A sender MUST keep this one copy and encrypt
    /// only with it, so that no nonce repeats.
    public var send: NoiseCipherState
    /// Decrypts the messages the peer sends.
    public var receive: NoiseCipherState
    /// `h` at the end of the handshake, ``Noise/hashLength`` bytes.
    public let handshakeHash: [UInt8]

    /// Bundles two cipher states and a handshake hash.
    public init(send: NoiseCipherState, receive: NoiseCipherState, handshakeHash: [UInt8]) {
        self.send = send
        self.receive = receive
        self.handshakeHash = handshakeHash
    }
}
