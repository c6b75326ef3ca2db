import KeywayCrypto

/// Receiving datagrams: answering queries and routing responses to what asked for them.
extension DHTNode {
    /// Handles one UDP datagram from `source`.
    ///
    /// Anything that is not a KRPC message is dropped; a malformed query is answered with
    /// error 203; responses are accepted only from the endpoint the query went to.
    public mutating func handleDatagram(_ datagram: [UInt8], from source: Endpoint, now: Instant) {
        datagram.withUnsafeBufferPointer { handleDatagram(bytes: $0, from: source, now: now) }
    }

    /// Handles one UDP datagram from `source`, read in place from `bytes` (which need only live
    /// for the call): a runtime hands over its receive buffer without copying it into an array.
    public mutating func handleDatagram(bytes datagram: UnsafeBufferPointer<UInt8>, from source: Endpoint, now: Instant) {
        statistics.datagramsReceived += 1
        statistics.bytesReceived += datagram.count
        let message: KRPCMessage
        do {
            message = try KRPCMessage.decode(datagram)
        } catch {
            statistics.datagramsDropped += 1
            if case let .malformed(transactionID, isQuery, reason) = error, isQuery,
               !source.address.isUnspecified, source.port != 0 {
                // A malformed query costs its source a token like any other.
                guard rateLimiter.admit(source, now: now) else {
                    statistics.queriesRateLimited += 1
                    return
                }
                reply(transactionID, .error(KRPCError(code: DHTSpec.ErrorCode.protocolError, message: reason)), to: source, now: now)
            }
            return
        }
        switch message.body {
        case let .query(query):
            handleQuery(query, transactionID: message.transactionID, readOnly: message.readOnly, requestBytes: datagram.count, from: source, now: now)
        case let .response(response):
            handleResponse(response, message: message, from: source, now: now)
        case let .error(error):
            handleError(error, transactionID: message.transactionID, from: source, now: now)
        }
    }

    // MARK: Queries

    private mutating func handleQuery(_ query: KRPCQuery, transactionID: [UInt8], readOnly: Bool, requestBytes: Int, from source: Endpoint, now: Instant) {
        guard !source.address.isUnspecified, source.port != 0 else {
            statistics.datagramsDropped += 1
            return
        }
        statistics.queriesReceived.count(query)
        // It arrived, whether or not it is answered: evidence if we never asked for it.
        noteInbound(from: source, evidence: .unsolicitedQuery(from: source), now: now)
        guard rateLimiter.admit(source, now: now) else {
            statistics.queriesRateLimited += 1
            return
        }
        if let sender = query.senderID, !readOnly {
            // A querier enters the table only once it answers a ping of ours from that endpoint.
            let querier = NodeContact(id: sender, endpoint: source)
            if configuration.admitQueriersAfterPing {
                execute(routingTable.observeQuerier(querier, now: now), now: now)
            } else {
                execute(observe(querier, responded: false, now: now), now: now)
            }
        }
        let ipv4 = source.address.isIPv4
        func closest(_ target: NodeID) -> KRPCResponse {
            // Only contacts that have answered us are vouched for to others.
            let nodes = routingTable.closest(to: target, count: configuration.bucketSize, ipv4: ipv4, verifiedOnly: configuration.answerWithVerifiedContactsOnly)
            return KRPCResponse(id: id, nodes: ipv4 ? nodes : nil, nodes6: ipv4 ? nil : nodes)
        }
        switch query {
        case .ping:
            reply(transactionID, .response(KRPCResponse(id: id)), to: source, now: now)
        case let .findNode(_, target):
            replyWithinAmplificationLimit(transactionID, closest(target), to: source, requestBytes: requestBytes, now: now)
        case let .getPeers(_, infoHash):
            var response = closest(infoHash)
            response.token = tokens.token(for: source.address)
            let found = peers.peers(for: infoHash, now: now)
            if !found.isEmpty { response.values = found }
            replyWithinAmplificationLimit(transactionID, response, to: source, requestBytes: requestBytes, now: now)
        case let .announcePeer(_, infoHash, port, impliedPort, token):
            guard tokens.isValid(token, for: source.address) else {
                return reply(transactionID, .error(KRPCError(code: DHTSpec.ErrorCode.protocolError, message: "bad token")), to: source, now: now)
            }
            recordVerifiedAddress(source.address)
            let peer = Endpoint(address: source.address, port: impliedPort ? source.port : port)
            peers.announce(peer, for: infoHash, now: now)
            reply(transactionID, .response(KRPCResponse(id: id)), to: source, now: now)
        case let .get(_, target, sequence):
            var response = closest(target)
            response.token = tokens.token(for: source.address)
            switch store.item(for: target, now: now) {
            case let .mutable(item)?:
                response.sequence = item.sequence
                if sequence == nil || item.sequence > sequence! {
                    response.publicKey = item.publicKey.bytes
                    response.signature = item.signature
                    response.encodedValue = item.encodedValue
                }
            case let .immutable(value)?:
                response.encodedValue = value
            case nil:
                break
            }
            replyWithinAmplificationLimit(transactionID, response, to: source, requestBytes: requestBytes, now: now)
        case let .put(put):
            let body = handlePut(put, from: source, now: now)
            reply(transactionID, body, to: source, now: now)
        case let .unknown(method, _):
            let name = String(decoding: method.prefix(max(0, configuration.unknownMethodEchoLength)), as: UTF8.self)
            reply(transactionID, .error(KRPCError(code: DHTSpec.ErrorCode.methodUnknown, message: "method unknown: \(name)")), to: source, now: now)
        }
    }

