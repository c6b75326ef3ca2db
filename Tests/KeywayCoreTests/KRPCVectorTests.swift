import Testing
import KeywayCrypto
@testable import KeywayCore

/// The real libtorrent 2.0.8 captures decode to what their README says, and re-encode byte for
/// byte.
@Suite struct KRPCVectorTests {
    private static let libtorrentVersion: [UInt8] = [0x4c, 0x54, 0x02, 0x08]  // "LT" 2.0.8
    private static let libtorrentID = id("4130f0c3122a6f0fbb5af8f24844ec6a96a396ed")
    private static let secondLibtorrentID = id("8b10384b20b6821818fab00276f801092609540d")
    private static let testClientID = id("a949c530710f9fca76b45776267c68967fa891e7")
    private static let itemTarget = id("9004ad4800d70cf5d984405aa490a9a5ccd9030c")
    private static let itemKey = [UInt8](hex: "f46a65628ccf9bd78d52b02698573e39c9c76cd1f98596aa981a79d696b64c5d")!
    private static let itemSignature = [UInt8](hex: "c07b0dfe80107d94f18a7706c591392ab2f1500bd329e85ec8efa3b7801ab3ccf576c6187bfdb45af84c24d71bd548067b5707422b768eab9d9f138e7dfd470d")!
    private static let itemEncodedValue = Array("32:hello from libtorrent 1795300742".utf8)
    private static let loopback = IPAddress.v4(0x7f00_0001)

    private static func id(_ hex: String) -> NodeID { NodeID(bytes: [UInt8](hex: hex)!)! }

    private func decode(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> KRPCMessage {
        try KRPCMessage.decode(KRPCTestVectors.bytes(name, sourceLocation: sourceLocation))
    }

    @Test(arguments: KRPCTestVectors.names)
    func reencodesByteForByte(name: String) throws {
        let bytes = KRPCTestVectors.bytes(name)
        let message = try KRPCMessage.decode(bytes)
        #expect(message.encoded() == bytes)
        #expect(try KRPCMessage.decode(message.encoded()) == message)
        // The tree decoder accepts every capture too, and it is canonical.
        #expect(try BencodeValue.decode(bytes).encoded() == bytes)
    }

    @Test func queriesAndResponsesPairByTransactionID() throws {
        for method in ["ping", "find_node", "get_peers", "get", "get_with_value", "put"] {
            let query = try decode("\(method)_query"), response = try decode("\(method)_response")
            #expect(query.transactionID == response.transactionID, "\(method)")
            #expect(query.transactionID.count == 2)
            guard case .query = query.body, case .response = response.body else {
                Issue.record("\(method): expected a query and a response")
                continue
            }
        }
    }

    @Test func ping() throws {
        let query = try decode("ping_query")
        #expect(query == KRPCMessage(transactionID: Array("p1".utf8), body: .query(.ping(id: Self.testClientID))))
        #expect(query.clientVersion == nil)

        let response = try decode("ping_response")
        #expect(response.clientVersion == Self.libtorrentVersion)
        #expect(response.observedEndpoint == Endpoint(address: Self.loopback, port: 60746))
        #expect(response.readOnly == false)
        #expect(response.body == .response(KRPCResponse(id: Self.libtorrentID, port: 60746)))
    }

    @Test func findNode() throws {
        let query = try decode("find_node_query")
        #expect(query.body == .query(.findNode(id: Self.testClientID, target: NodeID(bytes: SHA1.hash(Array("x".utf8)))!)))

        guard case let .response(response) = try decode("find_node_response").body else {
            Issue.record("not a response")
            return
        }
        let nodes = try #require(response.nodes)
        #expect(nodes.count == 8)
        #expect(nodes.allSatisfy { $0.endpoint.address == Self.loopback })
        #expect(Set(nodes.map(\.id)).count == 8)
        // The querier itself is among them, with the port libtorrent saw it on.
        #expect(nodes.contains(NodeContact(id: Self.testClientID, endpoint: Endpoint(address: Self.loopback, port: 60746))))
        #expect(response.nodes6 == nil && response.token == nil && response.values == nil)
    }

    @Test func getPeers() throws {
        let query = try decode("get_peers_query")
        #expect(query.clientVersion == Self.libtorrentVersion)
        #expect(query.body == .query(.getPeers(id: Self.id("379e045f652bd05885068fcdb27fd37d8e1500a6"), infoHash: Self.id("26cc8a29cfd6ec60f3b40e83ad71412359d6221b"))))

        let response = try decode("get_peers_response")
        #expect(response.body == .response(KRPCResponse(id: Self.libtorrentID, nodes: [], token: [0x66, 0x72, 0xbd, 0xed], port: 27807)))
        #expect(response.observedEndpoint == Endpoint(address: Self.loopback, port: 27807))
    }

    @Test func getWithoutItem() throws {
        let query = try decode("get_query")
        #expect(query.body == .query(.get(id: Self.libtorrentID, target: Self.itemTarget, sequence: nil)))
        #expect(query.transactionID == Array("Ra".utf8))

        guard case let .response(response) = try decode("get_response").body else {
            Issue.record("not a response")
            return
        }
        #expect(response.id == Self.secondLibtorrentID)
        #expect(response.token == [0x1b, 0x9f, 0x87, 0x8b])
        #expect(response.nodes?.count == 7)
        #expect(response.encodedValue == nil && response.publicKey == nil && response.sequence == nil && response.signature == nil)
    }

    @Test func getWithMutableItem() throws {
        let query = try decode("get_with_value_query")
        #expect(query.body == .query(.get(id: Self.id("379e045f652bd05885068fcdb27fd37d8e1500a6"), target: Self.itemTarget, sequence: nil)))

        guard case let .response(response) = try decode("get_with_value_response").body else {
            Issue.record("not a response")
            return
        }
        #expect(response.publicKey == Self.itemKey)
        #expect(response.sequence == 1)
        #expect(response.signature == Self.itemSignature)
        #expect(response.encodedValue == Self.itemEncodedValue)
        #expect(response.token == [0x1b, 0x9f, 0x87, 0x8b])
        #expect(response.nodes?.count == 7)
        // `v` came through exactly as signed: the item verifies (under the salt the README gives).
        let item = MutableItem(
            publicKey: try Ed25519.PublicKey(bytes: Self.itemKey), salt: Array("salt1".utf8), sequence: 1,
            encodedValue: try #require(response.encodedValue), signature: Self.itemSignature)
        #expect(item.isValid)
        #expect(item.target == Self.itemTarget)
    }

    @Test func put() throws {
        let query = try decode("put_query")
        #expect(query.transactionID == [0x4c, 0xdd])
        #expect(query.body == .query(.put(KRPCPut(
            id: Self.libtorrentID, token: [0x1b, 0x9f, 0x87, 0x8b], encodedValue: Self.itemEncodedValue,
            publicKey: Self.itemKey, salt: Array("salt1".utf8), sequence: 1, signature: Self.itemSignature, cas: nil))))

        let response = try decode("put_response")
        #expect(response.body == .response(KRPCResponse(id: Self.secondLibtorrentID, port: 27800)))
        #expect(response.observedEndpoint == Endpoint(address: Self.loopback, port: 27800))
    }
}
