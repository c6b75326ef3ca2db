extension KRPCMessage {
    /// The message as canonical bencode (keys sorted), written straight into one buffer sized
    /// up front.
    ///
    /// Optional fields are written only when set; `ro` only when true (as `i1e`), and
    /// `implied_port` only when true. `encodedValue` fields are copied as they are, so they must
    /// hold one valid bencoded value (decoded messages always do). `nodes` takes only the IPv4
    /// contacts of ``KRPCResponse/nodes`` and `nodes6` only the IPv6 ones of
    /// ``KRPCResponse/nodes6``; a contact of the other family is left out. For any message
    /// ``decode(_:limits:)`` returned, `decode(m.encoded()) == m`.
    public func encoded() -> [UInt8] {
        BencodeWriter.makeBytes(capacity: encodedLengthEstimate) { $0.message(self) }
    }

    /// An upper estimate of the encoded length, cheap to compute, so that encoding runs once:
    /// the fixed overheads of the fields a body can carry (keys, prefixes, 20-byte IDs,
    /// integers of up to 20 digits) plus every variable-length field. Were it ever short, the
    /// writer would run again with more room.
    private var encodedLengthEstimate: Int {
        var length = 96 + transactionID.count + (clientVersion?.count ?? 0) + (padding > 0 ? 32 + padding : 0)
        switch body {
        case let .query(query):
            length += 192
            switch query {
            case let .announcePeer(_, _, _, _, token): length += token.count
            case let .put(put):
                length += put.token.count + put.encodedValue.count + (put.publicKey?.count ?? 0)
                    + (put.salt?.count ?? 0) + (put.signature?.count ?? 0)
            case let .unknown(method, _): length += method.count
            case .ping, .findNode, .getPeers, .get: break
            }
        case let .response(response):
            length += 224 + (response.token?.count ?? 0) + (response.encodedValue?.count ?? 0)
                + (response.publicKey?.count ?? 0) + (response.signature?.count ?? 0)
                + DHTSpec.compactNodeIPv4Length * (response.nodes?.count ?? 0)
                + DHTSpec.compactNodeIPv6Length * (response.nodes6?.count ?? 0)
                + (Endpoint.compactIPv6Length + 3) * (response.values?.count ?? 0)
        case let .error(error):
            length += 32 + error.message.utf8.count
        }
        return length
    }
}

extension BencodeWriter {
    /// Writes the whole message, keys in ascending order: a, e, ip, pad, q, r, ro, t, v, y.
    fileprivate mutating func message(_ message: KRPCMessage) {
        beginDictionary()
        if case let .query(query) = message.body {
            key("a")
            arguments(of: query)
        }
        if case let .error(error) = message.body {
            key("e")
            beginList()
            integer(Int64(error.code))
            string(utf8: error.message)
            end()
        }
        if let observedEndpoint = message.observedEndpoint {
            key("ip")
            compactEndpoint(observedEndpoint)
        }
        if message.padding > 0 {
            key("pad")
            string([UInt8](repeating: 0, count: message.padding))
        }
        if case let .query(query) = message.body {
            key("q")
            methodName(of: query)
        }
        if case let .response(response) = message.body {
            key("r")
            self.response(response)
        }
        if message.readOnly {
            key("ro")
            integer(1)
        }
        key("t")
        string(message.transactionID)
        if let clientVersion = message.clientVersion {
            key("v")
            string(clientVersion)
        }
        key("y")
        switch message.body {
        case .query: key("q")
        case .response: key("r")
        case .error: key("e")
        }
        end()
    }

    /// Writes `a`: the query's arguments, keys in ascending order.
    fileprivate mutating func arguments(of query: KRPCQuery) {
        beginDictionary()
        switch query {
        case let .ping(id):
            key("id"); nodeID(id)
        case let .findNode(id, target):
            key("id"); nodeID(id)
            key("target"); nodeID(target)
        case let .getPeers(id, infoHash):
            key("id"); nodeID(id)
            key("info_hash"); nodeID(infoHash)
        case let .announcePeer(id, infoHash, port, impliedPort, token):
            key("id"); nodeID(id)
            if impliedPort { key("implied_port"); integer(1) }
            key("info_hash"); nodeID(infoHash)
            key("port"); integer(Int64(port))
            key("token"); string(token)
        case let .get(id, target, sequence):
            key("id"); nodeID(id)
            if let sequence { key("seq"); integer(sequence) }
            key("target"); nodeID(target)
        case let .put(put):
            if let cas = put.cas { key("cas"); integer(cas) }
            key("id"); nodeID(put.id)
            if let publicKey = put.publicKey { key("k"); string(publicKey) }
            if let salt = put.salt { key("salt"); string(salt) }
            if let sequence = put.sequence { key("seq"); integer(sequence) }
            if let signature = put.signature { key("sig"); string(signature) }
            key("token"); string(put.token)
            key("v"); raw(put.encodedValue)
        case let .unknown(_, id):
            if let id { key("id"); nodeID(id) }
        }
        end()
    }

    /// Writes `q`: the method name.
    fileprivate mutating func methodName(of query: KRPCQuery) {
        switch query {
        case .ping: key("ping")
        case .findNode: key("find_node")
        case .getPeers: key("get_peers")
        case .announcePeer: key("announce_peer")
        case .get: key("get")
        case .put: key("put")
        case let .unknown(method, _): string(method)
        }
    }

    /// Writes `r`: the response's fields, keys in ascending order.
    fileprivate mutating func response(_ response: KRPCResponse) {
        beginDictionary()
        key("id"); nodeID(response.id)
        if let publicKey = response.publicKey { key("k"); string(publicKey) }
        if let nodes = response.nodes { key("nodes"); compactNodes(nodes, ipv4: true) }
        if let nodes6 = response.nodes6 { key("nodes6"); compactNodes(nodes6, ipv4: false) }
        if let port = response.port { key("p"); integer(port) }
        if let sequence = response.sequence { key("seq"); integer(sequence) }
        if let signature = response.signature { key("sig"); string(signature) }
        if let token = response.token { key("token"); string(token) }
        if let encodedValue = response.encodedValue { key("v"); raw(encodedValue) }
        if let values = response.values {
            key("values")
            beginList()
            for peer in values { compactEndpoint(peer) }
            end()
        }
        end()
    }

    /// A 20-byte string holding `id`.
    private mutating func nodeID(_ id: NodeID) {
        stringHeader(count: NodeID.byteCount)
        id.write(to: &self)
    }

    /// A 6- or 18-byte string holding `endpoint`'s compact form.
    fileprivate mutating func compactEndpoint(_ endpoint: Endpoint) {
        stringHeader(count: endpoint.compactLength)
        endpoint.writeCompact(to: &self)
    }

    /// One string holding the compact node infos of the contacts of one family.
    private mutating func compactNodes(_ contacts: [NodeContact], ipv4: Bool) {
        var count = 0
        for contact in contacts where contact.endpoint.address.isIPv4 == ipv4 { count += 1 }
        let stride = ipv4 ? DHTSpec.compactNodeIPv4Length : DHTSpec.compactNodeIPv6Length
        stringHeader(count: count * stride)
        for contact in contacts where contact.endpoint.address.isIPv4 == ipv4 { contact.writeCompact(to: &self) }
    }
}
