// Interop with libtorrent-rasterbar 2.0.8 (issue 3, item 5), on 127.0.0.1 only, between real
// processes: `keyway run` nodes, fresh `keyway resolve` processes, and libtorrent in Python
// (Tests/Interop/libtorrent_peer.py). Nothing of keyway runs inside the test process: every
// assertion is made from outside, on what the processes print, save and send.
//
// Known limits of Debian's python3-libtorrent 2.0.8: its bindings have no `dht_direct_request`,
// so libtorrent cannot be told to send `ping` or `find_node` to a chosen node (it refreshes with
// `get_peers`, and pings only members of full buckets); and `dht_put_mutable_item` picks `seq`
// itself (the newest it finds + 1). So:
// - libtorrent -> keyway is asserted for the queries libtorrent really sends: `get_peers`
//   (add_node, refresh, lookups), `get` and `put`. keyway's `ping`, `find_node` and unknown-method
//   answers are asserted with queries that keyway's codec encodes in the test and the peer
//   sends from a plain UDP socket (`krpc`), as are libtorrent's answers to keyway's codec.
// - For a pkarr endpoint record with `seq` in microseconds, the peer first stores the record
//   with seq = now - 1 on the keyway nodes by raw KRPC (`put_record`), so libtorrent's own put
//   carries seq = now.
import Foundation
import Keyway
import KeywayCore
import KeywayCrypto
import Testing

#if canImport(Glibc)
import Glibc

@Suite(
    .serialized,
    .enabled(if: LibtorrentPeer.isAvailable, "python3-libtorrent is not importable by /usr/bin/python3 (.ci/setup installs it)"),
    .timeLimit(.minutes(2))
)
struct LibtorrentInteropTests {
    /// A `keyway run` process of the mesh.
    struct KeywayProcess {
        let process: ChildProcess
        /// Its state directory, relative to the test's directory.
        let directory: String
        let publicKey: Ed25519.PublicKey
        let endpoint: Endpoint
        /// The `seq` of the record it printed as published.
        let publishedSequence: Int64
        var key: String { publicKey.zBase32 }
    }

    /// How long any one step of joining may take.
    static let stepDeadline: Duration = .seconds(15)

