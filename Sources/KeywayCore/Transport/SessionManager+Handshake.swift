import KeywayCrypto

/// The handshake driver: initiations, responses, cookie replies, key installation and
/// restart detection.
extension SessionManager {
    // MARK: Initiating

    /// Sends a fresh initiation (new ephemeral key, new index) to every endpoint of the peer in
    /// `slot`, replacing any in progress; asks for a resolve when no endpoint is known.
    mutating func startHandshake(slot: Int, now: Instant) {
        touch(slot)
        let peer = peers[slot]!
        let targets = peer.handshakeTargets(limit: configuration.maximumEndpointsPerPeer)
        guard !targets.isEmpty else {
            requestResolve(slot: slot, now: now)
            return
        }
        if let old = peer.initiation { indexTable.removeValue(forKey: old.localIndex) }
        let ephemeral = NoiseHandshakeState.ephemeralSecretKey(using: &rng)
        let timestamp = max(
            HandshakeTimestamp(sinceEpoch: configuration.handshakeClockOrigin + (now - Instant.zero)),
            lastTimestampSent?.successor ?? HandshakeTimestamp(label: 0, nanoseconds: 0))
        lastTimestampSent = timestamp
        var payload = identity.publicKey.bytes
        TransportBytes.appendLittleEndian(peer.localStateID, to: &payload)
        timestamp.append(to: &payload)
        var noise: NoiseHandshakeState
        let message: [UInt8]
        do {
            let responderStaticKey = try peer.staticKey ?? peer.key.curve25519()
            peers[slot]!.staticKey = responderStaticKey
            noise = try NoiseHandshakeState.initiator(
                staticKeyPair: noiseStaticKeyPair, ephemeralSecretKey: ephemeral, responderStaticKey: responderStaticKey,
                prologue: TransportSpec.prologue, presharedKey: configuration.presharedKey)
            message = try noise.writeMessage(payload: payload)
        } catch {
            // The peer's key is not a usable point: nobody can answer for it.
            giveUp(slot: slot)
            return
        }
        let index = newIndex(slot: slot)
        var packet = InitiationPacket.unsealed(senderIndex: index, noiseMessage: message)
        let cookie = peer.cookie.flatMap { now < $0.receivedAt + configuration.cookieLifetime ? $0.bytes : nil }
        let mac1 = HandshakeMACs.seal(&packet, mac1Key: peer.mac1Key, cookie: cookie)
        for target in targets { outgoing.append(Datagram(endpoint: target, payload: packet)) }
        statistics.initiationsSent += targets.count
        let attempts = (peer.initiation?.attempts ?? 0) + 1
        let backoff = min(
            configuration.handshakeRetryInitialDelay * (1 << min(attempts - 1, 16)),
            configuration.handshakeRetryMaximumDelay)
        let jitterRange = UInt64(max(0, configuration.handshakeRetryJitter.nanosecondsClamped))
        let jitter = Duration.nanoseconds(Int64(jitterRange == 0 ? 0 : rng.next() % (jitterRange + 1)))
        peers[slot]!.initiation = PeerSession.Initiation(
            noise: noise, localIndex: index, mac1: mac1, firstAttemptAt: peer.initiation?.firstAttemptAt ?? now,
            sentAt: now, attempts: attempts, retryAt: now + backoff + jitter)
        peers[slot]!.lastActivity = now
    }

    /// Emits ``TransportEvent/resolveNeeded(_:)`` for the peer in `slot`, at most once per
    /// ``TransportConfiguration/resolveRetryInterval``.
    mutating func requestResolve(slot: Int, now: Instant) {
        if let next = peers[slot]!.nextResolveAt, now < next { return }
        touch(slot)
        peers[slot]!.nextResolveAt = now + configuration.resolveRetryInterval
        statistics.resolvesRequested += 1
        events.append(.resolveNeeded(peers[slot]!.key))
    }

