import Testing
@testable import KeywayCore

private func b(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Twenty bytes of `byte`, as a wire string `20:…`.
private func id20(_ byte: Character) -> String { "20:" + String(repeating: byte, count: 20) }

private func nodeID(_ byte: Character) -> NodeID { NodeID(bytes: b(String(repeating: byte, count: 20)))! }

/// The error decoding `text` throws, or `nil` if it decodes.
private func decodeError(_ text: String) -> KRPCDecodingError? {
    decodeError(b(text))
}

private func decodeError(_ input: [UInt8]) -> KRPCDecodingError? {
    do {
        _ = try KRPCMessage.decode(input)
        return nil
    } catch {
        return error
    }
}

/// Whether `text` decodes to a `malformed` error for transaction `aa`, as a query or not.
private func isMalformed(_ text: String, isQuery: Bool) -> Bool {
    if case let .malformed(transactionID, query, _) = decodeError(text) {
        return transactionID == b("aa") && query == isQuery
    }
    return false
}

private func isNotKRPC(_ text: String) -> Bool {
    if case .notKRPC = decodeError(text) { return true }
    return false
}

/// A query `q` with arguments `args` (already encoded, sorted), transaction `aa`.
private func query(_ method: String, _ args: String) -> String {
    "d1:ad\(args)e1:q\(method.utf8.count):\(method)1:t2:aa1:y1:qe"
}

/// A response with fields `fields` (already encoded, sorted), transaction `aa`.
private func response(_ fields: String) -> String { "d1:rd\(fields)e1:t2:aa1:y1:re" }

@Suite struct KRPCRoundTripTests {
    private static let v4 = Endpoint(address: .v4(0xc0a8_0102), port: 6881)
    private static let v6 = Endpoint(address: .v6(high: 0x2001_0db8_0000_0000, low: 1), port: 443)

    private func roundTrip(_ message: KRPCMessage, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let bytes = message.encoded()
        #expect(try KRPCMessage.decode(bytes) == message, sourceLocation: sourceLocation)
        // Canonical: the bencode tree decoder re-encodes it unchanged (keys were sorted).
        #expect(try BencodeValue.decode(bytes).encoded() == bytes, sourceLocation: sourceLocation)
    }

    @Test func everyQueryKind() throws {
        let id = nodeID("i"), target = nodeID("x")
        let queries: [KRPCQuery] = [
            .ping(id: id),
            .findNode(id: id, target: target),
            .getPeers(id: id, infoHash: target),
            .announcePeer(id: id, infoHash: target, port: 6881, impliedPort: false, token: b("tok")),
            .announcePeer(id: id, infoHash: target, port: 0, impliedPort: true, token: []),
            .announcePeer(id: id, infoHash: target, port: 65535, impliedPort: false, token: b("t")),
            .get(id: id, target: target, sequence: nil),
            .get(id: id, target: target, sequence: 42),
            .put(KRPCPut(id: id, token: b("tk"), encodedValue: b("5:hello"))),
            .put(KRPCPut(id: id, token: b("tk"), encodedValue: b("d1:ali1ei-2eee"), publicKey: [UInt8](repeating: 7, count: 32),
                         salt: b("salt"), sequence: .max, signature: [UInt8](repeating: 9, count: 64), cas: .min)),
            .put(KRPCPut(id: id, token: b("tk"), encodedValue: b("i0e"), salt: [], sequence: 0)),
            .unknown(method: b("vote"), id: id),
            .unknown(method: b("sample_infohashes"), id: nil),
        ]
        for query in queries {
            try roundTrip(KRPCMessage(transactionID: b("aa"), body: .query(query)))
            try roundTrip(KRPCMessage(transactionID: [0, 0xff], body: .query(query), clientVersion: b("KW\u{0}\u{1}"), readOnly: true))
        }
    }

    @Test func responses() throws {
        let full = KRPCResponse(
            id: nodeID("r"),
            nodes: [NodeContact(id: nodeID("a"), endpoint: Self.v4), NodeContact(id: nodeID("b"), endpoint: Endpoint(address: .v4(1), port: 1))],
            nodes6: [NodeContact(id: nodeID("c"), endpoint: Self.v6)],
            token: b("token"), values: [Self.v4, Self.v6], encodedValue: b("l1:ae"),
            publicKey: [UInt8](repeating: 1, count: 32), sequence: -5, signature: [UInt8](repeating: 2, count: 64), port: 60746)
        try roundTrip(KRPCMessage(transactionID: b("aa"), body: .response(full), observedEndpoint: Self.v6))
        try roundTrip(KRPCMessage(transactionID: b("aa"), body: .response(KRPCResponse(id: nodeID("r"))), observedEndpoint: Self.v4))
        try roundTrip(KRPCMessage(transactionID: [], body: .response(KRPCResponse(id: nodeID("r"), nodes: [], nodes6: [], values: []))))
    }

    @Test func errors() throws {
        for code in [201, 202, 203, 204, 205, 206, 207, 301, 302, -1, 0] {
            try roundTrip(KRPCMessage(transactionID: b("aa"), body: .error(KRPCError(code: code, message: "A Generic Error Ocurred"))))
        }
        try roundTrip(KRPCMessage(transactionID: b("aa"), body: .error(KRPCError(code: 203, message: ""))))
        try roundTrip(KRPCMessage(transactionID: b("aa"), body: .error(KRPCError(code: 202, message: "héllo ✓"))))
    }

    @Test func encodesTheExactBytesBEP5Shows() {
        // BEP 5's own examples, with 20-byte IDs in place of its shortened ones.
        let ping = KRPCMessage(transactionID: b("aa"), body: .query(.ping(id: nodeID("a"))))
        #expect(ping.encoded() == b("d1:ad2:id\(id20("a"))e1:q4:ping1:t2:aa1:y1:qe"))
        let error = KRPCMessage(transactionID: b("aa"), body: .error(KRPCError(code: 201, message: "A Generic Error Ocurred")))
        #expect(error.encoded() == b("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee"))
        let announce = KRPCMessage(transactionID: b("aa"), body: .query(.announcePeer(
            id: nodeID("a"), infoHash: nodeID("m"), port: 6881, impliedPort: true, token: b("aoeusnth"))))
        #expect(announce.encoded() == b("d1:ad2:id\(id20("a"))12:implied_porti1e9:info_hash\(id20("m"))4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe"))
    }

    @Test func writesOptionalFieldsOnlyWhenSet() {
        let plain = KRPCMessage(transactionID: b("aa"), body: .query(.get(id: nodeID("a"), target: nodeID("b"), sequence: nil)))
        #expect(plain.encoded() == b("d1:ad2:id\(id20("a"))6:target\(id20("b"))e1:q3:get1:t2:aa1:y1:qe"))
        var readOnly = plain
        readOnly.readOnly = true
        #expect(readOnly.encoded() == b("d1:ad2:id\(id20("a"))6:target\(id20("b"))e1:q3:get2:roi1e1:t2:aa1:y1:qe"))
    }

    @Test func leavesOutContactsOfTheWrongFamily() throws {
        let mixed = NodeContact(id: nodeID("a"), endpoint: Self.v6)
        let message = KRPCMessage(transactionID: b("aa"), body: .response(KRPCResponse(id: nodeID("r"), nodes: [mixed], nodes6: [])))
        let decoded = try KRPCMessage.decode(message.encoded())
        #expect(decoded.body == .response(KRPCResponse(id: nodeID("r"), nodes: [], nodes6: [])))
    }
}

@Suite struct KRPCDecodingRuleTests {
    @Test func notADictionaryOrNoTransactionIDIsNotKRPC() {
        #expect(isNotKRPC(""))
        #expect(isNotKRPC("li1ee"))
        #expect(isNotKRPC("4:spam"))
        #expect(isNotKRPC("\u{1}noise"))
        #expect(isNotKRPC("d1:t2:aa1:y1:q"))  // truncated
        #expect(isNotKRPC("d1:t2:aa1:y1:qed"))  // trailing bytes
        #expect(isNotKRPC("d1:t2:aa1:t2:bb1:y1:qe"))  // duplicate key
        #expect(isNotKRPC("d1:y1:qe"))  // no t
        #expect(isNotKRPC("d1:ti1e1:y1:qe"))  // t not a string
        #expect(isNotKRPC(query("ping", "2:id\(id20("a"))")) == false)
    }

    @Test func honoursTheBencodeLimits() throws {
        let bytes = b(query("ping", "2:id\(id20("a"))"))
        let tight = BencodeLimits(maxDepth: 1, maxStringLength: 100, maxElementCount: 100, maxInputLength: 1000)
        #expect(throws: KRPCDecodingError.notKRPC(reason: "nesting deeper than the limit at offset 4")) {
            try KRPCMessage.decode(bytes, limits: tight)
        }
    }

    @Test func missingOrUnknownMessageTypeIsMalformed() {
        #expect(isMalformed("d1:t2:aae", isQuery: false))
        #expect(isMalformed("d1:t2:aa1:y1:xe", isQuery: false))
        #expect(isMalformed("d1:t2:aa1:yi1ee", isQuery: false))
    }

    @Test func queriesNeedMethodArgumentsAndID() {
        #expect(isMalformed("d1:t2:aa1:y1:qe", isQuery: true))  // no q
        #expect(isMalformed("d1:qi1e1:t2:aa1:y1:qe", isQuery: true))  // q not a string
        #expect(isMalformed("d1:q4:ping1:t2:aa1:y1:qe", isQuery: true))  // no a
        #expect(isMalformed("d1:ali1ee1:q4:ping1:t2:aa1:y1:qe", isQuery: true))  // a not a dictionary
        #expect(isMalformed(query("ping", ""), isQuery: true))  // no id
        #expect(isMalformed(query("ping", "2:id19:aaaaaaaaaaaaaaaaaaa"), isQuery: true))
        #expect(isMalformed(query("ping", "2:id21:aaaaaaaaaaaaaaaaaaaaa"), isQuery: true))
        #expect(isMalformed(query("ping", "2:idi1e"), isQuery: true))
    }

    @Test func targetsAndInfoHashesAreTwentyBytes() {
        let id = "2:id\(id20("a"))"
        #expect(isMalformed(query("find_node", id), isQuery: true))
        #expect(isMalformed(query("find_node", id + "6:target3:abc"), isQuery: true))
        #expect(isMalformed(query("get", id + "6:target21:aaaaaaaaaaaaaaaaaaaaa"), isQuery: true))
        #expect(isMalformed(query("get_peers", id), isQuery: true))
        #expect(isMalformed(query("get_peers", id + "9:info_hash19:aaaaaaaaaaaaaaaaaaa"), isQuery: true))
        #expect(decodeError(query("find_node", id + "6:target\(id20("b"))")) == nil)
    }

    @Test func announcePeerChecksPortImpliedPortAndToken() throws {
        func announce(_ extra: String, port: String = "4:porti6881e", token: String = "5:token2:tk") -> String {
            query("announce_peer", "2:id\(id20("a"))\(extra)9:info_hash\(id20("h"))\(port)\(token)")
        }
        #expect(decodeError(announce("")) == nil)
        #expect(isMalformed(announce("", port: ""), isQuery: true))
        #expect(isMalformed(announce("", port: "4:porti65536e"), isQuery: true))
        #expect(isMalformed(announce("", port: "4:porti-1e"), isQuery: true))
        #expect(isMalformed(announce("", port: "4:port4:6881"), isQuery: true))
        #expect(isMalformed(announce("", token: ""), isQuery: true))
        #expect(isMalformed(announce("", token: "5:tokeni1e"), isQuery: true))
        #expect(isMalformed(announce("12:implied_port1:1"), isQuery: true))
        let implied = try KRPCMessage.decode(b(announce("12:implied_porti5e", port: "4:porti65535e")))
        #expect(implied.body == .query(.announcePeer(id: nodeID("a"), infoHash: nodeID("h"), port: 65535, impliedPort: true, token: b("tk"))))
        let notImplied = try KRPCMessage.decode(b(announce("12:implied_porti0e")))
        #expect(notImplied.body == .query(.announcePeer(id: nodeID("a"), infoHash: nodeID("h"), port: 6881, impliedPort: false, token: b("tk"))))
    }

    @Test func getAndPutFields() throws {
        let id = "2:id\(id20("a"))"
        let get = try KRPCMessage.decode(b(query("get", id + "3:seqi-7e6:target\(id20("t"))")))
        #expect(get.body == .query(.get(id: nodeID("a"), target: nodeID("t"), sequence: -7)))
        #expect(isMalformed(query("get", id + "3:seq1:76:target\(id20("t"))"), isQuery: true))

        #expect(isMalformed(query("put", id + "1:v3:abc"), isQuery: true))  // no token
        #expect(isMalformed(query("put", id + "5:token2:tk"), isQuery: true))  // no v
        #expect(isMalformed(query("put", id + "1:ki1e5:token2:tk1:v3:abc"), isQuery: true))
        #expect(isMalformed(query("put", id + "4:salti1e5:token2:tk1:v3:abc"), isQuery: true))
        #expect(decodeError(query("put", id + "3:sig1:x5:token2:tk1:vi1e")) == nil)
        #expect(isMalformed(query("put", "3:cas1:x" + id + "5:token2:tk1:v3:abc"), isQuery: true))
        #expect(isMalformed(query("put", id + "3:seq1:x5:token2:tk1:v3:abc"), isQuery: true))
    }

    @Test func putKeepsVExactlyAsEncoded() throws {
        // `v` is a dictionary with unsorted keys: kept byte for byte, not canonicalised.
        let value = "d1:bi1e1:al1:xee"
        let message = try KRPCMessage.decode(b(query("put", "2:id\(id20("a"))5:token2:tk1:v\(value)")))
        guard case let .query(.put(put)) = message.body else {
            Issue.record("not a put")
            return
        }
        #expect(put.encodedValue == b(value))
        #expect(message.encoded() == b(query("put", "2:id\(id20("a"))5:token2:tk1:v\(value)")))
        #expect(put.publicKey == nil && put.salt == nil && put.sequence == nil && put.signature == nil && put.cas == nil)
    }

    @Test func unknownMethodsKeepTheirNameAndValidID() throws {
        let withID = try KRPCMessage.decode(b(query("vote", "2:id\(id20("a"))4:votei5e")))
        #expect(withID.body == .query(.unknown(method: b("vote"), id: nodeID("a"))))
        let badID = try KRPCMessage.decode(b(query("vote", "2:id3:abc")))
        #expect(badID.body == .query(.unknown(method: b("vote"), id: nil)))
        let noArguments = try KRPCMessage.decode(b("d1:q4:vote1:t2:aa1:y1:qe"))
        #expect(noArguments.body == .query(.unknown(method: b("vote"), id: nil)))
        #expect(noArguments.transactionID == b("aa"))
    }

    @Test func aQueryOrResponseWithBothAAndRIsMalformed() {
        func both(y: String) -> String { "d1:ad2:id\(id20("a"))e1:q4:ping1:rd2:id\(id20("b"))e1:t2:aa1:y1:\(y)e" }
        #expect(isMalformed(both(y: "q"), isQuery: true))
        #expect(isMalformed(both(y: "r"), isQuery: false))
        // `a` that is not a dictionary does not conflict with `r`.
        #expect(decodeError("d1:ai1e1:rd2:id\(id20("b"))e1:t2:aa1:y1:re") == nil)
    }

    @Test func responsesNeedRAndID() {
        #expect(isMalformed("d1:t2:aa1:y1:re", isQuery: false))
        #expect(isMalformed("d1:rli1ee1:t2:aa1:y1:re", isQuery: false))
        #expect(isMalformed(response(""), isQuery: false))
        #expect(isMalformed(response("2:id3:abc"), isQuery: false))
    }

    @Test func nodesMustBeWholeNodeInfos() throws {
        let id = "2:id\(id20("r"))"
        #expect(isMalformed(response(id + "5:nodes25:" + String(repeating: "n", count: 25)), isQuery: false))
        #expect(isMalformed(response(id + "5:nodes27:" + String(repeating: "n", count: 27)), isQuery: false))
        #expect(isMalformed(response(id + "6:nodes639:" + String(repeating: "n", count: 39)), isQuery: false))
        #expect(isMalformed(response(id + "5:nodesi1e"), isQuery: false))
        let ok = try KRPCMessage.decode(b(response(id + "5:nodes52:" + String(repeating: "n", count: 52) + "6:nodes638:" + String(repeating: "m", count: 38))))
        guard case let .response(r) = ok.body else {
            Issue.record("not a response")
            return
        }
        #expect(r.nodes?.count == 2)
        #expect(r.nodes6?.count == 1)
        #expect(r.nodes6?.first?.endpoint.address.isIPv4 == false)
        #expect(r.nodes?.first?.endpoint == Endpoint(address: .v4(0x6e6e_6e6e), port: 0x6e6e))
    }

    @Test func valuesSkipsEntriesThatAreNotPeers() throws {
        let id = "2:id\(id20("r"))"
        let peer4 = "6:\u{7f}\u{0}\u{0}\u{1} !"  // 127.0.0.1:8225 (0x2021), every byte ASCII
        let peer6 = "18:" + String(repeating: "\u{0}", count: 15) + "\u{1}\u{0}\u{50}"  // [::1]:80
        let message = try KRPCMessage.decode(b(response(id + "6:valuesl5:abcde\(peer4)i7ele\(peer6)7:abcdefge")))
        guard case let .response(r) = message.body else {
            Issue.record("not a response")
            return
        }
        #expect(r.values == [Endpoint(address: .v4(0x7f00_0001), port: 8225), Endpoint(address: .v6(high: 0, low: 1), port: 80)])
        #expect(isMalformed(response(id + "6:values6:abcdef"), isQuery: false))
        let empty = try KRPCMessage.decode(b(response(id + "6:valuesl1:xe")))
        #expect(empty.body == .response(KRPCResponse(id: nodeID("r"), values: [])))
    }

    @Test func topLevelExtensions() throws {
        func with(ip: String = "", ro: String = "") -> String {
            "d1:ad2:id\(id20("a"))e\(ip)1:q4:ping\(ro)1:t2:aa1:y1:qe"
        }
        #expect(try KRPCMessage.decode(b(with(ro: "2:roi1e"))).readOnly)
        #expect(try KRPCMessage.decode(b(with(ro: "2:roi0e"))).readOnly == false)
        #expect(try KRPCMessage.decode(b(with(ro: "2:roi2e"))).readOnly == false)
        #expect(isMalformed(with(ro: "2:ro1:1"), isQuery: true))
        #expect(try KRPCMessage.decode(b(with(ip: "2:ip6:\u{7f}\u{0}\u{0}\u{1}\u{0}\u{50}"))).observedEndpoint == Endpoint(address: .v4(0x7f00_0001), port: 80))
        #expect(isMalformed(with(ip: "2:ip7:abcdefg"), isQuery: true))
        #expect(isMalformed(with(ip: "2:ipi1e"), isQuery: true))
        #expect(isMalformed("d1:ad2:id\(id20("a"))e1:q4:ping1:t2:aa1:vi1e1:y1:qe", isQuery: true))
    }

    @Test func errorsAreCodeAndMessage() throws {
        let ok = try KRPCMessage.decode(b("d1:eli204e14:Method Unknowne1:t2:aa1:y1:ee"))
        #expect(ok.body == .error(KRPCError(code: DHTSpec.ErrorCode.methodUnknown, message: "Method Unknown")))
        #expect(isMalformed("d1:t2:aa1:y1:ee", isQuery: false))
        #expect(isMalformed("d1:e3:abc1:t2:aa1:y1:ee", isQuery: false))
        #expect(isMalformed("d1:ele1:t2:aa1:y1:ee", isQuery: false))
        #expect(isMalformed("d1:eli201ee1:t2:aa1:y1:ee", isQuery: false))
        #expect(isMalformed("d1:el3:abc3:abce1:t2:aa1:y1:ee", isQuery: false))
        #expect(isMalformed("d1:eli201ei1ee1:t2:aa1:y1:ee", isQuery: false))
    }

    @Test func ignoresUnknownKeysAndAcceptsUnsortedOnes() throws {
        let expected = KRPCMessage(transactionID: b("aa"), body: .query(.findNode(id: nodeID("a"), target: nodeID("b"))))
        let extra = "d1:ad2:id\(id20("a"))4:wantl2:n42:n6e6:target\(id20("b"))5:zzzzzd1:xi1eee1:q9:find_node1:t2:aa3:unkli1ee1:y1:qe"
        #expect(try KRPCMessage.decode(b(extra)) == expected)
        let unsorted = "d1:y1:q1:t2:aa1:q9:find_node1:ad6:target\(id20("b"))2:id\(id20("a"))ee"
        #expect(try KRPCMessage.decode(b(unsorted)) == expected)
    }

    @Test func decodesFromSlices() throws {
        let bytes = b("xx" + query("ping", "2:id\(id20("a"))") + "yy")
        let message = try KRPCMessage.decode(bytes[2..<(bytes.count - 2)])
        #expect(message.body == .query(.ping(id: nodeID("a"))))
    }
}
