import Foundation
import Keyway
import KeywayCore
import KeywayCrypto
import Testing

/// Issue 15, item 4: `HOST` in `--seed`, `--listen`, `--announce`, `--forward`, `KEY@HOST:PORT`
/// and `KEYWAY_SEEDS` may be a DNS name, resolved with the system resolver; a name that does
/// not resolve is one line and exit status 2 (resolve, connect), or retried with backoff (run).
///
/// The names used are `localhost` and a name that `/etc/hosts` already maps to loopback only
/// (this machine's own name, say). The test never edits `/etc/hosts`: other sessions share the
/// machine, and a test that dies between the edit and its undo would leave it changed.
@Suite(.timeLimit(.minutes(2)))
struct HostnameTests {
    /// A name of `/etc/hosts` other than `localhost` whose every address is loopback, or `nil`.
    static func loopbackHostsName() async -> String? {
        guard let text = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .split(whereSeparator: { $0 == " " || $0 == "\t" })
            for name in fields.dropFirst() where name.lowercased() != "localhost" && HostPort.isHostName(name) {
                // Only a name that leads nowhere but this host: never dial another machine.
                if let addresses = try? await HostResolver.addresses(of: String(name)), addresses.allSatisfy(\.isLoopback) {
                    return String(name)
                }
            }
        }
        return nil
    }

    @Test func hostPortAcceptsNamesAndRefusesWhatIsNeitherAnAddressNorAName() throws {
        #expect(try HostPort.parse("Seed.Example.org:6881", for: .contact) == HostPort(name: "seed.example.org", port: 6881))
        #expect(try HostPort.parse("router.bittorrent.com.:6881", for: .contact) == HostPort(name: "router.bittorrent.com", port: 6881))
        #expect(try HostPort.parse("192.0.2.1:7", for: .contact) == HostPort(Endpoint("192.0.2.1:7")!))
        #expect(try HostPort.parse("localhost:7", for: .contact) == HostPort(Endpoint("127.0.0.1:7")!))
        #expect(try HostPort.parse("vm:0", for: .listen) == HostPort(name: "vm", port: 0))
        #expect(throws: EndpointArgumentError.zeroPort("vm:0")) { try HostPort.parse("vm:0", for: .contact) }
        for text in ["1.2.3:4", "-a.example:1", "a-.example:1", "a..b:1", "a_b:1", "name", "name:", "name:65536",
                     String(repeating: "a", count: 64) + ".example:1", ":80", "a b:1"] {
            #expect(throws: EndpointArgumentError.malformedHost(text)) { try HostPort.parse(text, for: .contact) }
        }
        #expect(throws: SeedArgumentError.self) { try SeedArgument.parseHost("abc@seed.example:1") }
        let key = Ed25519.KeyPair.generate().publicKey
        #expect(try SeedArgument.parseHost("\(key.zBase32)@seed.example:1")
            == SeedHost(host: HostPort(name: "seed.example", port: 1), expectedID: NodeID(publicKey: key)))
    }

    /// A seed found by name, a node listening, announcing and forwarding by name, a connect
    /// whose `KEYWAY_SEEDS` names it: everything resolves to loopback and works end to end.
    @Test func seedListenAnnounceForwardAndEnvironmentSeedsTakeNames() async throws {
        let name = await Self.loopbackHostsName()
        if name == nil { print("no loopback-only name besides localhost in /etc/hosts: localhost only") }
        let host = name ?? "localhost"
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let service = try TCPProbeService()
            defer { service.stop() }
            let request = Array("GET / HTTP/1.0\r\n\r\n".utf8)
            try Data(request).write(to: URL(fileURLWithPath: directory + "/request"))

            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "\(host):0"], name: "seed")
            let seedKey = try await seed.value(after: "key: ")
            let seedAddress = try await seed.value(after: "listening: ")
            #expect(seedAddress.hasPrefix("127.0.0.1:"), "\(seedAddress)")
            let port = try #require(seedAddress.split(separator: ":").last.map(String.init))

            for (index, seedText) in ["localhost:\(port)", "\(host):\(port)", "\(seedKey)@\(host):\(port)"].enumerated() {
                let result = try await children.run(["resolve", seedKey, "--seed", seedText, "--timeout", "10"], name: "resolve\(index)")
                #expect(result.status == 0, "\(seedText): \(result.stderr)")
                #expect(result.stdout == seedAddress + "\n", "\(seedText): \(result.stdout)")
            }

            let listener = try children.start(
                ["listen", "--state-dir", "l", "--allow-any", "--seed", "\(host):\(port)", "--announce", "\(host):4444",
                 "--forward", "\(host):\(service.port)"],
                name: "listener")
            let key = try await listener.value(after: "key: ", inStandardError: true)
            #expect(try await listener.value(after: "listening: ", inStandardError: true).hasPrefix("127.0.0.1:"))
            let published = try await listener.value(after: "published: ", inStandardError: true)
            // The announced name comes first, as its address.
            #expect(published.split(separator: " ").last?.hasPrefix("127.0.0.1:4444,") == true, "\(published)")

            let connector = try children.start(
                ["connect", key, "--state-dir", "c"], name: "connector",
                environment: ["KEYWAY_SEEDS": "\(host):\(port)"], standardInput: directory + "/request")
            #expect(try await connector.exit(timeout: .seconds(30)) == 0, "\(connector.stderr)")
            #expect(connector.stdout == String(decoding: TCPProbeService.reply, as: UTF8.self), "\(connector.stderr)")
            #expect(service.requests == [request])
            for child in [listener, seed] {
                child.signal()
                #expect(try await child.exit() == 0, "\(child.stderr)")
            }
        }
    }

    /// `.invalid` never resolves (RFC 6761). The children run offline (``OfflineNamespace``): the
    /// lookup must not send a query to the machine's resolver.
    @Test(.enabled(if: OfflineNamespace.unavailableReason == nil, "skipped: \(OfflineNamespace.unavailableReason ?? "")"))
    func anUnresolvableNameIsOneLineAndStatusTwo() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let key = Ed25519.KeyPair.generate().publicKey.zBase32
            let cases: [[String]] = [
                ["resolve", key, "--seed", "nosuch.invalid:6881"],
                ["resolve", key, "--seed", "127.0.0.1:1", "--listen", "nosuch.invalid:0"],
                ["connect", key, "--seed", "nosuch.invalid:6881"],
                ["connect", "\(key)@nosuch.invalid:6881"],
                ["forward", "--local", "127.0.0.1:0", "--to", key, "--seed", "nosuch.invalid:6881"],
                ["listen", "--allow-any", "--forward", "nosuch.invalid:80"],
                ["run", "--announce", "nosuch.invalid:6881"],
            ]
            for (index, arguments) in cases.enumerated() {
                let stateDirectory = arguments[0] == "resolve" ? [] : ["--state-dir", "s"]
                let offline = try OfflineNamespace.command(arguments + stateDirectory)
                let result = try await children.run(offline.arguments, name: "unresolvable\(index)", executable: offline.executable)
                #expect(result.status == 2, "\(arguments): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.hasPrefix("keyway: "), "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("cannot resolve \"nosuch.invalid\""), "\(arguments): \(result.stderr)")
                #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
            }
        }
    }

    /// `run` is a service: a seed name that does not resolve yet must not stop it. It starts,
    /// says so, and tries again after 1 s, then 2 s, ...
    @Test(.enabled(if: OfflineNamespace.unavailableReason == nil, "skipped: \(OfflineNamespace.unavailableReason ?? "")"))
    func runRetriesASeedNameThatDoesNotResolveWithBackoff() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let offline = try OfflineNamespace.command(["run", "--state-dir", "n", "--seed", "nosuch.invalid:6881", "--listen", "127.0.0.1:0"])
            let node = try children.start(offline.arguments, name: "node", executable: offline.executable)
            _ = try await node.value(after: "listening: ")
            for wait in ["1.0 seconds", "2.0 seconds"] {
                try await StumblingBlockTests.waitFor(node, toSay: "cannot resolve \"nosuch.invalid\": ", timeout: .seconds(20))
                try await StumblingBlockTests.waitFor(node, toSay: "retrying in \(wait)", timeout: .seconds(20))
            }
            #expect(node.isRunning)
            node.signal()
            #expect(try await node.exit() == 0, "\(node.stderr)")
        }
    }
}