    /// Stops trying to reach the peer in `slot`: its streams are reset and it is reported.
    mutating func giveUp(slot: Int) {
        touch(slot)
        let peer = peers[slot]!
        if let initiation = peer.initiation { indexTable.removeValue(forKey: initiation.localIndex) }
        peers[slot]!.initiation = nil
        peers[slot]!.wanted = false
        for number in peer.connection.streams.keys {
            events.append(.streamReset(StreamID(peer: peer.key, number: number), .unreachable))
        }
        for number in peer.connection.streams.keys { peers[slot]!.connection.remove(number: number) }
        events.append(.peerUnreachable(peer.key))
    }

    // MARK: Responding

    /// An initiation: checked for size and MAC1, admitted by the rate limits (or answered with
    /// a cookie), then read (the only Diffie-Hellman work), checked against the policy, and
    /// answered. The new keys wait for the initiator's first data packet.
    mutating func handleInitiation(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        guard let packet = InitiationPacket(datagram) else {
            statistics.droppedMalformed += 1
            return
        }
        let macOffset = TransportPacket.initiationMACOffset
        guard HandshakeMACs.hasValidMAC1(datagram, macOffset: macOffset, mac1Key: cookies.mac1Key) else {
            statistics.droppedBadMAC += 1
            return
        }
        guard admit(datagram, senderIndex: packet.senderIndex, from: source, now: now) else { return }
        statistics.handshakeMessagesProcessed += 1
        let ephemeral = NoiseHandshakeState.ephemeralSecretKey(using: &rng)
        guard var noise = try? NoiseHandshakeState.responder(
                  staticKeyPair: noiseStaticKeyPair, ephemeralSecretKey: ephemeral, prologue: TransportSpec.prologue,
                  presharedKey: configuration.presharedKey),
              let payload = try? noise.readMessage(packet.noiseMessage),
              payload.count == TransportSpec.initiationPayloadLength,
              let key = try? Ed25519.PublicKey(bytes: payload[0..<32]),
              let remoteStaticKey = noise.remoteStaticKey,
              // A known peer's X25519 key was converted or verified before.
              slots[key].flatMap({ peers[$0]!.staticKey }).map({ $0 == remoteStaticKey }) ?? noise.remoteStaticKeyBelongs(to: key)
        else {
            statistics.droppedUnauthenticated += 1
            return
        }
        let known = slots[key].flatMap { peers[$0]?.dialled } ?? false
        guard known || configuration.peerPolicy.allows(key) else {
            statistics.droppedRefused += 1
            events.append(.peerRefused(key))
            return
        }
        let remoteStateID = TransportBytes.readLittleEndian(UInt64.self, payload, at: 32)
        guard let timestamp = HandshakeTimestamp(payload, at: 40) else {
            statistics.droppedMalformed += 1
            return
        }
        // A replay (from anywhere) carries a timestamp already seen: drop it before it makes
        // state, so it cannot displace the keys of a newer handshake waiting for confirmation.
        // After the session is gone the timestamp is remembered on (``InitiatorTimestamps``).
        let last = slots[key].flatMap { peers[$0]!.lastInitiationTimestamp }
            ?? initiatorTimestamps.latest(from: key, now: now, configuration: configuration)
        if let last, timestamp <= last {
            statistics.droppedReplayed += 1
            return
        }
        // Its sender holds the key it names, the policy lets it in and the message is new: it
        // reached us, whatever the session limits decide about it.
        authenticatedInitiationSource = source
        let origin = sessionOrigin(of: source)
        if slots[key] == nil {
            guard makeRoomForSession(from: origin) else {
                statistics.droppedSessionLimit += 1
                return
            }
        }
        let isNew = slots[key] == nil
        let slot = slot(for: key, now: now)
        if isNew { admitted(slot: slot, from: origin) }
        peers[slot]!.staticKey = remoteStaticKey
        var response = [UInt8]()
        TransportBytes.appendLittleEndian(peers[slot]!.localStateID, to: &response)
        guard let message = try? noise.writeMessage(payload: response), let ciphers = try? noise.split() else {
            statistics.droppedUnauthenticated += 1
            return
        }
        peers[slot]!.lastInitiationTimestamp = timestamp
        touch(slot)
        let index = newIndex(slot: slot)
        if let stale = peers[slot]!.next { indexTable.removeValue(forKey: stale.keys.localIndex) }
        let keys = SessionKeys(localIndex: index, remoteIndex: packet.senderIndex, ciphers: ciphers, createdAt: now, isInitiator: false,
            replayWindowPackets: configuration.replayWindowPackets)
        peers[slot]!.next = PeerSession.Unconfirmed(keys: keys, remoteStateID: remoteStateID)
        peers[slot]!.lastActivity = now
        var reply = ResponsePacket.unsealed(senderIndex: index, receiverIndex: packet.senderIndex, noiseMessage: message)
        _ = HandshakeMACs.seal(&reply, mac1Key: peers[slot]!.mac1Key, cookie: nil)
        // Answer where the initiation came from; the session moves there only on confirmation,
        // because an initiation can be replayed from anywhere.
        outgoing.append(Datagram(endpoint: source, payload: reply))
        statistics.responsesSent += 1
        statistics.handshakesCompleted += 1
    }

