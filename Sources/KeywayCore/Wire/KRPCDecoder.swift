extension KRPCMessage {
    /// Decodes one datagram as a KRPC message.
    ///
    /// - Throws ``KRPCDecodingError/notKRPC(reason:)`` when the datagram is not one strictly
    ///   valid bencoded dictionary (see ``BencodeValue/decode(_:limits:)``), or has no string `t`.
    /// - Throws ``KRPCDecodingError/malformed(transactionID:isQuery:reason:)`` when it has a `t`
    ///   but a field is missing or ill-typed: the message type `y`; for a query `q` and, for a
    ///   known method, `a` with the method's required arguments; for a response `r` with its
    ///   `id`; for an error `e` as `[code, message]`. Every field the decoder knows must also
    ///   have its type wherever it appears (`ro` an integer, `ip` a 6- or 18-byte string, `v` a
    ///   string, IDs 20 bytes, `nodes`/`nodes6` whole 26/38-byte infos, `port` in 0...65535).
    ///   A query or response whose `a` and `r` are both dictionaries is malformed too.
    ///
    /// Unknown keys are ignored anywhere, an unknown method decodes as
    /// ``KRPCQuery/unknown(method:id:)`` (with `a.id` when it is valid), and entries of `values`
    /// that are not 6- or 18-byte strings are skipped. BEP 44's `v` is kept exactly as it was
    /// encoded. `ro` is true only for the integer 1; `implied_port` for any non-zero integer.
    @inlinable
    public static func decode(_ datagram: some Collection<UInt8>, limits: BencodeLimits = .default) throws(KRPCDecodingError) -> KRPCMessage {
        try withContiguousBytes(datagram) { buffer throws(KRPCDecodingError) in try decode(contiguous: buffer, limits: limits) }
    }

    /// The decoder proper, on bytes already in one buffer; not generic, so compiled once.
    @usableFromInline
    static func decode(contiguous buffer: UnsafeBufferPointer<UInt8>, limits: BencodeLimits) throws(KRPCDecodingError) -> KRPCMessage {
        guard buffer.first == BencodeByte.d else { throw .notKRPC(reason: "not a bencoded dictionary") }
        var raw = KRPCRawMessage()
        do throws(BencodeError) {
            var reader = try BencodeReader(buffer, limits: limits)
            try reader.readKRPCMessage(into: &raw)
            try reader.finish()
        } catch {
            throw .notKRPC(reason: error.description)
        }
        guard raw.transactionID.kind == .bytes else { throw .notKRPC(reason: "no string transaction ID t") }
        let interpreter = KRPCInterpreter(
            bytes: buffer,
            transactionID: buffer.array(raw.transactionID.range),
            isQuery: raw.messageType.kind == .bytes && buffer.matches(raw.messageType.range, "q"))
        return try interpreter.message(from: raw)
    }
}

/// The second pass of KRPC decoding: turns the positions ``KRPCRawMessage`` found into typed
/// values, and says which field is wrong when one is.
private struct KRPCInterpreter {
    let bytes: UnsafeBufferPointer<UInt8>
    let transactionID: [UInt8]
    let isQuery: Bool

    consuming func message(from raw: KRPCRawMessage) throws(KRPCDecodingError) -> KRPCMessage {
        let clientVersion = try optionalBytes(raw.clientVersion, "v")
        let observedEndpoint = try optionalEndpoint(raw.observedEndpoint, "ip")
        let readOnly = try optionalInteger(raw.readOnly, "ro") == 1
        guard raw.messageType.kind == .bytes else { throw malformed("y is missing or not a string") }
        let type = raw.messageType.range
        let body: KRPCMessage.Body
        if bytes.matches(type, "q") {
            body = .query(try query(raw))
        } else if bytes.matches(type, "r") {
            body = .response(try response(raw))
        } else if bytes.matches(type, "e") {
            body = .error(try error(raw))
        } else {
            throw malformed("y is not q, r or e")
        }
        return KRPCMessage(
            transactionID: transactionID, body: body, clientVersion: clientVersion,
            observedEndpoint: observedEndpoint, readOnly: readOnly)
    }

    private func query(_ raw: KRPCRawMessage) throws(KRPCDecodingError) -> KRPCQuery {
        guard raw.method.kind == .bytes else { throw malformed("q is missing or not a string") }
        let method = raw.method.range
        let hasArguments = raw.arguments.kind == .dictionary && !raw.hasBothBodies
        let a = raw.bodyFields
        guard let known = KRPCKnownMethod(bytes, method) else {
            let id = hasArguments && a.id.kind == .bytes && a.id.range.count == NodeID.byteCount ? NodeID(bytes, at: a.id.range.lowerBound) : nil
            return .unknown(method: bytes.array(method), id: id)
        }
        guard !raw.hasBothBodies else { throw malformed("a and r are both present") }
        guard hasArguments else { throw malformed("a is missing or not a dictionary") }
        let id = try requiredID(a.id, "a.id")
        switch known {
        case .ping:
            return .ping(id: id)
        case .findNode:
            return .findNode(id: id, target: try requiredID(a.target, "a.target"))
        case .getPeers:
            return .getPeers(id: id, infoHash: try requiredID(a.infoHash, "a.info_hash"))
        case .announcePeer:
            let infoHash = try requiredID(a.infoHash, "a.info_hash")
            guard let port = try optionalInteger(a.port, "a.port") else { throw malformed("a.port is missing") }
            guard let validPort = UInt16(exactly: port) else { throw malformed("a.port is outside 0...65535") }
            let impliedPort = try optionalInteger(a.impliedPort, "a.implied_port") ?? 0
            return .announcePeer(id: id, infoHash: infoHash, port: validPort, impliedPort: impliedPort != 0, token: try requiredBytes(a.token, "a.token"))
        case .get:
            return .get(id: id, target: try requiredID(a.target, "a.target"), sequence: try optionalInteger(a.sequence, "a.seq"))
        case .put:
            guard a.value.kind != .absent else { throw malformed("a.v is missing") }
            return .put(KRPCPut(
                id: id,
                token: try requiredBytes(a.token, "a.token"),
                encodedValue: bytes.array(a.value.range),
                publicKey: try optionalBytes(a.publicKey, "a.k"),
                salt: try optionalBytes(a.salt, "a.salt"),
                sequence: try optionalInteger(a.sequence, "a.seq"),
                signature: try optionalBytes(a.signature, "a.sig"),
                cas: try optionalInteger(a.cas, "a.cas")))
        }
    }

