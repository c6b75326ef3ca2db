/// Receiving: demultiplexing transport packets and opening data packets.
extension SessionManager {
    /// Handles one UDP datagram from `source`. Returns `false`, touching nothing, when it is
    /// not a transport packet (its first byte is not 1 to 4; KRPC messages start with `d`).
    @discardableResult
    public mutating func handleDatagram(_ datagram: [UInt8], from source: Endpoint, now: Instant) -> Bool {
        guard let type = TransportPacket.type(of: datagram) else { return false }
        defer { settleTimers() }
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

    /// Which of the peer's key sets in `slot` has local index `index`.
    private func keySlot(named index: UInt32, slot: Int) -> KeySlot? {
        if peers[slot]!.current?.localIndex == index { return .current }
        if peers[slot]!.previous?.localIndex == index { return .previous }
        if peers[slot]!.next?.keys.localIndex == index { return .next }
        return nil
    }

    /// What opening a data packet gave.
    private enum Opened {
        case opened([UInt8])
        case expired, replayed, unauthenticated
    }

    /// Checks the key set's age and replay window and decrypts `datagram` under it, recording
    /// nothing. Non-mutating on purpose: the copy of the keys it reads dies when it returns, so
    /// the caller's later writes to the peer's state never copy its buffers (copy on write).
    private func open(_ datagram: [UInt8], header: DataPacket, keys which: KeySlot, slot: Int, now: Instant) -> Opened {
        let keys: SessionKeys
        switch which {
        case .current: keys = peers[slot]!.current!
        case .previous: keys = peers[slot]!.previous!
        case .next: keys = peers[slot]!.next!.keys
        }
        guard now < keys.createdAt + configuration.rejectAfterTime else { return .expired }
        guard (try? keys.replay.check(header.counter)) != nil else { return .replayed }
        let headerBytes = datagram[0..<TransportSpec.dataHeaderLength]
        let ciphertext = datagram[TransportSpec.dataHeaderLength...]
        guard let plaintext = try? keys.receive.decrypt(nonce: header.counter, ad: headerBytes, ciphertext: ciphertext) else {
            return .unauthenticated
        }
        return .opened(plaintext)
    }

    /// A data packet: found by index whatever its source, checked against the replay window,
    /// decrypted, and only then allowed to confirm keys, move the session and carry frames.
    private mutating func handleData(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        guard let header = DataPacket(datagram) else {
            statistics.droppedMalformed += 1
            return
        }
        guard let slot = indexTable[header.receiverIndex], peers[slot] != nil else {
            statistics.droppedUnknownIndex += 1
            return
        }
        guard let which = keySlot(named: header.receiverIndex, slot: slot) else {
            statistics.droppedUnknownIndex += 1
            return
        }
        touch(slot)
        let plaintext: [UInt8]
        switch open(datagram, header: header, keys: which, slot: slot, now: now) {
        case let .opened(bytes): plaintext = bytes
        case .expired:
            statistics.droppedExpired += 1
            return
        case .replayed:
            statistics.droppedReplayed += 1
            return
        case .unauthenticated:
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
        let available = configuration.reassemblyBudget > reassemblyCharged ? configuration.reassemblyBudget - reassemblyCharged : 0
        let receiveAvailable = receiveRoom(slot: slot)
        let (result, streamData) = withSink { manager, sink in
            sink.reassemblyAvailable = available
            sink.receiveAvailable = receiveAvailable
            let result = manager.peers[slot]!.connection.receive(packetNumber: packetNumber, plaintext: plaintext, now: now, sink: &sink)
            return (result, sink.receivedStreamData)
        }
        syncCharges(slot: slot)
        if let violation = peers[slot]!.connection.violation {
            statistics.droppedBadFrames += 1
            abortSession(slot: slot, violation: violation)
            return
        }
        if streamData { peers[slot]!.probesSinceData = 0 }
        switch result {
        case .processed: break
        case .malformed: statistics.droppedBadFrames += 1
        case .deferred: statistics.droppedReassemblyLimit += 1
        case .overReceiveBudget: statistics.droppedReceiveBudget += 1
        }
        flush(slot: slot, now: now)
    }

    /// Brings the node-wide reassembly and receive totals up to date with the session in `slot`.
    mutating func syncCharges(slot: Int) {
        guard let charged = peers[slot]?.reassemblyCharged else { return }
        let cost = peers[slot]!.connection.reassemblyCost
        if cost != charged {
            reassemblyCharged = reassemblyCharged - charged + cost
            peers[slot]!.reassemblyCharged = cost
        }
        charge(receive: peers[slot]!.connection.unconsumedBytes, slot: slot)
    }

    /// Sets what the session in `slot` is charged against the receive budget (and its source
    /// prefix's share) to `bytes`.
    mutating func charge(receive bytes: UInt64, slot: Int) {
        let charged = peers[slot]!.receiveCharged
        guard bytes != charged else { return }
        receiveCharged = receiveCharged - charged + bytes
        peers[slot]!.receiveCharged = bytes
        guard case let .prefix(prefix)? = peers[slot]!.admittedFrom else { return }
        let held = receiveChargedByPrefix[prefix, default: 0] - charged + bytes
        receiveChargedByPrefix[prefix] = held == 0 ? nil : held
    }

    /// What the session in `slot` may still take on: the least of what the receive budget and
    /// its source prefix's share leave.
    func receiveRoom(slot: Int) -> UInt64 {
        var room = configuration.receiveBudget > receiveCharged ? configuration.receiveBudget - receiveCharged : 0
        if case let .prefix(prefix)? = peers[slot]!.admittedFrom {
            let held = receiveChargedByPrefix[prefix, default: 0]
            room = min(room, configuration.receiveBudgetPerPrefix > held ? configuration.receiveBudgetPerPrefix - held : 0)
        }
        return room
    }

    /// Closes the session in `slot` because its peer broke `violation`: every stream is
    /// reported reset and the peer is forgotten (its keys zeroed), as a QUIC endpoint closes a
    /// connection on a protocol error. A later handshake from the peer starts afresh.
    mutating func abortSession(slot: Int, violation: TransportViolation) {
        guard let peer = peers[slot] else { return }
        for number in peer.connection.streams.keys {
            events.append(.streamReset(StreamID(peer: peer.key, number: number), .sessionAborted(violation)))
        }
        removePeer(slot: slot)
        statistics.sessionsAborted += 1
        events.append(.sessionAborted(peer.key, violation))
    }
}
