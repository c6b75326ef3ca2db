import Testing
import KeywayCrypto
@testable import KeywayCore

/// Issue 12, attack 9: a query from a source that has not proved its address (it could be a
/// spoofed victim's) is answered with at most `maximumAmplification` times its own size.
@Suite struct DHTAmplificationTests {
    let publisher = Endpoint(address: .v4(0xc612_0101), port: 6881)     // 198.18.1.1
    let spoofed = Endpoint(address: .v4(0xcb00_7107), port: 7777)       // 203.0.113.7
    let clientID = NodeID(bytes: [UInt8](repeating: 0x31, count: 20))!
    let owner = try! Ed25519.KeyPair(seed: [UInt8](repeating: 0x61, count: 32))

    /// A victim with 8 contacts on the internet and a stored item of `valueLength` bytes.
    func makeVictim(valueLength: Int) throws -> (DHTNode, MutableItem) {
        var victim = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 6, count: 32)), seed: 4, now: .zero)
        for n in 0..<8 {
            victim.addContact(NodeContact(id: NodeID(bytes: [UInt8](repeating: UInt8(0x10 * n + 1), count: 20))!,
                                          endpoint: Endpoint(address: .v4(0xc612_0001 | UInt32(n + 10) << 8), port: 6881)), now: .zero)
        }
        var textLength = valueLength - 2
        while textLength + String(textLength).count + 1 > valueLength { textLength -= 1 }
        let text = String(repeating: "x", count: textLength)
        let item = MutableItem.signed(by: owner, sequence: 1, encodedValue: Array("\(text.utf8.count):\(text)".utf8))
        #expect(item.encodedValue.count == valueLength)
        let first = try send(&victim, .get(id: clientID, target: item.target, sequence: nil), from: publisher)
        let token = try #require(first.response.token)
        let put = KRPCPut(id: clientID, token: token, encodedValue: item.encodedValue, publicKey: item.publicKey.bytes,
                          sequence: item.sequence, signature: item.signature)
        _ = try send(&victim, .put(put), from: publisher)
        #expect(victim.store.item(for: item.target, now: .zero) == .mutable(item))
        return (victim, item)
    }

    /// Sends `query` from `source`; returns the bytes in, the bytes out and the answer.
    func send(_ victim: inout DHTNode, _ query: KRPCQuery, from source: Endpoint) throws -> (sent: Int, received: Int, response: KRPCResponse) {
        let bytes = KRPCMessage(transactionID: [0x61, 0x61], body: .query(query)).encoded()
        victim.handleDatagram(bytes, from: source, now: .zero)
        var answer: (Int, KRPCResponse)?
        while let datagram = victim.pollTransmit() {
            guard datagram.endpoint == source, let message = try? KRPCMessage.decode(datagram.payload),
                  case let .response(response) = message.body else { continue }
            answer = (datagram.payload.count, response)
        }
        let (received, response) = try #require(answer)
        return (bytes.count, received, response)
    }

    /// Attack 9 as filed: a `get` of a stored 1,000-byte item from a source that never answered
    /// us and never presented a token gets at most 3x its size: no value, but `seq`, the token
    /// and as many nodes as fit, so a getter learns the item is here.
    @Test func anUnverifiedGetOfALargeItemIsNotAmplified() throws {
        var (victim, item) = try makeVictim(valueLength: 1000)
        let cutBefore = victim.statistics.answersCutForAmplification
        let result = try send(&victim, .get(id: clientID, target: item.target, sequence: nil), from: spoofed)
        #expect(Double(result.received) <= Double(result.sent) * DHTConfiguration().maximumAmplification,
                "\(result.sent) B in, \(result.received) B out")
        #expect(result.response.encodedValue == nil)
        #expect(result.response.sequence == 1)
        #expect(result.response.token != nil)
        #expect(victim.statistics.answersCutForAmplification == cutBefore + 1)
    }

    /// A keyway resolver pads its `get` (``DHTConfiguration/getQueryPaddedSize``), so even a
    /// responder that has not verified it answers with the whole 1,000-byte item, and still
    /// within the limit. Without the padding the resolver would learn only that the item exists.
    @Test func aPaddedGetFromAnUnverifiedResolverGetsTheWholeItem() throws {
        var (victim, item) = try makeVictim(valueLength: 1000)
        var resolver = DHTNode(keyPair: try Ed25519.KeyPair(seed: [UInt8](repeating: 9, count: 32)), seed: 8, now: .zero)
        resolver.addContact(NodeContact(id: victim.id, endpoint: publisher), now: .zero)
        _ = resolver.getItem(publicKey: owner.publicKey, salt: [], now: .zero)
        var query: [UInt8]?
        while query == nil, let datagram = resolver.pollTransmit() {
            if datagram.endpoint == publisher, case .query(.get)? = try? KRPCMessage.decode(datagram.payload).body { query = datagram.payload }
        }
        let sent = try #require(query)
        #expect(sent.count >= DHTConfiguration().getQueryPaddedSize)
        victim.handleDatagram(sent, from: spoofed, now: .zero)
        var answer: [UInt8]?
        while let datagram = victim.pollTransmit() {
            if datagram.endpoint == spoofed { answer = datagram.payload }
        }
        let received = try #require(answer)
        guard case let .response(response) = try KRPCMessage.decode(received).body else { Issue.record("not a response"); return }
        #expect(response.encodedValue == item.encodedValue)
        #expect(Double(received.count) <= Double(sent.count) * DHTConfiguration().maximumAmplification)
    }

    /// find_node and get_peers from an unverified source stay within the limit too.
    @Test func unverifiedFindNodeAndGetPeersStayWithinTheLimit() throws {
        var (victim, _) = try makeVictim(valueLength: 100)
        let limit = DHTConfiguration().maximumAmplification
        let find = try send(&victim, .findNode(id: clientID, target: clientID), from: spoofed)
        #expect(Double(find.received) <= Double(find.sent) * limit)
        #expect(find.response.nodes?.isEmpty == false)
        let peers = try send(&victim, .getPeers(id: clientID, infoHash: clientID), from: spoofed)
        #expect(Double(peers.received) <= Double(peers.sent) * limit)
    }

    /// A source that presented a valid write token has proved its address: it gets everything.
    @Test func aSourceThatPresentedATokenGetsTheValue() throws {
        var (victim, item) = try makeVictim(valueLength: 1000)
        let result = try send(&victim, .get(id: clientID, target: item.target, sequence: nil), from: publisher)
        #expect(result.response.encodedValue == item.encodedValue)
        #expect(result.response.nodes?.count == 8)
    }

    /// A node that answered our query from that endpoint is verified too.
    @Test func aContactThatAnsweredUsGetsTheValue() throws {
        var (victim, item) = try makeVictim(valueLength: 1000)
        let contact = Endpoint(address: .v4(0xc612_0001 | 10 << 8), port: 6881)
        victim.findNode(target: NodeID(bytes: [UInt8](repeating: 0x01, count: 20))!, now: .zero)
        var replies: [[UInt8]] = []
        while let datagram = victim.pollTransmit() {
            guard datagram.endpoint == contact, let message = try? KRPCMessage.decode(datagram.payload) else { continue }
            replies.append(KRPCMessage(transactionID: message.transactionID, body: .response(KRPCResponse(id: NodeID(bytes: [UInt8](repeating: 0x01, count: 20))!, nodes: []))).encoded())
        }
        #expect(!replies.isEmpty)
        for reply in replies { victim.handleDatagram(reply, from: contact, now: .zero) }
        let result = try send(&victim, .get(id: clientID, target: item.target, sequence: nil), from: contact)
        #expect(result.response.encodedValue == item.encodedValue)
    }

    /// A small value fits when the nodes are trimmed: the unverified getter gets the value.
    @Test func aSmallValueIsKeptAndNodesTrimmed() throws {
        var (victim, item) = try makeVictim(valueLength: 40)
        let result = try send(&victim, .get(id: clientID, target: item.target, sequence: nil), from: spoofed)
        #expect(Double(result.received) <= Double(result.sent) * DHTConfiguration().maximumAmplification)
        #expect(result.response.encodedValue == item.encodedValue)
        #expect((result.response.nodes?.count ?? 0) < 8)
    }
}
