import Testing
import KeywayCrypto
@testable import KeywayCore

/// How one DHT core answers each BEP 5 and BEP 44 query, seen from the wire.
@Suite struct DHTQueryTests {
    let client = Endpoint(address: .v4(0x7f00_0002), port: 40_000)
    let clientID = NodeID(bytes: [UInt8](repeating: 0x11, count: 20))!

    func makeNode() -> DHTNode {
        DHTNode(keyPair: try! Ed25519.KeyPair(seed: [UInt8](repeating: 2, count: 32)), seed: 1, now: .zero)
    }

    /// Sends one query and returns the single reply, decoded.
    func ask(_ node: inout DHTNode, _ query: KRPCQuery, transactionID: [UInt8] = [0xab, 0xcd]) throws -> KRPCMessage {
        let bytes = KRPCMessage(transactionID: transactionID, body: .query(query)).encoded()
        node.handleDatagram(bytes, from: client, now: .zero)
        let sent = node.pollTransmit()
        let reply = try #require(sent)
        let extra = node.pollTransmit()
        #expect(extra == nil)
        #expect(reply.endpoint == client)
        let message = try KRPCMessage.decode(reply.payload)
        #expect(message.transactionID == transactionID)
        #expect(message.observedEndpoint == client, "BEP 42 ip field must echo the querier")
        return message
    }

    func response(_ message: KRPCMessage) throws -> KRPCResponse {
        guard case let .response(response) = message.body else {
            Issue.record("expected a response, got \(message.body)")
            throw KRPCError(code: 0, message: "not a response")
        }
        return response
    }

    func errorCode(_ message: KRPCMessage) -> Int? {
        if case let .error(error) = message.body { return error.code }
        return nil
    }

    @Test func answersPingAndFindNode() throws {
        var node = makeNode()
        #expect(try response(ask(&node, .ping(id: clientID))).id == node.id)
        let found = try response(ask(&node, .findNode(id: clientID, target: clientID)))
        // The querier itself was added to the table, so it is returned as the closest node.
        #expect(found.nodes == [NodeContact(id: clientID, endpoint: client)])
    }

    @Test func getPeersAndAnnouncePeerNeedAValidToken() throws {
        var node = makeNode()
        let infoHash = NodeID(bytes: [UInt8](repeating: 0x42, count: 20))!
        let first = try response(ask(&node, .getPeers(id: clientID, infoHash: infoHash)))
        let token = try #require(first.token)
        #expect(first.values == nil)
        #expect(errorCode(try ask(&node, .announcePeer(id: clientID, infoHash: infoHash, port: 7000, impliedPort: false, token: [1, 2, 3]))) == 203)
        _ = try response(ask(&node, .announcePeer(id: clientID, infoHash: infoHash, port: 7000, impliedPort: false, token: token)))
        let second = try response(ask(&node, .getPeers(id: clientID, infoHash: infoHash)))
        #expect(second.values == [Endpoint(address: client.address, port: 7000)])
    }

    @Test func storesAndServesMutableItemsPerBEP44() throws {
        var node = makeNode()
        let owner = try Ed25519.KeyPair(seed: [UInt8](repeating: 3, count: 32))
        let item = MutableItem.signed(by: owner, sequence: 4, encodedValue: Array("5:hello".utf8))
        let empty = try response(ask(&node, .get(id: clientID, target: item.target, sequence: nil)))
        #expect(empty.encodedValue == nil)
        let token = try #require(empty.token)
        func put(_ item: MutableItem, token: [UInt8], cas: Int64? = nil) -> KRPCQuery {
            .put(KRPCPut(id: clientID, token: token, encodedValue: item.encodedValue, publicKey: item.publicKey.bytes,
                         sequence: item.sequence, signature: item.signature, cas: cas))
        }
        #expect(errorCode(try ask(&node, put(item, token: [0, 0, 0, 0, 0, 0, 0, 0]))) == 203)
        var forged = item
        forged.signature[0] ^= 1
        #expect(errorCode(try ask(&node, put(forged, token: token))) == 206)
        _ = try response(ask(&node, put(item, token: token)))
        let stored = try response(ask(&node, .get(id: clientID, target: item.target, sequence: nil)))
        #expect(stored.encodedValue == item.encodedValue)
        #expect(stored.sequence == 4)
        #expect(stored.signature == item.signature)
        #expect(stored.publicKey == owner.publicKey.bytes)
        // With `seq` no older than ours, the value is left out but seq is still given.
        let unchanged = try response(ask(&node, .get(id: clientID, target: item.target, sequence: 4)))
        #expect(unchanged.encodedValue == nil)
        #expect(unchanged.sequence == 4)
        let older = MutableItem.signed(by: owner, sequence: 3, encodedValue: Array("3:old".utf8))
        #expect(errorCode(try ask(&node, put(older, token: token))) == 302)
        let newer = MutableItem.signed(by: owner, sequence: 5, encodedValue: Array("3:new".utf8))
        #expect(errorCode(try ask(&node, put(newer, token: token, cas: 1))) == 301)
    }

    @Test func storesImmutableItems() throws {
        var node = makeNode()
        let value = Array("12:Hello World!".utf8)
        let target = NodeID(bytes: SHA1.hash(value))!
        let token = try #require(try response(ask(&node, .get(id: clientID, target: target, sequence: nil))).token)
        _ = try response(ask(&node, .put(KRPCPut(id: clientID, token: token, encodedValue: value))))
        #expect(try response(ask(&node, .get(id: clientID, target: target, sequence: nil))).encodedValue == value)
    }

