import Foundation
import KeywayCore
import KeywayCrypto
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Two network namespaces the test creates, joined by a veth pair on 198.18.N.0/24 (the
/// benchmark range, RFC 2544) that never leaves the machine, and deleted at the end whatever happens.
struct NetworkNamespaces {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Where `ip` lives.
    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why the machine cannot run namespace tests, or `nil` when it can (root, and `ip netns`
    /// works: a probe namespace is created and deleted).
    static let unavailableReason: String? = {
        // Runs wherever it can (CI runs as root); KEYWAY_NETNS_TEST=0 turns it off.
        guard ProcessInfo.processInfo.environment["KEYWAY_NETNS_TEST"] != "0" else {
            return "turned off with KEYWAY_NETNS_TEST=0"
        }
        guard getuid() == 0 else { return "needs root (ip netns)" }
        guard ip != nil else { return "no ip command" }
        let probe = "kwprobe\(getpid())"
        guard (try? run(["netns", "add", probe])) != nil else { return "ip netns add does not work here" }
        _ = try? run(["netns", "del", probe])
        return nil
    }()

    /// Runs `ip arguments` to its end; throws with its stderr when it fails.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        guard let ip else { throw Failure(description: "no ip command") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ip)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "ip \(arguments.joined(separator: " ")): \(problem)")
        }
        return text
    }

    let a: String
    let b: String
    let linkA: String
    let linkB: String
    /// The third byte of the test's 198.18.N.0/24.
    let subnet: Int

    /// Creates the namespaces and the link, with 198.18.N.1 in `a` and 198.18.N.2 in `b`.
    init() throws {
        let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 16)
        a = "kwt-a-\(tag)"
        b = "kwt-b-\(tag)"
        linkA = "kwa\(tag)"
        linkB = "kwb\(tag)"
        subnet = Int.random(in: 1...254)
        try Self.run(["netns", "add", a])
        do {
            try Self.run(["netns", "add", b])
            try Self.run(["link", "add", linkA, "type", "veth", "peer", "name", linkB])
            try Self.run(["link", "set", linkA, "netns", a])
            try Self.run(["link", "set", linkB, "netns", b])
            // Deleting the primary address promotes a secondary one instead of deleting it too.
            try Self.run(["netns", "exec", a, "sysctl", "-qw", "net.ipv4.conf.all.promote_secondaries=1"])
            try Self.run(["netns", "exec", a, "sysctl", "-qw", "net.ipv4.conf.\(linkA).promote_secondaries=1"])
            try Self.run(["-n", a, "addr", "add", address(1) + "/24", "dev", linkA])
            try Self.run(["-n", b, "addr", "add", address(2) + "/24", "dev", linkB])
            for (namespace, link) in [(a, linkA), (b, linkB)] {
                try Self.run(["-n", namespace, "link", "set", "lo", "up"])
                try Self.run(["-n", namespace, "link", "set", link, "up"])
            }
        } catch {
            remove()
            throw error
        }
    }

    /// 198.18.N.`host`.
    func address(_ host: Int) -> String { "198.18.\(subnet).\(host)" }

    /// Deletes both namespaces (and so the veth pair).
    func remove() {
        _ = try? Self.run(["netns", "del", a])
        _ = try? Self.run(["netns", "del", b])
    }
}

