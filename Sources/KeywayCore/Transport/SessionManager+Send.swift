/// Sending: turning the reliable layer's plaintexts into data packets.
extension SessionManager {
    /// Sends whatever the peer in `slot` has due, if it has usable keys and an endpoint;
    /// otherwise starts the handshake (or resolve) that will let it. Renews keys when due.
    mutating func flush(slot: Int, now: Instant) {
        guard peers[slot] != nil else { return }
        touch(slot)
        syncCharges(slot: slot)
        // Fields are read in place: a local copy of the peer would share its buffers, and the
        // writes below would then copy them whole (the in-flight packets, the streams).
        guard peers[slot]!.current?.canSend(now: now, configuration: configuration) == true, peers[slot]!.endpoint != nil else {
            if peers[slot]!.initiation == nil && (peers[slot]!.wanted || peers[slot]!.connection.isAwaitingPeer) {
                startHandshake(slot: slot, now: now)
            }
            return
        }
        while let plaintext = peers[slot]!.connection.nextPacket(now: now, statistics: &statistics) {
            seal(plaintext, slot: slot, now: now)
            guard peers[slot]!.current!.canSend(now: now, configuration: configuration) else { break }
        }
        if peers[slot]!.initiation == nil, peers[slot]!.current!.needsRekey(now: now, configuration: configuration) {
            startHandshake(slot: slot, now: now)
        }
    }

    /// Sends an empty keepalive (with an acknowledgement if one is pending) to the peer in
    /// `slot`, if it has usable keys.
    mutating func sendKeepalive(slot: Int, now: Instant) {
        guard let keys = peers[slot]?.current, keys.canSend(now: now, configuration: configuration),
              peers[slot]!.endpoint != nil else { return }
        let plaintext = peers[slot]!.connection.keepalivePacket(now: now, statistics: &statistics)
        seal(plaintext, slot: slot, now: now)
        statistics.keepalivesSent += 1
    }

    /// Encrypts `plaintext` under the current keys of the peer in `slot` and queues it for
    /// the peer's endpoint. The caller MUST have checked that those keys can send.
    private mutating func seal(_ plaintext: [UInt8], slot: Int, now: Instant) {
        guard let packet = sealed(plaintext, slot: slot) else { return }
        touch(slot)
        peers[slot]!.current!.sendCounter += 1
        peers[slot]!.lastSentAt = now
        peers[slot]!.lastActivity = now
        peers[slot]!.keepaliveAt = nil
        outgoing.append(Datagram(endpoint: peers[slot]!.endpoint!, payload: packet))
    }

    /// The data packet of `plaintext` under the current keys. Non-mutating, so that its copy
    /// of the keys (which shares the replay window's storage) is gone before the caller
    /// advances the counter in place.
    private func sealed(_ plaintext: [UInt8], slot: Int) -> [UInt8]? {
        let keys = peers[slot]!.current!
        var packet = DataPacket.header(receiverIndex: keys.remoteIndex, counter: keys.sendCounter)
        // Cannot fail: the keys exist, the counter is below the reserved nonce (rejectAfterMessages)
        // and the plaintext is smaller than a Noise message.
        guard let ciphertext = try? keys.send.encrypt(nonce: keys.sendCounter, ad: packet, plaintext: plaintext) else { return nil }
        packet += ciphertext
        return packet
    }
}