    private mutating func handlePut(_ put: KRPCPut, from source: Endpoint, now: Instant) -> KRPCMessage.Body {
        func failure(_ code: Int, _ message: String) -> KRPCMessage.Body { .error(KRPCError(code: code, message: message)) }
        guard tokens.isValid(put.token, for: source.address) else {
            return failure(DHTSpec.ErrorCode.protocolError, "bad token")
        }
        recordVerifiedAddress(source.address)
        guard let key = put.publicKey else {
            if let error = store.putImmutable(encodedValue: put.encodedValue, from: source.address, now: now) { return .error(error) }
            return .response(KRPCResponse(id: id))
        }
        guard let publicKey = try? Ed25519.PublicKey(bytes: key) else {
            return failure(DHTSpec.ErrorCode.protocolError, "k must be 32 bytes")
        }
        guard let sequence = put.sequence else {
            return failure(DHTSpec.ErrorCode.protocolError, "seq missing")
        }
        guard let signature = put.signature, signature.count == Ed25519.signatureLength else {
            return failure(DHTSpec.ErrorCode.invalidSignature, "sig must be 64 bytes")
        }
        let item = MutableItem(publicKey: publicKey, salt: put.salt ?? [], sequence: sequence, encodedValue: put.encodedValue, signature: signature)
        if let error = store.put(item, cas: put.cas, from: source.address, now: now) {
            if error.code == DHTSpec.ErrorCode.invalidSignature { statistics.invalidSignatures += 1 }
            return .error(error)
        }
        return .response(KRPCResponse(id: id))
    }

    // MARK: Responses

    /// Takes the pending query a reply answers, if the reply is genuine.
    private mutating func takePending(_ transactionID: [UInt8], from source: Endpoint) -> PendingQuery? {
        guard transactionID.count == 2 else { return nil }
        let key = UInt16(transactionID[0]) << 8 | UInt16(transactionID[1])
        guard let query = pending[key], query.destination == source else { return nil }
        return removePending(key)
    }

    private mutating func handleResponse(_ response: KRPCResponse, message: KRPCMessage, from source: Endpoint, now: Instant) {
        guard let query = takePending(message.transactionID, from: source) else {
            statistics.datagramsDropped += 1
            return
        }
        if let expected = query.expectedID, expected != response.id {
            // Another node now answers at that endpoint (the old one moved or restarted).
            if case let .seed(seed) = query.purpose {
                events.append(.seedKeyMismatch(seed.endpoint))
                return seedFinished(answered: false, now: now)
            }
            recordFailure(of: expected, at: source, now: now)
        }
        let sample = now - query.sentAt
        // RFC 6298: the first sample is taken as it is (its variation as half of it), later
        // ones are averaged in.
        if rttSamples == 0 {
            smoothedRTT = sample
            rttVariation = sample / 2
        } else {
            let deviation = sample > smoothedRTT ? sample - smoothedRTT : smoothedRTT - sample
            rttVariation = rttVariation * 0.75 + deviation * 0.25
            smoothedRTT = smoothedRTT * 0.875 + sample * 0.125
        }
        rttSamples += 1
        if rttSamples == 1 { rearmStallWaits() }
        let responder = NodeContact(id: response.id, endpoint: source)
        execute(observe(responder, responded: true, now: now), now: now)
        // Only the node we asked, answering from where we asked it, votes on our address.
        if let observed = message.observedEndpoint, query.expectedID == nil || query.expectedID == response.id {
            recordObservedEndpoint(observed, reportedFrom: source)
        }

        switch query.purpose {
        case let .lookup(operation):
            guard var lookup = lookups[operation] else {
                latePutAnswer(operation, response: response, from: responder, expected: query.expectedID, now: now)
                return
            }
            if let expected = query.expectedID, expected != response.id {
                lookup.recordFailure(endpoint: source, timedOut: false)
            } else {
                let item = verifiedItem(in: response, for: lookup)
                let depth = lookup.recordResponse(from: response.id, at: source, token: response.token, sequence: item?.sequence ?? response.sequence) ?? 1
                if let item, item.sequence > (lookup.best?.sequence ?? .min) {
                    lookup.best = item
                    lookup.bestDepth = depth
                }
                lookup.add(learnedNodes(response), depth: depth + 1, referrer: response.id)
            }
            lookups[operation] = lookup
            advance(operation, now: now)
        case let .put(operation):
            puts[operation]?.awaiting -= 1
            puts[operation]?.stored += 1
            puts[operation]?.statistics.responses += 1
            completePutIfDone(operation, now: now)
        case .seed:
            for node in learnedNodes(response) {
                observe(node, responded: false, now: now)
            }
            seedFinished(answered: true, now: now)
        case .maintenance:
            break
        case let .handOff(target):
            guard query.expectedID == nil || query.expectedID == response.id, let token = response.token else { return }
            completeHandOff(of: target, to: responder, token: token, theirSequence: response.sequence, theyHaveValue: response.encodedValue != nil, now: now)
        }
    }