/// The listener's real IP address changes mid-transfer, inside namespaces the test creates.
@Suite(.timeLimit(.minutes(2)))
struct NamespaceTests {
    /// The new address comes before the old one goes (make before break), or the listener is
    /// left with no address for a moment first (break before make): its sends then fail with
    /// `ENETUNREACH`, SwiftNIO closes its socket, and the node must open it again and carry on.
    @Test(.enabled(if: NetworkNamespaces.unavailableReason == nil, "skipped: \(NetworkNamespaces.unavailableReason ?? "")"),
          arguments: [true, false])
    func tenMegabytesWhileTheListenersAddressChanges(makeBeforeBreak: Bool) async throws {
        signal(SIGPIPE, SIG_IGN)
        let namespaces = try NetworkNamespaces()
        defer { namespaces.remove() }
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let keyway = try KeywayBinary.path()
            let ip = try #require(NetworkNamespaces.ip)
            let half = StreamCommandTests.transferSize / 2
            var rng = SeededRandom(seed: 9)
            let sent = rng.bytes(count: StreamCommandTests.transferSize)

            let listener = try children.start(
                ["netns", "exec", namespaces.a, keyway, "listen", "--state-dir", "l", "--allow-any", "--listen", "0.0.0.0:0",
                 "--interface-scan-interval", "0.2", "--log-level", "info"],
                name: "listener", executable: ip)
            let key = try await listener.value(after: "key: ", inStandardError: true)
            let port = try await listener.value(after: "listening: ", inStandardError: true).split(separator: ":").last.map(String.init) ?? ""
            let first = try await listener.value(after: "published: ", inStandardError: true)
            #expect(first.hasSuffix(" \(namespaces.address(1)):\(port)"), "\(first)")

            let connector = try children.start(
                ["netns", "exec", namespaces.b, keyway, "connect", key, "--seed", "\(namespaces.address(1)):\(port)",
                 "--state-dir", "c", "--listen", "0.0.0.0:0"],
                name: "connector", pipeInput: true, executable: ip)
            let input = try #require(connector.inputPipe)
            // The first half, then wait until the listener has written all of it out.
            try await Self.write(sent[..<half], to: input)
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(30)
            while StreamCommandTests.size(ofFile: listener.stdoutPath) < half {
                guard clock.now < deadline, listener.isRunning else { throw NetworkNamespaces.Failure(description: "first half not delivered") }
                try await Task.sleep(for: .milliseconds(10))
            }
            // The listener's address changes; the second half must follow it.
            let movedAt = clock.now
            let add = ["-n", namespaces.a, "addr", "add", namespaces.address(3) + "/24", "dev", namespaces.linkA]
            let remove = ["-n", namespaces.a, "addr", "del", namespaces.address(1) + "/24", "dev", namespaces.linkA]
            if makeBeforeBreak {
                try NetworkNamespaces.run(add)
                try NetworkNamespaces.run(remove)
            } else {
                // No address for 1.5 s: the listener notices (its interface scan runs every
                // 0.2 s) and tells its peers, whose sends fail with ENETUNREACH.
                try NetworkNamespaces.run(remove)
                try await Task.sleep(for: .milliseconds(1500))
                try NetworkNamespaces.run(add)
            }
            // Written while the exit is awaited: a connector that hangs is killed at the
            // deadline, which ends a blocked write (EPIPE; SIGPIPE is ignored).
            let rest = Task {
                try await Self.write(sent[half...], to: input)
                try input.close()
            }
            #expect(try await connector.exit(timeout: .seconds(60)) == 0, "connector: \(connector.stderr)\nlistener: \(listener.stderr)")
            try await rest.value
            #expect(try await listener.exit(timeout: .seconds(10)) == 0, "\(listener.stderr)")
            let elapsed = clock.now - movedAt
            #expect(try StreamCommandTests.digest(ofFile: listener.stdoutPath) == BLAKE2b.hash(sent, outputLength: 32))
            let republished = listener.stderrLines.filter { $0.hasPrefix("published: ") && $0.hasSuffix(" \(namespaces.address(3)):\(port)") }
            #expect(republished.count == 1, "\(listener.stderr)")
            if !makeBeforeBreak {
                #expect(listener.stderrLines.contains { $0.contains("the socket is open again") }, "\(listener.stderr)")
            }
            print("address change mid-transfer: second half delivered \(elapsed) after the move")
        }
    }

    /// Writes `bytes` to `handle` on a thread of its own (a full pipe blocks).
    static func write(_ bytes: ArraySlice<UInt8>, to handle: FileHandle) async throws {
        let data = Data(bytes)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try handle.write(contentsOf: data)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
