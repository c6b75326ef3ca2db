/// A KRPC message (BEP 5): one bencoded dictionary in one UDP datagram.
///
/// Parsing lives in `KRPCDecoder.swift`, serialisation in `KRPCEncoder.swift`. Unknown keys are
/// ignored on input, as BEP 5 requires; the fields modelled here are every field of BEP 5, BEP 32
/// (`nodes6`), BEP 42 (`ip`), BEP 43 (`ro`) and BEP 44, plus libtorrent's `p` in responses, so a
/// message from libtorrent re-encodes to the same bytes.
public struct KRPCMessage: Equatable, Sendable {
    /// `t`: the transaction ID the querier chose; a response or error echoes it.
    public var transactionID: [UInt8]
    /// `y` with `q`/`a`, `r` or `e`.
    public var body: Body
    /// `v`: the sender's client version (BEP 5 recommends 2 letters and 2 version bytes).
    public var clientVersion: [UInt8]?
    /// `ip` (BEP 42): in a response, the querier's address as the responder saw it.
    public var observedEndpoint: Endpoint?
    /// `ro` (BEP 43): the querier is read-only and must not be added to routing tables.
    public var readOnly: Bool
    /// `pad` (keyway): this many zero bytes, which every reader ignores. A querier pads a `get`
    /// so that a responder that has not verified the querier's address may still answer with
    /// the whole item: answers to unverified sources are at most
    /// ``DHTConfiguration/maximumAmplification`` times the query (QUIC pads its first packets for
    /// the same reason). Decoding does not keep it (it is 0 in a decoded message).
    public var padding: Int

    /// What a message carries.
    public enum Body: Equatable, Sendable {
        /// `y = q`.
        case query(KRPCQuery)
        /// `y = r`.
        case response(KRPCResponse)
        /// `y = e`.
        case error(KRPCError)
    }

    /// A message from its parts.
    public init(
        transactionID: [UInt8], body: Body, clientVersion: [UInt8]? = nil, observedEndpoint: Endpoint? = nil, readOnly: Bool = false,
        padding: Int = 0
    ) {
        self.transactionID = transactionID
        self.body = body
        self.clientVersion = clientVersion
        self.observedEndpoint = observedEndpoint
        self.readOnly = readOnly
        self.padding = max(0, padding)
    }
}

/// A node's ID with the endpoint it can be reached at ("compact node info" on the wire).
public struct NodeContact: Hashable, Sendable {
    /// The node's routing ID.
    public var id: NodeID
    /// Where it receives datagrams.
    public var endpoint: Endpoint

    /// A contact from its parts.
    public init(id: NodeID, endpoint: Endpoint) {
        self.id = id
        self.endpoint = endpoint
    }
}

/// A KRPC query (`y = q`): the method (`q`) with its arguments (`a`).
public enum KRPCQuery: Equatable, Sendable {
    /// `ping`: are you there?
    case ping(id: NodeID)
    /// `find_node`: the closest nodes you know to `target`.
    case findNode(id: NodeID, target: NodeID)
    /// `get_peers`: peers for `infoHash`, or the closest nodes to it, and a token.
    case getPeers(id: NodeID, infoHash: NodeID)
    /// `announce_peer`: the querier serves `infoHash` on `port` (or on its source port when
    /// `impliedPort` is set); `token` must come from an earlier `get_peers` reply.
    case announcePeer(id: NodeID, infoHash: NodeID, port: UInt16, impliedPort: Bool, token: [UInt8])
    /// BEP 44 `get`: the item stored under `target`. `sequence` (optional) asks the responder to
    /// leave out `v` unless its item is newer.
    case get(id: NodeID, target: NodeID, sequence: Int64?)
    /// BEP 44 `put`.
    case put(KRPCPut)
    /// Any other method, kept so the node can answer error 204 with the right transaction ID.
    case unknown(method: [UInt8], id: NodeID?)

    /// The querier's ID (`a.id`), when the query carried a valid one.
    public var senderID: NodeID? {
        switch self {
        case let .ping(id), let .findNode(id, _), let .getPeers(id, _), let .announcePeer(id, _, _, _, _), let .get(id, _, _):
            return id
        case let .put(put): return put.id
        case let .unknown(_, id): return id
        }
    }