    /// Whether an initiation with a valid MAC1 may cost Diffie-Hellman work now. Under load it
    /// needs a valid MAC2 (a cookie for its source) and the per-source budget; without MAC2 it
    /// gets a cookie reply instead.
    private mutating func admit(_ datagram: [UInt8], senderIndex: UInt32, from source: Endpoint, now: Instant) -> Bool {
        if rateLimiter.admitWithoutCookie(configuration: configuration, now: now) { return true }
        let macOffset = TransportPacket.initiationMACOffset
        if cookies.hasValidMAC2(datagram, macOffset: macOffset, source: source, now: now, rng: &rng) {
            if rateLimiter.admitWithCookie(from: source.address, configuration: configuration, now: now) { return true }
            statistics.droppedRateLimited += 1
            return false
        }
        statistics.droppedRateLimited += 1
        if rateLimiter.admitCookieReply(configuration: configuration, now: now) {
            let reply = cookies.reply(to: datagram, senderIndex: senderIndex, macOffset: macOffset, source: source, now: now, rng: &rng)
            outgoing.append(Datagram(endpoint: source, payload: reply))
            statistics.cookieRepliesSent += 1
        }
        return false
    }

    // MARK: Completing

    /// A response to this node's initiation: the keys are ready at once (the response proves
    /// the peer holds its key and answered this very handshake).
    mutating func handleResponse(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        guard let packet = ResponsePacket(datagram) else {
            statistics.droppedMalformed += 1
            return
        }
        guard let slot = indexTable[packet.receiverIndex], var initiation = peers[slot]?.initiation,
              initiation.localIndex == packet.receiverIndex else {
            statistics.droppedUnknownIndex += 1
            return
        }
        touch(slot)
        guard HandshakeMACs.hasValidMAC1(datagram, macOffset: TransportPacket.responseMACOffset, mac1Key: cookies.mac1Key) else {
            statistics.droppedBadMAC += 1
            return
        }
        statistics.handshakeMessagesProcessed += 1
        guard let payload = try? initiation.noise.readMessage(packet.noiseMessage),
              payload.count == TransportSpec.responsePayloadLength,
              let ciphers = try? initiation.noise.split() else {
            statistics.droppedUnauthenticated += 1
            return
        }
        statistics.handshakesCompleted += 1
        peers[slot]!.initiation = nil
        let keys = SessionKeys(
            localIndex: initiation.localIndex, remoteIndex: packet.senderIndex, ciphers: ciphers,
            createdAt: now, isInitiator: true, replayWindowPackets: configuration.replayWindowPackets)
        install(keys, slot: slot)
        authenticated(slot: slot, from: source, now: now)
        confirm(slot: slot, remoteStateID: TransportBytes.readLittleEndian(UInt64.self, payload, at: 0))
        if !peers[slot]!.connection.rtt.hasSample {
            let sample = (now - initiation.sentAt).nanosecondsClamped
            peers[slot]!.connection.rtt.update(sample: sample, ackDelay: 0, maximumAckDelay: 0)
        }
        // Send at once, so the responder can confirm the keys: data if any, else a keepalive.
        let sentBefore = outgoing.count
        flush(slot: slot, now: now)
        if outgoing.count == sentBefore { sendKeepalive(slot: slot, now: now) }
    }

