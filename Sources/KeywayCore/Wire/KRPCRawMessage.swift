/// The first pass of KRPC decoding: one walk over the datagram that validates all of its
/// bencode and notes where each field the decoder knows lies, copying nothing.
///
/// Which fields are required depends on `y` and `q`, which a sorted dictionary puts after
/// `a`, so the pass cannot interpret as it goes; ``KRPCMessage/decode(_:limits:)`` does that
/// afterwards from these positions. Unknown keys are validated and skipped.
struct KRPCRawMessage {
    /// `t`.
    var transactionID = KRPCRawField()
    /// `y`.
    var messageType = KRPCRawField()
    /// `q`.
    var method = KRPCRawField()
    /// `a`; its fields are in ``argumentFields`` when it is a dictionary.
    var arguments = KRPCRawField()
    /// `r`; its fields are in ``responseFields`` when it is a dictionary.
    var response = KRPCRawField()
    /// `e`; its first two elements are in ``errorCode`` and ``errorMessage`` when it is a list.
    var error = KRPCRawField()
    /// `e[0]`.
    var errorCode = KRPCRawField()
    /// `e[1]`.
    var errorMessage = KRPCRawField()
    /// `v` (top level: the client version).
    var clientVersion = KRPCRawField()
    /// `ip`.
    var observedEndpoint = KRPCRawField()
    /// `ro`.
    var readOnly = KRPCRawField()
    /// The fields of `a`.
    var argumentFields = KRPCRawBodyFields()
    /// The fields of `r`.
    var responseFields = KRPCRawBodyFields()
}

/// The fields of `a` or `r` the decoder knows (queries and responses share most names).
struct KRPCRawBodyFields {
    var id = KRPCRawField()
    var target = KRPCRawField()
    var infoHash = KRPCRawField()
    var port = KRPCRawField()
    var impliedPort = KRPCRawField()
    var token = KRPCRawField()
    /// BEP 44 `v`. Unlike other fields its range is the whole encoded value, whatever its kind.
    var value = KRPCRawField()
    var publicKey = KRPCRawField()
    var salt = KRPCRawField()
    var sequence = KRPCRawField()
    var signature = KRPCRawField()
    var cas = KRPCRawField()
    var nodes = KRPCRawField()
    var nodes6 = KRPCRawField()
    /// `values`; the entries of 6 or 18 bytes are in ``peers``.
    var values = KRPCRawField()
    var peers: [Endpoint] = []
    /// libtorrent's `p`.
    var responderPort = KRPCRawField()
}

/// One value as the first pass found it: its kind and where it lies.
struct KRPCRawField {
    /// The kind of value, or `absent` when the key did not appear.
    enum Kind {
        case absent, integer, bytes, list, dictionary
    }

    /// The value's kind.
    var kind = Kind.absent
    /// For a byte string, its contents; for any other kind, the whole encoded value.
    var range: Range<Int> = 0..<0
    /// For an integer, its value.
    var integer: Int64 = 0
}

extension BencodeReader {
    /// Reads the KRPC dictionary at `position` (the caller has checked it starts with `d`).
    mutating func readKRPCMessage() throws(BencodeError) -> KRPCRawMessage {
        var message = KRPCRawMessage()
        var state = try beginDictionary()
        while let key = try nextKey(&state) {
            switch KRPCTopLevelKey(bytes, key) {
            case .transactionID: message.transactionID = try readField()
            case .messageType: message.messageType = try readField()
            case .method: message.method = try readField()
            case .arguments: message.arguments = try readBodyFields(into: &message.argumentFields)
            case .response: message.response = try readBodyFields(into: &message.responseFields)
            case .error: message.error = try readErrorList(into: &message)
            case .clientVersion: message.clientVersion = try readField()
            case .observedEndpoint: message.observedEndpoint = try readField()
            case .readOnly: message.readOnly = try readField()
            case nil: _ = try skipValue()
            }
        }
        return message
    }

    /// Reads any value as a field: integers and strings are located, containers skipped.
    private mutating func readField() throws(BencodeError) -> KRPCRawField {
        switch try peekKind() {
        case .integer: return KRPCRawField(kind: .integer, integer: try readInteger())
        case .bytes: return KRPCRawField(kind: .bytes, range: try readBytes())
        case .list: return KRPCRawField(kind: .list, range: try skipValue())
        case .dictionary: return KRPCRawField(kind: .dictionary, range: try skipValue())
        }
    }