    private mutating func handleError(_ error: KRPCError, transactionID: [UInt8], from source: Endpoint, now: Instant) {
        guard let query = takePending(transactionID, from: source) else {
            statistics.datagramsDropped += 1
            return
        }
        switch query.purpose {
        case let .lookup(operation):
            lookups[operation]?.recordFailure(endpoint: source, timedOut: false)
            advance(operation, now: now)
        case let .put(operation):
            puts[operation]?.awaiting -= 1
            completePutIfDone(operation, now: now)
        case .seed:
            seedFinished(answered: false, now: now)
        case .maintenance, .handOff:
            break
        }
    }

    /// Nodes a response names, minus ourselves.
    private func learnedNodes(_ response: KRPCResponse) -> [NodeContact] {
        ((response.nodes ?? []) + (response.nodes6 ?? [])).filter {
            $0.id != id && !$0.endpoint.address.isUnspecified && $0.endpoint.port != 0
        }
    }

    /// The response's mutable item if it is the one the lookup wants, is newer than what the
    /// lookup holds, and its signature verifies. Older items are not even verified.
    private mutating func verifiedItem(in response: KRPCResponse, for lookup: Lookup) -> MutableItem? {
        let wanted: Lookup.MutableItemQuery
        switch lookup.purpose {
        case let .getItem(query): wanted = query
        case let .putItem(item): wanted = Lookup.MutableItemQuery(publicKey: item.publicKey.bytes, salt: item.salt)
        case .findNode: return nil
        }
        guard let key = response.publicKey, key == wanted.publicKey, let sequence = response.sequence,
              let value = response.encodedValue, let signature = response.signature,
              let publicKey = try? Ed25519.PublicKey(bytes: key) else { return nil }
        let item = MutableItem(publicKey: publicKey, salt: wanted.salt, sequence: sequence, encodedValue: value, signature: signature)
        guard sequence > (lookup.best?.sequence ?? .min) else { return item }
        guard item.isValid else {
            statistics.invalidSignatures += 1
            return nil
        }
        return item
    }

    private mutating func seedFinished(answered: Bool, now: Instant) {
        bootstrap.awaitingSeeds -= 1
        if answered {
            bootstrap.seedAnswered = true
            startBootstrapLookup(now: now)
        }
        if bootstrap.awaitingSeeds <= 0 && !bootstrap.seedAnswered && bootstrap.lookup == nil && routingTable.count == 0 {
            scheduleBootstrapRetry(now: now)
        }
    }

    mutating func execute(_ directive: RoutingTable.Directive, now: Instant) {
        if case let .ping(contact) = directive {
            // One liveness check per contact at a time.
            if pending.values.contains(where: { $0.destination == contact.endpoint && $0.purpose == .maintenance }) { return }
            sendQuery(.ping(id: id), to: contact.endpoint, expecting: contact.id, purpose: .maintenance, now: now)
        }
    }

    /// BEP 42: believe an external endpoint once a quorum of distinct source networks reports
    /// it (``ObservedAddressVotes``).
    private mutating func recordObservedEndpoint(_ endpoint: Endpoint, reportedFrom source: Endpoint) {
        let (believed, changed) = observedVotes.record(endpoint, from: source, current: externalEndpoint)
        // The classification reads only the reports: a voter repeating itself changes nothing.
        defer { if changed { classifyNAT() } }
        guard let believed else { return }
        externalEndpoint = believed
        events.append(.externalEndpointChanged(believed))
        externalEndpointBelieved()
    }
}