    /// A cookie reply to this node's initiation: the cookie goes into the next attempt's MAC2.
    mutating func handleCookieReply(_ datagram: [UInt8], now: Instant) {
        guard let packet = CookieReplyPacket(datagram) else {
            statistics.droppedMalformed += 1
            return
        }
        guard let slot = indexTable[packet.receiverIndex], let peer = peers[slot], let initiation = peer.initiation,
              initiation.localIndex == packet.receiverIndex else {
            statistics.droppedUnknownIndex += 1
            return
        }
        guard let cookie = CookieJar.openReply(packet, from: peer.key, mac1: initiation.mac1) else {
            statistics.droppedUnauthenticated += 1
            return
        }
        statistics.cookieRepliesReceived += 1
        peers[slot]!.cookie = (cookie, now)
    }

    /// Makes `keys` the ones packets are sent with; the current ones become the previous (kept
    /// for packets in flight) and the previous ones are dropped, which zeroes them.
    mutating func install(_ keys: SessionKeys, slot: Int) {
        if let old = peers[slot]!.previous { indexTable.removeValue(forKey: old.localIndex) }
        peers[slot]!.previous = peers[slot]!.current
        peers[slot]!.current = keys
        indexTable[keys.localIndex] = slot
    }

    /// A handshake was confirmed and the peer's state ID is `remoteStateID`. A state ID other
    /// than the one known before means the peer forgot this node (it restarted): the reliable
    /// layer starts over, carrying along the streams that had not reached the peer.
    mutating func confirm(slot: Int, remoteStateID: UInt64) {
        let peer = peers[slot]!
        let restarted = peer.remoteStateID.map { $0 != remoteStateID } ?? false
        peers[slot]!.remoteStateID = remoteStateID
        if restarted {
            // The keys before belong to the peer's previous run: a packet of it still in
            // flight would carry frames about streams the fresh connection never had (and could
            // open bogus streams or break its flow control), so they go now.
            if let old = peers[slot]!.previous {
                indexTable.removeValue(forKey: old.localIndex)
                peers[slot]!.previous = nil
            }
            let (fresh, lost) = peer.connection.restarted(local: identity.publicKey)
            peers[slot]!.connection = fresh
            statistics.peerRestarts += 1
            events.append(.peerRestarted(peer.key))
            for id in lost { events.append(.streamReset(id, .peerRestarted)) }
        }
        if restarted || !peer.established, let endpoint = peers[slot]!.endpoint {
            events.append(.sessionEstablished(peer: peer.key, endpoint: endpoint))
        }
        peers[slot]!.established = true
        peers[slot]!.wanted = false
        peers[slot]!.nextResolveAt = nil
    }

    /// An authenticated packet arrived from `source`: the session moves there if it is new
    /// (passive rebinding, no extra round trip).
    mutating func authenticated(slot: Int, from source: Endpoint, now: Instant) {
        peers[slot]!.lastReceivedAt = now
        peers[slot]!.lastActivity = now
        let old = peers[slot]!.endpoint
        guard old != source else { return }
        peers[slot]!.endpoint = source
        if !peers[slot]!.candidates.contains(source) {
            peers[slot]!.candidates.insert(source, at: 0)
            if peers[slot]!.candidates.count > configuration.maximumEndpointsPerPeer { peers[slot]!.candidates.removeLast() }
        }
        if old != nil {
            statistics.passiveRebinds += 1
            events.append(.endpointChanged(peer: peers[slot]!.key, from: old, to: source, reason: .authenticatedPacket))
        }
    }
}
