/// The keys of one completed handshake (WireGuard's "keypair"): the two cipher states, the
/// indices both sides chose, the send counter and the replay window.
///
/// The keys live in ``NoiseCipherState``s whose ``SecureBytes`` are zeroed when the last copy is
/// dropped, so dropping a `SessionKeys` (on rekey, expiry or idle expiry) erases them.
struct SessionKeys: Sendable {
    /// The index this node chose: incoming packets name it.
    let localIndex: UInt32
    /// The index the peer chose: outgoing packets name it.
    let remoteIndex: UInt32
    /// Encrypts outgoing packets (explicit nonces from ``sendCounter``).
    let send: NoiseCipherState
    /// Decrypts incoming packets.
    let receive: NoiseCipherState
    /// The counter of the next outgoing packet.
    var sendCounter: UInt64 = 0
    /// Counters of incoming packets already accepted.
    var replay: NoiseReplayWindow
    /// When the handshake completed.
    let createdAt: Instant
    /// Whether this node initiated the handshake (the initiator renews keys by time).
    let isInitiator: Bool

    /// The keys `ciphers` of a handshake that completed at `now`.
    init(localIndex: UInt32, remoteIndex: UInt32, ciphers: NoiseTransportCiphers, createdAt: Instant, isInitiator: Bool, replayWindowPackets: Int) {
        replay = NoiseReplayWindow(packets: replayWindowPackets)
        self.localIndex = localIndex
        self.remoteIndex = remoteIndex
        send = ciphers.send
        receive = ciphers.receive
        self.createdAt = createdAt
        self.isInitiator = isInitiator
    }

    /// Whether these keys may still send: not too old, not too many packets.
    func canSend(now: Instant, configuration: TransportConfiguration) -> Bool {
        now < createdAt + configuration.rejectAfterTime && sendCounter < configuration.rejectAfterMessages
    }

    /// Whether a new handshake is due for these keys: their initiator renews them after
    /// ``TransportConfiguration/rekeyAfterTime``; the responder only half-way from there to
    /// ``TransportConfiguration/rejectAfterTime``, in case the initiator has nothing to send.
    func needsRekey(now: Instant, configuration: TransportConfiguration) -> Bool {
        let rekey = configuration.rekeyAfterTime
        let age = isInitiator ? rekey : rekey + (configuration.rejectAfterTime - rekey) / 2
        return now >= createdAt + age || sendCounter >= configuration.rekeyAfterMessages
    }
}
