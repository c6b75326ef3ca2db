/// The first pass of KRPC decoding: one walk over the datagram that validates all of its
/// bencode and notes where each field the decoder knows lies, copying nothing.
///
/// Which fields are required depends on `y` and `q`, which a sorted dictionary puts after
/// `a`, so the pass cannot interpret as it goes; ``KRPCMessage/decode(_:limits:)`` does that
/// afterwards from these positions. Unknown keys are validated and skipped.
///
/// The fields of `a` and `r` share one ``bodyFields``: a message carries one or the other, and
/// one set keeps this struct small. A message with both as
/// dictionaries is ambiguous; ``hasBothBodies`` lets the decoder call it malformed.
struct KRPCRawMessage {
    /// `t`.
    var transactionID = KRPCRawField()
    /// `y`.
    var messageType = KRPCRawField()
    /// `q`.
    var method = KRPCRawField()
    /// `a`; its fields are in ``bodyFields`` when it is a dictionary.
    var arguments = KRPCRawField()
    /// `r`; its fields are in ``bodyFields`` when it is a dictionary.
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
    /// The fields of `a` or `r`, whichever is a dictionary.
    var bodyFields = KRPCRawBodyFields()
    /// Whether ``bodyFields`` has been filled.
    var hasBodyFields = false
    /// Whether `a` and `r` are both dictionaries (only the first one's fields were kept).
    var hasBothBodies = false
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

/// One value as the first pass found it: its kind and where it lies (24 bytes).
struct KRPCRawField {
    /// The kind of value, or `absent` when the key did not appear.
    enum Kind: UInt8 {
        case absent, integer, bytes, list, dictionary
    }

    /// The value's kind.
    private(set) var kind = Kind.absent
    // The range's bounds; an integer keeps its value in `first` instead.
    private var first: Int64 = 0
    private var second: Int64 = 0

    /// An absent field.
    init() {}

    /// A field of `kind` that lies in `range`.
    init(kind: Kind, range: Range<Int>) {
        self.kind = kind
        first = Int64(range.lowerBound)
        second = Int64(range.upperBound)
    }

    /// An integer field.
    init(integer: Int64) {
        kind = .integer
        first = integer
    }

    /// For a byte string, its contents; for a list or dictionary, the whole encoded value.
    var range: Range<Int> {
        let lower = Int(truncatingIfNeeded: first)
        return lower..<max(lower, Int(truncatingIfNeeded: second))
    }

    /// For an integer, its value.
    var integer: Int64 { first }
}

extension BencodeReader {
    /// Reads the KRPC dictionary at `position` into `message`, a fresh ``KRPCRawMessage``
    /// (filled in place: it is large enough that returning it would cost a copy).
    mutating func readKRPCMessage(into message: inout KRPCRawMessage) throws(BencodeError) {
        guard try peekKind() == .dictionary else { throw .invalidValueStart(offset: position) }
        var state = try beginDictionary()
        while let key = try nextKey(&state) {
            switch KRPCTopLevelKey(bytes, key) {
            case .transactionID: message.transactionID = try readField()
            case .messageType: message.messageType = try readField()
            case .method: message.method = try readField()
            case .arguments: message.arguments = try readBody(into: &message)
            case .response: message.response = try readBody(into: &message)
            case .error: message.error = try readErrorList(into: &message)
            case .clientVersion: message.clientVersion = try readField()
            case .observedEndpoint: message.observedEndpoint = try readField()
            case .readOnly: message.readOnly = try readField()
            case nil: _ = try skipValue()
            }
        }
    }

    /// Reads any value as a field: integers and strings are located, containers skipped.
    private mutating func readField() throws(BencodeError) -> KRPCRawField {
        switch try peekKind() {
        case .integer: return KRPCRawField(integer: try readInteger())
        case .bytes: return KRPCRawField(kind: .bytes, range: try readBytes())
        case .list: return KRPCRawField(kind: .list, range: try skipValue())
        case .dictionary: return KRPCRawField(kind: .dictionary, range: try skipValue())
        }
    }

    /// Reads `a` or `r`: the first dictionary's known fields go into the message's body fields;
    /// anything else is only located.
    private mutating func readBody(into message: inout KRPCRawMessage) throws(BencodeError) -> KRPCRawField {
        guard try peekKind() == .dictionary else { return try readField() }
        guard !message.hasBodyFields else {
            message.hasBothBodies = true
            return try readField()
        }
        message.hasBodyFields = true
        return try readBodyFields(into: &message.bodyFields)
    }

    /// Reads the dictionary at `position` as the fields of `a` or `r`.
    private mutating func readBodyFields(into fields: inout KRPCRawBodyFields) throws(BencodeError) -> KRPCRawField {
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

    /// The key whose name is the bytes in `range`, or `nil` for an unknown key. Dispatches on
    /// length and first byte, then confirms the rest: this runs for every key of every datagram.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        guard let start = range.first else { return nil }
        switch (range.count, bytes[start]) {
        case (1, UInt8(ascii: "a")): self = .arguments
        case (1, UInt8(ascii: "e")): self = .error
        case (1, UInt8(ascii: "q")): self = .method
        case (1, UInt8(ascii: "r")): self = .response
        case (1, UInt8(ascii: "t")): self = .transactionID
        case (1, UInt8(ascii: "v")): self = .clientVersion
        case (1, UInt8(ascii: "y")): self = .messageType
        case (2, UInt8(ascii: "i")) where bytes.matches(range, "ip"): self = .observedEndpoint
        case (2, UInt8(ascii: "r")) where bytes.matches(range, "ro"): self = .readOnly
        default: return nil
        }
    }
}

/// The keys of `a` and `r` the decoder reads.
enum KRPCBodyKey {
    case id, target, infoHash, port, impliedPort, token, value, publicKey, salt, sequence, signature, cas, nodes, nodes6, values, responderPort

    /// The key whose name is the bytes in `range`, or `nil` for an unknown key. Dispatches on
    /// length and first byte, then confirms the rest: this runs for every key of every datagram.
    init?(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        guard let start = range.first else { return nil }
        let key: KRPCBodyKey, name: StaticString
        switch (range.count, bytes[start]) {
        case (1, UInt8(ascii: "v")): (key, name) = (.value, "v")
        case (1, UInt8(ascii: "k")): (key, name) = (.publicKey, "k")
        case (1, UInt8(ascii: "p")): (key, name) = (.responderPort, "p")
        case (2, UInt8(ascii: "i")): (key, name) = (.id, "id")
        case (3, UInt8(ascii: "c")): (key, name) = (.cas, "cas")
        case (3, UInt8(ascii: "s")):
            (key, name) = bytes[start + 2] == UInt8(ascii: "q") ? (.sequence, "seq") : (.signature, "sig")
        case (4, UInt8(ascii: "p")): (key, name) = (.port, "port")
        case (4, UInt8(ascii: "s")): (key, name) = (.salt, "salt")
        case (5, UInt8(ascii: "t")): (key, name) = (.token, "token")
        case (5, UInt8(ascii: "n")): (key, name) = (.nodes, "nodes")
        case (6, UInt8(ascii: "t")): (key, name) = (.target, "target")
        case (6, UInt8(ascii: "n")): (key, name) = (.nodes6, "nodes6")
        case (6, UInt8(ascii: "v")): (key, name) = (.values, "values")
        case (9, UInt8(ascii: "i")): (key, name) = (.infoHash, "info_hash")
        case (12, UInt8(ascii: "i")): (key, name) = (.impliedPort, "implied_port")
        default: return nil
        }
        guard bytes.matches(range, name) else { return nil }
        self = key
    }
}