    /// Reads `a` or `r`: a dictionary's known fields go into `fields`; any other kind of value
    /// is only located.
    private mutating func readBodyFields(into fields: inout KRPCRawBodyFields) throws(BencodeError) -> KRPCRawField {
        guard try peekKind() == .dictionary else { return try readField() }
        let start = position
        var state = try beginDictionary()
        while let key = try nextKey(&state) {
            switch KRPCBodyKey(bytes, key) {
            case .id: fields.id = try readField()
            case .target: fields.target = try readField()
            case .infoHash: fields.infoHash = try readField()
            case .port: fields.port = try readField()
            case .impliedPort: fields.impliedPort = try readField()
            case .token: fields.token = try readField()
            case .value:
                let kind = try readField().kind  // located, then recorded with its whole range
                fields.value = KRPCRawField(kind: kind, range: key.upperBound..<position)
            case .publicKey: fields.publicKey = try readField()
            case .salt: fields.salt = try readField()
            case .sequence: fields.sequence = try readField()
            case .signature: fields.signature = try readField()
            case .cas: fields.cas = try readField()
            case .nodes: fields.nodes = try readField()
            case .nodes6: fields.nodes6 = try readField()
            case .values: fields.values = try readPeerList(into: &fields.peers)
            case .responderPort: fields.responderPort = try readField()
            case nil: _ = try skipValue()
            }
        }
        return KRPCRawField(kind: .dictionary, range: start..<position)
    }

    /// Reads `values`: every string of 6 or 18 bytes in the list becomes a peer; any other
    /// element is skipped, as is a `values` that is not a list (the decoder then refuses it).
    private mutating func readPeerList(into peers: inout [Endpoint]) throws(BencodeError) -> KRPCRawField {
        guard try peekKind() == .list else { return try readField() }
        let start = position
        try enterContainer()
        while try listHasNext() {
            if try peekKind() == .bytes {
                if let peer = Endpoint(compactIn: bytes, range: try readBytes()) { peers.append(peer) }
            } else {
                _ = try skipValue()
            }
        }
        return KRPCRawField(kind: .list, range: start..<position)
    }

    /// Reads `e`: the first two elements of a list go into the message; any further ones, or a
    /// value that is not a list, are only located.
    private mutating func readErrorList(into message: inout KRPCRawMessage) throws(BencodeError) -> KRPCRawField {
        guard try peekKind() == .list else { return try readField() }
        let start = position
        try enterContainer()
        if try listHasNext() {
            message.errorCode = try readField()
            if try listHasNext() {
                message.errorMessage = try readField()
                while try listHasNext() { _ = try skipValue() }
            }
        }
        return KRPCRawField(kind: .list, range: start..<position)
    }
}

/// The top-level keys of a KRPC message the decoder reads.
enum KRPCTopLevelKey {
    case arguments, error, observedEndpoint, method, response, readOnly, transactionID, clientVersion, messageType

    private static let names: [(name: StaticString, key: KRPCTopLevelKey)] = [
        ("a", .arguments), ("e", .error), ("ip", .observedEndpoint), ("q", .method), ("r", .response),
        ("ro", .readOnly), ("t", .transactionID), ("v", .clientVersion), ("y", .messageType),
    ]

    /// The key whose name is the bytes in `range`, or `nil` for an unknown key.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        guard let entry = KRPCTopLevelKey.names.first(where: { bytes.matches(range, $0.name) }) else { return nil }
        self = entry.key
    }
}

/// The keys of `a` and `r` the decoder reads.
enum KRPCBodyKey {
    case id, target, infoHash, port, impliedPort, token, value, publicKey, salt, sequence, signature, cas, nodes, nodes6, values, responderPort

    private static let names: [(name: StaticString, key: KRPCBodyKey)] = [
        ("id", .id), ("target", .target), ("info_hash", .infoHash), ("port", .port), ("implied_port", .impliedPort),
        ("token", .token), ("v", .value), ("k", .publicKey), ("salt", .salt), ("seq", .sequence), ("sig", .signature),
        ("cas", .cas), ("nodes", .nodes), ("nodes6", .nodes6), ("values", .values), ("p", .responderPort),
    ]

    /// The key whose name is the bytes in `range`, or `nil` for an unknown key.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        guard let entry = KRPCBodyKey.names.first(where: { bytes.matches(range, $0.name) }) else { return nil }
        self = entry.key
    }
}