    @Test func unknownMethodGets204AndMalformedQueryGets203() throws {
        var node = makeNode()
        #expect(errorCode(try ask(&node, .unknown(method: Array("vote".utf8), id: clientID))) == 204)
        // find_node without a target: a query, but malformed.
        let malformed = Array("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q9:find_node1:t2:zz1:y1:qe".utf8)
        node.handleDatagram(malformed, from: client, now: .zero)
        let sent = node.pollTransmit()
        let reply = try #require(sent)
        let message = try KRPCMessage.decode(reply.payload)
        #expect(errorCode(message) == 203)
        #expect(message.transactionID == Array("zz".utf8))
    }

    @Test func garbageAndUnsolicitedResponsesAreDroppedSilently() throws {
        var node = makeNode()
        for garbage in [[UInt8](), [0x64], Array("hello".utf8), [UInt8](repeating: 0xff, count: 300)] {
            node.handleDatagram(garbage, from: client, now: .zero)
        }
        let unsolicited = KRPCMessage(transactionID: [9, 9], body: .response(KRPCResponse(id: clientID))).encoded()
        node.handleDatagram(unsolicited, from: client, now: .zero)
        let replies = node.pollTransmit()
        #expect(replies == nil)
        #expect(node.statistics.datagramsDropped == 5)
        #expect(node.routingTable.count == 0)
    }

    @Test func responsesFromAnotherEndpointAreIgnored() throws {
        var node = makeNode()
        node.bootstrap(seeds: [DHTSeed(endpoint: client)], now: .zero)
        let sentQuery = node.pollTransmit()
        let query = try #require(sentQuery)
        let sent = try KRPCMessage.decode(query.payload)
        let spoofed = KRPCMessage(transactionID: sent.transactionID, body: .response(KRPCResponse(id: clientID))).encoded()
        node.handleDatagram(spoofed, from: Endpoint(address: .v4(0x7f00_0009), port: 40_000), now: .zero)
        #expect(node.routingTable.count == 0)
        node.handleDatagram(spoofed, from: client, now: .zero)
        #expect(node.routingTable.count == 1)
    }
    /// An unknown method's name is echoed in error 204 only up to
    /// ``DHTConfiguration/unknownMethodEchoLength`` bytes, however long the query made it.
    @Test(arguments: [32, 8])
    func unknownMethodNamesAreEchoedOnlyInPart(limit: Int) throws {
        var configuration = DHTConfiguration()
        configuration.unknownMethodEchoLength = limit
        var node = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 2, count: 32)), configuration: configuration, seed: 1, now: .zero)
        let name = String(repeating: "x", count: 600)
        let query = Array("d1:ad2:id20:\(String(repeating: "a", count: 20))e1:q\(name.utf8.count):\(name)1:t2:ab1:y1:qe".utf8)
        node.handleDatagram(query, from: client, now: .zero)
        let sent = node.pollTransmit()
        let reply = try #require(sent)
        let message = try KRPCMessage.decode(reply.payload)
        guard case let .error(error) = message.body else {
            Issue.record("expected error 204, got \(message.body)")
            return
        }
        #expect(error.code == DHTSpec.ErrorCode.methodUnknown)
        #expect(error.message == "method unknown: " + String(repeating: "x", count: limit))
    }
}

@Suite struct QueryRateLimitTests {
    @Test func aFloodingSourceIsCutOffWhileOthersAreStillAnswered() throws {
        var configuration = DHTConfiguration()
        configuration.inboundQueryRatePerSource = 10
        configuration.inboundQueryBurstPerSource = 20
        var node = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 2, count: 32)), configuration: configuration, seed: 1, now: .zero)
        let flooder = Endpoint(address: .v4(0x7f00_0002), port: 1)
        let honest = Endpoint(address: .v4(0x7f00_0002), port: 2)
        func ping(from source: Endpoint) -> [UInt8] {
            KRPCMessage(transactionID: [1, 1], body: .query(.ping(id: NodeID(bytes: [UInt8](repeating: UInt8(source.port), count: 20))!))).encoded()
        }
        func answers(from source: Endpoint, count: Int, at now: Instant) -> Int {
            for _ in 0..<count { node.handleDatagram(ping(from: source), from: source, now: now) }
            var replies = 0
            while node.pollTransmit() != nil { replies += 1 }
            return replies
        }
        #expect(answers(from: flooder, count: 1000, at: .zero) == 20)
        #expect(answers(from: honest, count: 5, at: .zero) == 5)
        #expect(node.statistics.queriesRateLimited == 980)
        // One second later the flooder has earned 10 more answers, no more.
        #expect(answers(from: flooder, count: 1000, at: .zero + .seconds(1)) == 10)
    }

    @Test func trackedSourcesStayBounded() throws {
        var configuration = DHTConfiguration()
        configuration.rateLimitedSourceLimit = 64
        var limiter = QueryRateLimiter(configuration: configuration)
        var admitted = 0
        // 1,000 sources in 1,000 /24s: the table stays at 64, and newcomers are admitted by
        // forgetting the source heard from longest ago.
        for n in 0..<1000 where limiter.admit(Endpoint(address: .v4(UInt32(n) << 8), port: 1), now: .zero) { admitted += 1 }
        #expect(limiter.trackedSources == 64)
        #expect(admitted == 1000)
    }

    @Test func zeroRateTurnsLimitingOff() {
        var configuration = DHTConfiguration()
        configuration.inboundQueryRatePerSource = 0
        var limiter = QueryRateLimiter(configuration: configuration)
        let source = Endpoint(address: .v4(1), port: 1)
        #expect((0..<10_000).allSatisfy { _ in limiter.admit(source, now: .zero) })
    }

}
