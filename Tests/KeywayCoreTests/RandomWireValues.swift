@testable import KeywayCore

/// Random bencode values and KRPC messages for property and fuzz tests, all drawn from a
/// ``SeededRandom`` so every run sees the same sequence.
struct RandomWireValues {
    var rng: SeededRandom

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func bool() -> Bool { Bool.random(using: &rng) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    mutating func bytes(_ count: ClosedRange<Int>) -> [UInt8] { rng.bytes(count: int(count)) }
    mutating func id() -> NodeID { NodeID.random(using: &rng) }

    /// An integer, biased towards the edges where encoders go wrong.
    mutating func int64() -> Int64 {
        switch int(0...5) {
        case 0: return [Int64.min, .max, 0, -1, 1, 9, 10, -10][int(0...7)]
        case 1, 2: return Int64(int(-1000...1000))
        default: return Int64(bitPattern: rng.next())
        }
    }

    mutating func endpoint() -> Endpoint {
        let port = UInt16(truncatingIfNeeded: rng.next())
        if bool() { return Endpoint(address: .v4(UInt32(truncatingIfNeeded: rng.next())), port: port) }
        return Endpoint(address: .v6(high: rng.next(), low: rng.next()), port: port)
    }

    mutating func contacts(ipv4: Bool) -> [NodeContact] {
        (0..<int(0...8)).map { _ in
            let port = UInt16(truncatingIfNeeded: rng.next())
            let address: IPAddress = ipv4 ? .v4(UInt32(truncatingIfNeeded: rng.next())) : .v6(high: rng.next(), low: rng.next())
            return NodeContact(id: id(), endpoint: Endpoint(address: address, port: port))
        }
    }

    /// A bencode value nested at most `depth` levels; dictionaries have distinct keys in random
    /// order (the encoder must sort them).
    mutating func bencode(depth: Int = 3) -> BencodeValue {
        switch int(0...(depth > 0 ? 3 : 1)) {
        case 0: return .integer(int64())
        case 1: return .bytes(bytes(0...24))
        case 2: return .list((0..<int(0...4)).map { _ in bencode(depth: depth - 1) })
        default:
            var entries: [BencodeValue.Entry] = []
            for _ in 0..<int(0...4) {
                let key = bytes(0...4)
                if !entries.contains(where: { $0.key == key }) { entries.append(.init(key: key, value: bencode(depth: depth - 1))) }
            }
            return .dictionary(entries)
        }
    }

    mutating func optional<T>(_ make: (inout RandomWireValues) -> T) -> T? {
        bool() ? make(&self) : nil
    }

    /// A message of any kind whose every field survives a round trip: nodes of the right
    /// family, UTF-8 error messages, unknown methods that no known one shadows.
    mutating func message() -> KRPCMessage {
        let body: KRPCMessage.Body
        switch int(0...2) {
        case 0: body = .query(query())
        case 1: body = .response(response())
        default:
            let text = ["", "A Generic Error Ocurred", "Method Unknown", "invalid token", "héllo ✓"][int(0...4)]
            body = .error(KRPCError(code: Int(int64()), message: text))
        }
        return KRPCMessage(
            transactionID: bytes(0...4), body: body,
            clientVersion: optional { $0.bytes(0...4) },
            observedEndpoint: optional { $0.endpoint() },
            readOnly: bool())
    }

    mutating func query() -> KRPCQuery {
        let sender = id()
        switch int(0...6) {
        case 0: return .ping(id: sender)
        case 1: return .findNode(id: sender, target: id())
        case 2: return .getPeers(id: sender, infoHash: id())
        case 3: return .announcePeer(id: sender, infoHash: id(), port: UInt16(truncatingIfNeeded: rng.next()), impliedPort: bool(), token: bytes(0...8))
        case 4: return .get(id: sender, target: id(), sequence: optional { $0.int64() })
        case 5:
            return .put(KRPCPut(
                id: sender, token: bytes(0...8), encodedValue: bencode().encoded(),
                publicKey: optional { $0.bytes(32...32) }, salt: optional { $0.bytes(0...8) }, sequence: optional { $0.int64() },
                signature: optional { $0.bytes(64...64) }, cas: optional { $0.int64() }))
        default:
            return .unknown(method: Array("x_".utf8) + bytes(0...6), id: optional { $0.id() })
        }
    }

    mutating func response() -> KRPCResponse {
        KRPCResponse(
            id: id(),
            nodes: optional { $0.contacts(ipv4: true) },
            nodes6: optional { $0.contacts(ipv4: false) },
            token: optional { $0.bytes(0...8) },
            values: optional { r in (0..<r.int(0...6)).map { _ in r.endpoint() } },
            encodedValue: optional { $0.bencode().encoded() },
            publicKey: optional { $0.bytes(32...32) },
            sequence: optional { $0.int64() },
            signature: optional { $0.bytes(64...64) },
            port: optional { $0.int64() })
    }
}