    private func response(_ raw: KRPCRawMessage) throws(KRPCDecodingError) -> KRPCResponse {
        guard raw.response.kind == .dictionary else { throw malformed("r is missing or not a dictionary") }
        guard !raw.hasBothBodies else { throw malformed("a and r are both present") }
        let r = raw.bodyFields
        let values: [Endpoint]?
        switch r.values.kind {
        case .absent: values = nil
        case .list: values = r.peers
        default: throw malformed("r.values is not a list")
        }
        return KRPCResponse(
            id: try requiredID(r.id, "r.id"),
            nodes: try optionalNodes(r.nodes, "r.nodes", stride: DHTSpec.compactNodeIPv4Length),
            nodes6: try optionalNodes(r.nodes6, "r.nodes6", stride: DHTSpec.compactNodeIPv6Length),
            token: try optionalBytes(r.token, "r.token"),
            values: values,
            encodedValue: r.value.kind == .absent ? nil : bytes.array(r.value.range),
            publicKey: try optionalBytes(r.publicKey, "r.k"),
            sequence: try optionalInteger(r.sequence, "r.seq"),
            signature: try optionalBytes(r.signature, "r.sig"),
            port: try optionalInteger(r.responderPort, "r.p"))
    }

    private func error(_ raw: KRPCRawMessage) throws(KRPCDecodingError) -> KRPCError {
        guard raw.error.kind == .list else { throw malformed("e is missing or not a list") }
        guard raw.errorCode.kind == .integer, let code = Int(exactly: raw.errorCode.integer) else {
            throw malformed("e[0] is not an integer code")
        }
        guard raw.errorMessage.kind == .bytes else { throw malformed("e[1] is not a string") }
        let message = String(decoding: UnsafeBufferPointer(rebasing: bytes[raw.errorMessage.range]), as: UTF8.self)
        return KRPCError(code: code, message: message)
    }

    // MARK: Typed fields

    private func malformed(_ reason: String) -> KRPCDecodingError {
        .malformed(transactionID: transactionID, isQuery: isQuery, reason: reason)
    }

    private func requiredID(_ field: KRPCRawField, _ name: String) throws(KRPCDecodingError) -> NodeID {
        guard field.kind == .bytes, field.range.count == NodeID.byteCount else {
            throw malformed("\(name) is missing or not \(NodeID.byteCount) bytes")
        }
        return NodeID(bytes, at: field.range.lowerBound)
    }

    private func requiredBytes(_ field: KRPCRawField, _ name: String) throws(KRPCDecodingError) -> [UInt8] {
        guard let value = try optionalBytes(field, name) else { throw malformed("\(name) is missing") }
        return value
    }

    private func optionalBytes(_ field: KRPCRawField, _ name: String) throws(KRPCDecodingError) -> [UInt8]? {
        switch field.kind {
        case .absent: return nil
        case .bytes: return bytes.array(field.range)
        default: throw malformed("\(name) is not a string")
        }
    }

    private func optionalInteger(_ field: KRPCRawField, _ name: String) throws(KRPCDecodingError) -> Int64? {
        switch field.kind {
        case .absent: return nil
        case .integer: return field.integer
        default: throw malformed("\(name) is not an integer")
        }
    }

    private func optionalEndpoint(_ field: KRPCRawField, _ name: String) throws(KRPCDecodingError) -> Endpoint? {
        guard field.kind != .absent else { return nil }
        guard field.kind == .bytes, let endpoint = Endpoint(compactIn: bytes, range: field.range) else {
            throw malformed("\(name) is not a 6- or 18-byte compact endpoint")
        }
        return endpoint
    }

    private func optionalNodes(_ field: KRPCRawField, _ name: String, stride: Int) throws(KRPCDecodingError) -> [NodeContact]? {
        guard field.kind != .absent else { return nil }
        guard field.kind == .bytes, let contacts = NodeContact.compactList(in: bytes, range: field.range, stride: stride) else {
            throw malformed("\(name) is not a string of \(stride)-byte node infos")
        }
        return contacts
    }
}

/// The methods whose arguments the decoder knows.
private enum KRPCKnownMethod {
    case ping, findNode, getPeers, announcePeer, get, put

    private static let names: [(name: StaticString, method: KRPCKnownMethod)] = [
        ("ping", .ping), ("find_node", .findNode), ("get_peers", .getPeers),
        ("announce_peer", .announcePeer), ("get", .get), ("put", .put),
    ]

    /// The method named by the bytes in `range`, or `nil` for any other.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        guard let entry = KRPCKnownMethod.names.first(where: { bytes.matches(range, $0.name) }) else { return nil }
        self = entry.method
    }
}
