/// Receiving: demultiplexing transport packets and opening data packets.
extension SessionManager {
    /// Handles one UDP datagram from `source`. Returns `false`, touching nothing, when it is
    /// not a transport packet (its first byte is not 1 to 4; KRPC messages start with `d`).
    @discardableResult
    public mutating func handleDatagram(_ datagram: [UInt8], from source: Endpoint, now: Instant) -> Bool {
        guard let type = TransportPacket.type(of: datagram) else { return false }
        statistics.datagramsReceived += 1
        statistics.bytesReceived += datagram.count
        switch type {
        case TransportSpec.initiationType:
            handleInitiation(datagram, from: source, now: now)
        case TransportSpec.responseType:
            handleResponse(datagram, from: source, now: now)
        case TransportSpec.cookieReplyType:
            handleCookieReply(datagram, now: now)
        default:
            handleData(datagram, from: source, now: now)
        }
        return true
    }

    /// Which key set of a peer a packet named.
    private enum KeySlot { case current, previous, next }

    /// A data packet: found by index whatever its source, checked against the replay window,
    /// decrypted, and only then allowed to confirm keys, move the session and carry frames.
    private mutating func handleData(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        guard let header = DataPacket(datagram) else {
            statistics.droppedMalformed += 1
            return
        }
        guard let slot = indexTable[header.receiverIndex], let peer = peers[slot] else {
            statistics.droppedUnknownIndex += 1
            return
        }
        let which: KeySlot
        let keys: SessionKeys
        if let current = peer.current, current.localIndex == header.receiverIndex {
            (which, keys) = (.current, current)
        } else if let previous = peer.previous, previous.localIndex == header.receiverIndex {
            (which, keys) = (.previous, previous)
        } else if let next = peer.next, next.keys.localIndex == header.receiverIndex {
            (which, keys) = (.next, next.keys)
        } else {
            statistics.droppedUnknownIndex += 1
            return
        }
        guard now < keys.createdAt + configuration.rejectAfterTime else {
            statistics.droppedExpired += 1
            return
        }
        guard (try? keys.replay.check(header.counter)) != nil else {
            statistics.droppedReplayed += 1
            return
        }
        let headerBytes = datagram[0..<TransportSpec.dataHeaderLength]
        let ciphertext = datagram[TransportSpec.dataHeaderLength...]
        guard let plaintext = try? keys.receive.decrypt(nonce: header.counter, ad: headerBytes, ciphertext: ciphertext) else {
            statistics.droppedUnauthenticated += 1
            return
        }
        switch which {
        case .current: try? peers[slot]!.current!.replay.record(header.counter)
        case .previous: try? peers[slot]!.previous!.replay.record(header.counter)
        case .next: try? peers[slot]!.next!.keys.replay.record(header.counter)
        }
        authenticated(slot: slot, from: source, now: now)
        if which == .next, let next = peers[slot]!.next {
            // Key confirmation: the initiator used the keys, so the handshake was not a replay.
            peers[slot]!.next = nil
            install(next.keys, slot: slot)
            confirm(slot: slot, remoteStateID: next.remoteStateID)
        }
        guard plaintext.count >= TransportSpec.packetNumberLength else {
            statistics.droppedBadFrames += 1
            return
        }
        if plaintext.count > TransportSpec.packetNumberLength {
            peers[slot]!.keepaliveAt = now + configuration.keepaliveTimeout
        }
        let packetNumber = TransportBytes.readLittleEndian(UInt64.self, plaintext, at: 0)
        let (parsed, streamData) = withSink { manager, sink in
            let parsed = manager.peers[slot]!.connection.receive(packetNumber: packetNumber, plaintext: plaintext, now: now, sink: &sink)
            return (parsed, sink.receivedStreamData)
        }
        if streamData { peers[slot]!.probesSinceData = 0 }
        if !parsed { statistics.droppedBadFrames += 1 }
        flush(slot: slot, now: now)
    }
}
