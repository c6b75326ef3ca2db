import Collections

/// Answers to unverified sources are no bigger than ``DHTConfiguration/maximumAmplification``
/// times the query that asked (attack 9 of issue 12: a `get` of a stored 1,000-byte item from
/// a spoofable source returned 14 times the bytes it cost, a reflection amplifier), as QUIC
/// limits a server to three times what an unvalidated client sent (RFC 9000 §8.1).
///
/// Definitions: a source is *verified* when it has answered a query of ours from that endpoint
/// (a contact in the routing table with a response), when its address has presented a valid
/// write token (which only a reply to that address could have carried), or when it is on a
/// local network and ``DHTConfiguration/amplificationLimitExemptLocalNetworks`` is on. An
/// answer to an unverified source that would exceed the limit is cut, most useful part kept:
/// first the `nodes` it names are trimmed, keeping a stored value; if that does not suffice,
/// the value (`v`, `k`, `sig`) is left out and as many nodes as fit are returned, with `seq`
/// and the token, so a BEP 44 getter still learns there is an item here and carries on with its
/// lookup (libtorrent's `get` sends no token, so the value cannot be made to wait for one).
extension DHTNode {
    /// Whether `source` has proved it receives what is sent to it.
    func isVerifiedSource(_ source: Endpoint) -> Bool {
        if configuration.amplificationLimitExemptLocalNetworks && source.address.isLocalNetwork { return true }
        if routingTable.hasAnswered(at: source) { return true }
        return verifiedAddresses.contains(source.address)
    }

    /// Remembers that `address` presented a valid write token.
    mutating func recordVerifiedAddress(_ address: IPAddress) {
        if verifiedAddresses.remove(address) == nil, verifiedAddresses.count >= max(1, configuration.verifiedAddressLimit) {
            verifiedAddresses.removeFirst()
        }
        verifiedAddresses.append(address)
    }

    /// Sends `response`, cut to the amplification limit when `source` is unverified.
    mutating func replyWithinAmplificationLimit(_ transactionID: [UInt8], _ response: KRPCResponse, to source: Endpoint, requestBytes: Int, now: Instant) {
        let factor = max(0, configuration.maximumAmplification)
        guard factor > 0, !isVerifiedSource(source) else {
            return reply(transactionID, .response(response), to: source, now: now)
        }
        let limit = Int(min(Double(Int.max / 2), Double(max(0, requestBytes)) * factor))
        func encode(_ candidate: KRPCResponse) -> [UInt8] {
            KRPCMessage(transactionID: transactionID, body: .response(candidate), clientVersion: configuration.clientVersion, observedEndpoint: source).encoded()
        }
        func size(_ candidate: KRPCResponse) -> Int { encode(candidate).count }
        let full = encode(response)
        if full.count <= limit { return send(answer: full, to: source, now: now) }
        statistics.answersCutForAmplification += 1
        var cut = response
        if trimNodes(&cut, toFit: limit, size: size) {
            return send(answer: encode(cut), to: source, now: now)
        }
        cut = response
        cut.encodedValue = nil
        cut.publicKey = nil
        cut.signature = nil
        if !trimNodes(&cut, toFit: limit, size: size) {
            // Peers of get_peers last: what remains is the bare answer with its token.
            while var values = cut.values, !values.isEmpty, size(cut) > limit {
                values.removeLast(min(values.count, max(1, (size(cut) - limit + 5) / 6)))
                cut.values = values.isEmpty ? nil : values
            }
        }
        send(answer: encode(cut), to: source, now: now)
    }

    /// Drops nodes from the end (the farthest) until `response` fits `limit`; `false` when it
    /// does not fit even with none.
    private func trimNodes(_ response: inout KRPCResponse, toFit limit: Int, size: (KRPCResponse) -> Int) -> Bool {
        var current = size(response)
        while current > limit {
            let excess = current - limit
            if var nodes = response.nodes, !nodes.isEmpty {
                nodes.removeLast(min(nodes.count, max(1, (excess + DHTSpec.compactNodeIPv4Length - 1) / DHTSpec.compactNodeIPv4Length)))
                response.nodes = nodes
            } else if var nodes = response.nodes6, !nodes.isEmpty {
                nodes.removeLast(min(nodes.count, max(1, (excess + DHTSpec.compactNodeIPv6Length - 1) / DHTSpec.compactNodeIPv6Length)))
                response.nodes6 = nodes
            } else {
                return false
            }
            current = size(response)
        }
        return true
    }
}