    /// The method name as sent in `q`.
    public var methodName: String {
        switch self {
        case .ping: return "ping"
        case .findNode: return "find_node"
        case .getPeers: return "get_peers"
        case .announcePeer: return "announce_peer"
        case .get: return "get"
        case .put: return "put"
        case let .unknown(method, _): return String(decoding: method, as: UTF8.self)
        }
    }
}

/// The arguments of a BEP 44 `put`. Mutable puts carry `k`, `seq` and `sig` (and optionally
/// `salt` and `cas`); an immutable put carries only `v`. Field checks (key and signature length,
/// sizes, the signature itself) happen in the DHT core, which answers with BEP 44's error codes.
public struct KRPCPut: Equatable, Sendable {
    /// `id`: the querier's ID.
    public var id: NodeID
    /// `token`: from an earlier `get` reply by the same node.
    public var token: [UInt8]
    /// `v` exactly as it was bencoded on the wire.
    public var encodedValue: [UInt8]
    /// `k`: the public key (mutable puts only).
    public var publicKey: [UInt8]?
    /// `salt` (mutable puts only; `nil` when absent).
    public var salt: [UInt8]?
    /// `seq` (mutable puts only).
    public var sequence: Int64?
    /// `sig` (mutable puts only).
    public var signature: [UInt8]?
    /// `cas`: store only if the current `seq` equals this.
    public var cas: Int64?

    /// A put from its fields.
    public init(id: NodeID, token: [UInt8], encodedValue: [UInt8], publicKey: [UInt8]? = nil, salt: [UInt8]? = nil,
                sequence: Int64? = nil, signature: [UInt8]? = nil, cas: Int64? = nil) {
        self.id = id
        self.token = token
        self.encodedValue = encodedValue
        self.publicKey = publicKey
        self.salt = salt
        self.sequence = sequence
        self.signature = signature
        self.cas = cas
    }
}

/// A KRPC response (`y = r`). Responses do not name their method, so every field a BEP defines
/// for any response is optional here; the querier knows from the transaction what to expect.
public struct KRPCResponse: Equatable, Sendable {
    /// `id`: the responder's ID.
    public var id: NodeID
    /// `nodes`: compact IPv4 node infos (`nil` when absent, empty when sent empty).
    public var nodes: [NodeContact]?
    /// `nodes6` (BEP 32): compact IPv6 node infos.
    public var nodes6: [NodeContact]?
    /// `token`: for a later `announce_peer` or `put`.
    public var token: [UInt8]?
    /// `values`: compact peer endpoints from `get_peers`.
    public var values: [Endpoint]?
    /// BEP 44 `v`, exactly as bencoded on the wire.
    public var encodedValue: [UInt8]?
    /// BEP 44 `k`.
    public var publicKey: [UInt8]?
    /// BEP 44 `seq`.
    public var sequence: Int64?
    /// BEP 44 `sig`.
    public var signature: [UInt8]?
    /// libtorrent's `p`: the querier's source port as the responder saw it.
    public var port: Int64?

    /// A response carrying only the responder's ID; set the other fields as needed.
    public init(id: NodeID, nodes: [NodeContact]? = nil, nodes6: [NodeContact]? = nil, token: [UInt8]? = nil,
                values: [Endpoint]? = nil, encodedValue: [UInt8]? = nil, publicKey: [UInt8]? = nil,
                sequence: Int64? = nil, signature: [UInt8]? = nil, port: Int64? = nil) {
        self.id = id
        self.nodes = nodes
        self.nodes6 = nodes6
        self.token = token
        self.values = values
        self.encodedValue = encodedValue
        self.publicKey = publicKey
        self.sequence = sequence
        self.signature = signature
        self.port = port
    }
}

/// A KRPC error (`y = e`): `e` is a list of an integer code and a message.
public struct KRPCError: Equatable, Sendable, Error {
    /// One of ``DHTSpec/ErrorCode``, or any other number a peer sent.
    public var code: Int
    /// The human-readable message.
    public var message: String

    /// An error from its parts.
    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }
}

/// Why a datagram is not a KRPC message we can act on.
public enum KRPCDecodingError: Error, Equatable, Sendable {
    /// Not a bencoded dictionary at all (or broken bencode); the datagram is dropped silently.
    case notKRPC(reason: String)
    /// A dictionary with a transaction ID but missing or ill-typed fields; a query in this
    /// state is answered with error 203 carrying `transactionID`.
    case malformed(transactionID: [UInt8], isQuery: Bool, reason: String)
}