    /// Runs `body` with a libtorrent peer and `count` `keyway run` processes on 127.0.0.1: each
    /// keyway node seeds from libtorrent (`--seed`) and has joined and published, and libtorrent
    /// was told about each (`add_node`) and holds it in its live table. Every child process is
    /// killed when `body` ends, whatever happens.
    func withMesh<R>(nodes count: Int, _ body: (ChildProcesses, LibtorrentPeer, [KeywayProcess]) async throws -> R) async throws -> R {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let libtorrent = try await LibtorrentPeer()
            defer { libtorrent.stop() }

            var nodes = [KeywayProcess]()
            for index in 0..<count {
                let name = "keyway\(index)"
                let process = try children.start(
                    ["run", "--state-dir", name, "--listen", "127.0.0.1:0", "--seed", libtorrent.endpoint.description], name: name)
                let publicKey = try Ed25519.PublicKey(parsing: try await process.value(after: "key: "))
                let endpoint = try Endpoint(try await process.value(after: "listening: ")).unwrap("listening address")
                // Joining through libtorrent alone means libtorrent answered keyway's find_node.
                _ = try await process.value(after: "bootstrapped: ", timeout: Self.stepDeadline)
                let published = try await process.value(after: "published: ", timeout: Self.stepDeadline)
                let sequence = try Int64(published.prefix { $0 != " " }).unwrap("seq in \"published: \(published)\"")
                nodes.append(KeywayProcess(process: process, directory: name, publicKey: publicKey, endpoint: endpoint, publishedSequence: sequence))
                try await libtorrent.command(["add_node", "127.0.0.1", String(endpoint.port)])
            }
            let end = ContinuousClock.now + Self.stepDeadline
            while true {
                let table = try await libtorrent.table()
                if nodes.allSatisfy({ table.contains($0.endpoint) }) { break }
                guard ContinuousClock.now < end else { throw InteropError("libtorrent's table \(table) lacks some of \(nodes.map(\.endpoint))") }
                try await Task.sleep(for: .milliseconds(200))
            }
            return try await body(children, libtorrent, nodes)
        }
    }

    @Test func keywayProcessesAndLibtorrentJoinAndAnswerEachOther() async throws {
        try await withMesh(nodes: 2) { children, libtorrent, nodes in
            let libtorrentID = try libtorrent.nodeID.unwrap("libtorrent's node ID")

            // libtorrent's table holds each keyway node under the ID its key gives it.
            let table = try await libtorrent.command(["table"])
            for node in nodes {
                let entry = (table["nodes"] as? [[String: Any]] ?? []).first { $0["port"] as? Int == Int(node.endpoint.port) }
                #expect(entry?["id"] as? String == NodeID(publicKey: node.publicKey).description, "\(table)")
            }

            // libtorrent's dht_get_item fetches each keyway node's record, with a valid signature.
            for node in nodes {
                let answer = try await libtorrent.command(["get_item", node.publicKey.bytes.hexString, "-", "10"])
                #expect(answer["found"] as? Bool == true, "\(answer)")
                #expect(answer["sig_valid"] as? Bool == true, "\(answer)")
                #expect((answer["seq"] as? NSNumber)?.int64Value == node.publishedSequence)
                let value = try [UInt8](hex: answer["value_hex"] as? String ?? "").unwrap("value_hex")
                let signature = try [UInt8](hex: answer["sig_hex"] as? String ?? "").unwrap("sig_hex")
                let item = MutableItem(publicKey: node.publicKey, sequence: node.publishedSequence, encodedValue: value, signature: signature)
                #expect(item.isValid)
                #expect(try EndpointRecord(item: item).endpoints == [node.endpoint])
            }

            // A libtorrent lookup goes through the keyway nodes.
            let infoHash = (0..<20).map { _ in UInt8.random(in: 0...255) }.hexString
            let peers = try await libtorrent.command(["get_peers", infoHash, "2"])
            for node in nodes {
                #expect((peers["queried"] as? [String] ?? []).contains(node.endpoint.description), "\(peers)")
            }

            // What went over the wire, as libtorrent saw it: it sent get_peers and get to every
            // keyway node and got answers; every keyway node sent it find_node (joining), get and put (publishing).
            let traffic = try await libtorrent.command(["traffic"])
            let sent = traffic["queries_out_to"] as? [String: [String: Int]] ?? [:]
            let received = traffic["queries_in_from"] as? [String: [String: Int]] ?? [:]
            let answers = traffic["responses_in"] as? [String: Int] ?? [:]
            for node in nodes {
                let to = sent[node.endpoint.description] ?? [:], from = received[node.endpoint.description] ?? [:]
                #expect(to["get_peers", default: 0] >= 1 && to["get", default: 0] >= 1, "libtorrent sent \(node.endpoint): \(to)")
                #expect(answers["\(node.endpoint) r", default: 0] >= 2, "\(answers)")
                #expect(answers["\(node.endpoint) e", default: 0] == 0, "keyway answered libtorrent with errors: \(answers)")
                for method in ["find_node", "get", "put"] {
                    #expect(from[method, default: 0] >= 1, "\(node.endpoint) sent libtorrent \(from)")
                }
            }

            // Queries encoded by keyway's codec, from a plain socket: libtorrent answers each, and
            // so does a keyway process; an unknown method gets error 204 from keyway.
            let me = try NodeID(bytes: (0..<20).map { _ in UInt8.random(in: 0...255) }).unwrap("a node ID")
            let keyway = nodes[0]
            let queries: [KRPCQuery] = [
                .ping(id: me), .findNode(id: me, target: me), .getPeers(id: me, infoHash: me),
                .get(id: me, target: NodeID(publicKey: keyway.publicKey), sequence: nil),
            ]
            for (responder, id) in [(libtorrent.endpoint, libtorrentID), (keyway.endpoint, NodeID(publicKey: keyway.publicKey))] {
                for (index, query) in queries.enumerated() {
                    let message = KRPCMessage(transactionID: [0x6b, UInt8(index)], body: .query(query), readOnly: true)
                    let reply = try await libtorrent.exchange(message, with: responder)
                    #expect(reply.transactionID == message.transactionID)
                    guard case let .response(response) = reply.body else {
                        Issue.record("\(responder) answered \(query.methodName) with \(reply.body)")
                        continue
                    }
                    #expect(response.id == id, "\(responder) \(query.methodName)")
                    switch query {
                    case .findNode: #expect(response.nodes?.isEmpty == false, "\(responder): find_node answer without nodes")
                    case .getPeers: #expect(response.token?.isEmpty == false, "\(responder): get_peers answer without a token")
                    case .get:
                        #expect(response.token?.isEmpty == false, "\(responder): get answer without a token")
                        // Both hold keyway's record: libtorrent because keyway put it there.
                        #expect(response.sequence == keyway.publishedSequence, "\(responder): get answer without the record")
                    default: break
                    }
                }
            }
            let unknown = KRPCMessage(transactionID: [0x6b, 0x75], body: .query(.unknown(method: Array("frobnicate".utf8), id: me)), readOnly: true)
            let refusal = try await libtorrent.exchange(unknown, with: keyway.endpoint)
            guard case let .error(error) = refusal.body else {
                Issue.record("keyway answered an unknown method with \(refusal.body)")
                return
            }
            #expect(error.code == DHTSpec.ErrorCode.methodUnknown)
            #expect(refusal.transactionID == unknown.transactionID)

            // keyway's table holds libtorrent under the ID libtorrent announced: what each node
            // saves on SIGTERM, next to its identity.
            for node in nodes {
                node.process.signal()
                #expect(try await node.process.exit() == 0)
                let saved = try ContactsFile.load(at: "\(children.directory)/\(node.directory)/identity\(ContactsFile.defaultSuffix)", limit: 10_000)
                #expect(saved.contacts.contains(NodeContact(id: libtorrentID, endpoint: libtorrent.endpoint)), "\(saved.contacts)")
            }
        }
    }

    @Test func keywayResolveFetchesWhatLibtorrentPut() async throws {
        try await withMesh(nodes: 2) { children, libtorrent, nodes in
            let seeds = [libtorrent.endpoint, nodes[0].endpoint].map(\.description)

            // A pkarr endpoint record, built and signed outside keyway, put by libtorrent.
            let recordSeed = (0..<32).map { _ in UInt8.random(in: 0...255) }
            let recordKey = try Ed25519.KeyPair(seed: recordSeed)
            let endpoints = ["192.0.2.7:4000", "127.0.0.1:4001"]
            let put = try await libtorrent.command(["put_record", recordSeed.hexString, endpoints.joined(separator: ",")])
            #expect(put["public_key_hex"] as? String == recordKey.publicKey.bytes.hexString, "libtorrent derived another key")
            #expect(put["key_z32"] as? String == recordKey.publicKey.zBase32)
            #expect((put["num_success"] as? Int ?? 0) >= 1, "\(put)")
            #expect((put["primed_on"] as? Int ?? 0) >= 1, "\(put)")
            let sequence = try (put["seq"] as? NSNumber).unwrap("seq").int64Value
            #expect(sequence == (put["primed_seq"] as? NSNumber)?.int64Value.advanced(by: 1), "libtorrent did not build on the primed seq: \(put)")
            let nowMicroseconds = Int64(Date().timeIntervalSince1970 * 1e6)
            #expect(abs(nowMicroseconds - sequence) < 120_000_000, "seq \(sequence) is not the time in microseconds")

            for (index, seed) in seeds.enumerated() {
                let resolved = try await children.run(["resolve", recordKey.publicKey.zBase32, "--seed", seed], name: "record\(index)")
                #expect(resolved.status == 0, "\(resolved.stderr)")
                #expect(resolved.stdout == endpoints.map { $0 + "\n" }.joined(), "via \(seed)")
            }
            let json = try await children.run(["resolve", recordKey.publicKey.zBase32, "--seed", seeds[1], "--json"], name: "record-json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect((object["seq"] as? NSNumber)?.int64Value == sequence)
            #expect(object["endpoints"] as? [String] == endpoints)
            let raw = try await children.run(["resolve", recordKey.publicKey.zBase32, "--seed", seeds[1], "--item"], name: "record-item")
            #expect(raw.stdout == "seq: \(sequence)\nvalue-hex: \(put["packet_hex"] as? String ?? "?")\n", "\(raw.stderr)")

            // Plain BEP 44 items, without and with a salt, under one key.
            let itemSeed = (0..<32).map { _ in UInt8.random(in: 0...255) }
            let itemKey = try Ed25519.KeyPair(seed: itemSeed)
            let salt = "keyway-salt"
            let plain = try await libtorrent.command(["put_item", itemSeed.hexString, "-", "hello from libtorrent"])
            let salted = try await libtorrent.command(["put_item", itemSeed.hexString, Array(salt.utf8).hexString, "salted hello"])
            for answer in [plain, salted] { #expect((answer["num_success"] as? Int ?? 0) >= 1, "\(answer)") }
            let key = itemKey.publicKey.zBase32
            let cases: [([String], String)] = [
                ([], "value: hello from libtorrent"),
                (["--salt", salt], "value: salted hello"),
                (["--salt-hex", Array(salt.utf8).hexString], "value: salted hello"),
            ]
            for (index, (saltArguments, expected)) in cases.enumerated() {
                let result = try await children.run(["resolve", key, "--seed", seeds[index % 2], "--item"] + saltArguments, name: "item\(index)")
                let answer = saltArguments.isEmpty ? plain : salted
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout == "seq: \((answer["seq"] as? NSNumber)?.int64Value ?? -1)\n\(expected)\n")
            }
            let itemJSON = try await children.run(["resolve", key, "--seed", seeds[1], "--item", "--salt", salt, "--json"], name: "item-json")
            let item = try #require(try JSONSerialization.jsonObject(with: Data(itemJSON.stdout.utf8)) as? [String: Any])
            #expect(item["key"] as? String == key)
            #expect(item["salt_hex"] as? String == Array(salt.utf8).hexString)
            #expect(item["value"] as? String == "salted hello")
            // Not an endpoint record: resolve says so (status 2); another salt: not found (status 1).
            let notARecord = try await children.run(["resolve", key, "--seed", seeds[1]], name: "not-a-record")
            #expect(notARecord.status == 2, "\(notARecord.stdout)\(notARecord.stderr)")
            let otherSalt = try await children.run(["resolve", key, "--seed", seeds[1], "--item", "--salt", "other", "--timeout", "3"], name: "other-salt")
            #expect(otherSalt.status == 1, "\(otherSalt.stdout)\(otherSalt.stderr)")

            // libtorrent put on the keyway nodes, and they accepted.
            let traffic = try await libtorrent.command(["traffic"])
            let sent = traffic["queries_out_to"] as? [String: [String: Int]] ?? [:]
            for node in nodes {
                #expect(sent[node.endpoint.description]?["put", default: 0] ?? 0 >= 1, "libtorrent sent \(node.endpoint): \(sent)")
            }
            #expect(((traffic["responses_in"] as? [String: Int] ?? [:]).filter { $0.key.hasSuffix(" e") }).isEmpty, "\(traffic)")
        }
    }
}
#endif
