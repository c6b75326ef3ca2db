import Foundation
import KeywayCore
import KeywayCrypto
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `keyway` command as a user runs it: a separate process, its output and exit status.
@Suite(.timeLimit(.minutes(2)))
struct CommandLineTests {
    typealias Support = RuntimeTestSupport

    /// Runs `body` with a process registry in a fresh directory; kills leftovers whatever happens.
    private func withProcesses<R>(_ body: (ChildProcesses) async throws -> R) async throws -> R {
        try await Support.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            return try await body(children)
        }
    }

    /// Exactly one non-empty line.
    private func isOneLine(_ text: String) -> Bool {
        text.hasSuffix("\n") && text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1 && text.count > 1
    }

    @Test func idPrintsTheSameKeyEveryTime() async throws {
        try await withProcesses { children in
            let first = try await children.run(["id", "--identity", "node/identity"], name: "id1")
            #expect(first.status == 0)
            let key = first.stdout.trimmingCharacters(in: .newlines)
            #expect(key.count == 52)
            #expect((try? Ed25519.PublicKey(parsing: key)) != nil)
            let second = try await children.run(["id", "--identity", "node/identity"], name: "id2")
            #expect(second.stdout == first.stdout)
            let viaStateDir = try await children.run(["id", "--state-dir", "node"], name: "id3")
            #expect(viaStateDir.stdout == first.stdout)
            let defaultLocation = try await children.run(["id"], name: "id4")
            #expect(defaultLocation.status == 0)
            #expect(FileManager.default.fileExists(atPath: children.directory + "/xdg/keyway/identity"))
        }
    }

    @Test(arguments: [[], ["id"], ["run"], ["resolve"], ["demo"]])
    func everyCommandHasHelp(_ command: [String]) async throws {
        try await withProcesses { children in
            let result = try await children.run(command + ["--help"], name: "help")
            #expect(result.status == 0)
            #expect(result.stdout.contains("USAGE: keyway"))
            #expect(result.stderr.isEmpty)
        }
    }

    @Test func badInputIsOneLineAndExitStatus2() async throws {
        try await withProcesses { children in
            let key = Ed25519.KeyPair.generate().publicKey.zBase32
            _ = FileManager.default.createFile(atPath: children.directory + "/loose", contents: Data("x".utf8), attributes: [.posixPermissions: 0o644])
            _ = FileManager.default.createFile(atPath: children.directory + "/garbage", contents: Data("not an identity\n".utf8), attributes: [.posixPermissions: 0o600])
            let cases: [([String], String)] = [
                (["resolve", "not-a-key", "--seed", "127.0.0.1:1"], "invalid key"),
                (["resolve", key + "x", "--seed", "127.0.0.1:1"], "invalid key"),
                (["resolve", key, "--seed", "nowhere"], "is not HOST:PORT"),
                (["resolve", key, "--seed", "abc@127.0.0.1:1"], "seed"),
                (["resolve", key], "no seed"),
                (["resolve", key, "--seed", "127.0.0.1:1", "--timeout", "-1"], "--timeout"),
                (["resolve", key, "--seed", "127.0.0.1:1", "--salt", "s"], "--item"),
                (["resolve", key, "--seed", "127.0.0.1:1", "--item", "--salt-hex", "xyz"], "--salt-hex"),
                (["resolve", key, "--seed", "127.0.0.1:1", "--item", "--salt", "s", "--salt-hex", "00"], "not both"),
                (["resolve", key, "--seed", "127.0.0.1:1", "--item", "--salt", String(repeating: "s", count: 65)], "64"),
                (["run", "--listen", "127.0.0.1"], "--listen"),
                (["run", "--seed", "127.0.0.1:0"], "port 0"),
                (["run", "--announce", "0.0.0.0:1"], "wildcard"),
                (["run", "--identity", "loose"], "loose"),
                (["id", "--identity", "garbage"], "garbage"),
                (["run", "--log-level", "loud"], "log level"),
                (["demo", "--nodes", "1"], "--nodes"),
                (["frobnicate"], "frobnicate"),
                (["run", "--bogus"], "bogus"),
            ]
            for (index, (arguments, mention)) in cases.enumerated() {
                let result = try await children.run(arguments, name: "bad\(index)")
                #expect(result.status == 2, "\(arguments): \(result.stderr)")
                #expect(isOneLine(result.stderr), "\(arguments): \(result.stderr)")
                #expect(result.stderr.hasPrefix("keyway: "), "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains(mention), "\(arguments): \(result.stderr)")
                #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
            }
        }
    }

    @Test func aPortInUseIsOneLineAndExitStatus2() async throws {
        try await withProcesses { children in
            let holder = try children.start(["run", "--state-dir", "holder", "--listen", "127.0.0.1:0"], name: "holder")
            let listening = try await holder.value(after: "listening: ")
            let result = try await children.run(["run", "--state-dir", "other", "--listen", listening], name: "clash")
            #expect(result.status == 2)
            #expect(isOneLine(result.stderr))
            #expect(result.stderr.contains("address already in use"))
            holder.signal()
            #expect(try await holder.exit() == 0)
        }
    }

    @Test func resolveExitsWith1WhenNoSeedAnswers() async throws {
        try await withProcesses { children in
            // A port nothing listens on: bind one and close it.
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            close(fd)
            let port = UInt16(bigEndian: address.sin_port)
            let key = Ed25519.KeyPair.generate().publicKey.zBase32
            let result = try await children.run(["resolve", key, "--seed", "127.0.0.1:\(port)", "--timeout", "1.5"], name: "unreachable")
            #expect(result.status == 1)
            #expect(isOneLine(result.stderr))
            #expect(result.stderr.contains("no seed answered"))
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func resolveItemPrintsTheRawItem() async throws {
        try await withProcesses { children in
            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0"], name: "seed")
            let key = try await seed.value(after: "key: ")
            let address = try await seed.value(after: "listening: ")
            let published = try await seed.value(after: "published: ")
            let sequence = try #require(published.split(separator: " ").first.map(String.init))

            // A node's own record, raw: its DNS packet is binary, so it comes in hex.
            let raw = try await children.run(["resolve", key, "--seed", address, "--item"], name: "item")
            #expect(raw.status == 0, "\(raw.stderr)")
            let lines = raw.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "seq: \(sequence)")
            let packet = try #require([UInt8](hex: lines.last?.dropFirst("value-hex: ".count) ?? ""))
            let publicKey = try Ed25519.PublicKey(parsing: key)
            let item = MutableItem(publicKey: publicKey, sequence: Int64(sequence) ?? 0,
                                   encodedValue: Array("\(packet.count):".utf8) + packet, signature: [])
            #expect(try EndpointRecord(item: item).endpoints.map(\.description) == [address])

            let json = try await children.run(["resolve", key, "--seed", address, "--item", "--json"], name: "item-json")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["key"] as? String == key)
            #expect(object["salt_hex"] as? String == "")
            #expect((object["seq"] as? NSNumber)?.stringValue == sequence)
            #expect(object["value_hex"] as? String == packet.hexString)
            #expect((object["signature_hex"] as? String)?.count == 128)

            // Nothing is stored under a salt.
            let salted = try await children.run(["resolve", key, "--seed", address, "--item", "--salt", "x", "--timeout", "3"], name: "salted")
            #expect(salted.status == 1, "\(salted.stderr)")
            #expect(salted.stderr.contains("no item with salt 78"), "\(salted.stderr)")
            seed.signal()
            #expect(try await seed.exit() == 0)
        }
    }

    @Test func theDemoSucceeds() async throws {
        try await withProcesses { children in
            let result = try await children.run(["demo", "--nodes", "6"], name: "demo", timeout: .seconds(60))
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("ok: every step succeeded"))
            #expect(result.stdout.split(separator: "\n").count == 9)
        }
    }
}
