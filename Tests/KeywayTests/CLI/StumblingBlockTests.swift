import Foundation
import Keyway
import KeywayCore
import KeywayCrypto
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 15's stumbling blocks, met when keyway was tried as a new user would, each fixed and
/// shown here as the user sees it: a version, one default in each option's help, a connect that
/// waits for a record published after it started, listen's status lines in one place, the
/// seeds of `KEYWAY_SEEDS` on `run` said so, a loopback mesh that stays on loopback, and a
/// connect that sends at once with one CPU.
@Suite(.timeLimit(.minutes(2)))
struct StumblingBlockTests {
    /// Runs `body` with a process registry in a fresh directory; kills leftovers whatever happens.
    private func withProcesses<R>(_ body: (ChildProcesses) async throws -> R) async throws -> R {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            return try await body(children)
        }
    }

    @Test func versionFlagAndVersionCommandPrintTheSameLine() async throws {
        try await withProcesses { children in
            for (index, arguments) in [["--version"], ["version"]].enumerated() {
                let result = try await children.run(arguments, name: "version\(index)")
                #expect(result.status == 0, "\(arguments): \(result.stderr)")
                #expect(result.stdout == "keyway \(Keyway.version)\n", "\(arguments): \(result.stdout)")
                #expect(result.stderr.isEmpty, "\(arguments): \(result.stderr)")
            }
        }
    }

    /// ArgumentParser prints a default of its own; a help text that also said "(default 10)"
    /// showed it twice. Every option of every command names its default at most once.
    @Test func everyOptionsHelpNamesItsDefaultAtMostOnce() async throws {
        try await withProcesses { children in
            for command in ["run", "resolve", "listen", "connect", "forward", "id", "demo", "version"] {
                let result = try await children.run([command, "--help"], name: "help-\(command)")
                #expect(result.status == 0, "\(command): \(result.stderr)")
                // An option's block: its first line ("  --name ...") and the indented lines after it.
                var blocks = [String]()
                for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("  -") {
                        blocks.append(String(line))
                    } else if line.hasPrefix("    "), !blocks.isEmpty {
                        blocks[blocks.count - 1] += " " + line.trimmingCharacters(in: .whitespaces)
                    } else if !line.hasPrefix(" ") {
                        blocks.append("")
                    }
                }
                for block in blocks where !block.isEmpty {
                    let defaults = block.components(separatedBy: "default").count - 1
                    #expect(defaults <= 1, "\(command): \(block)")
                }
                if command == "connect" {
                    let timeout = try #require(blocks.first { $0.hasPrefix("  --timeout") })
                    #expect(timeout.contains("(default: 10.0)"), "\(timeout)")
                }
            }
        }
    }

    /// The listener's key is known before it runs (`keyway id`); `connect` starts first, finds
    /// no record (it says so at debug level), and must still reach the listener that publishes
    /// afterwards, within its `--timeout`: it used to exit 1 at once with "no endpoint record".
    /// Neither side names a listening address: with a seed on loopback both stay on loopback.
    @Test func connectWaitsForARecordPublishedAfterItStarted() async throws {
        try await withProcesses { children in
            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0"], name: "seed")
            let seedAddress = try await seed.value(after: "listening: ")
            let id = try await children.run(["id", "--state-dir", "l"], name: "id")
            let key = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try Data("hello\n".utf8).write(to: URL(fileURLWithPath: children.directory + "/hello"))

            let connector = try children.start(
                ["connect", key, "--seed", seedAddress, "--state-dir", "c", "--timeout", "30", "--log-level", "debug"],
                name: "connector", standardInput: children.directory + "/hello")
            #expect(try await connector.value(after: "listening: ", inStandardError: true).hasPrefix("127.0.0.1:"))
            // The first look found nothing: the connect is waiting, not failing.
            try await Self.waitFor(connector, toSay: "no endpoint record yet")
            #expect(connector.isRunning, "\(connector.stderr)")

            let listener = try children.start(["listen", "--state-dir", "l", "--allow-any", "--seed", seedAddress], name: "listener")
            #expect(try await listener.value(after: "key: ", inStandardError: true) == key)
            #expect(try await listener.value(after: "listening: ", inStandardError: true).hasPrefix("127.0.0.1:"))
            #expect(try await connector.exit(timeout: .seconds(40)) == 0, "\(connector.stderr)")
            #expect(try await listener.exit() == 0, "\(listener.stderr)")
            #expect(listener.stdout == "hello\n")
            let published = try await listener.value(after: "published: ", inStandardError: true)
            let endpoints = published.split(separator: " ").last.map { $0.split(separator: ",") } ?? []
            #expect(!endpoints.isEmpty && endpoints.allSatisfy { $0.hasPrefix("127.0.0.1:") }, "\(published)")
            seed.signal()
            #expect(try await seed.exit() == 0)
        }
    }

    /// Polls `child`'s standard error until a line contains `text` (bounded: 20 s).
    static func waitFor(_ child: ChildProcess, toSay text: String, timeout: Duration = .seconds(20)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while !child.stderrLines.contains(where: { $0.contains(text) }) {
            guard clock.now < deadline, child.isRunning else {
                throw ChildProcess.Timeout(description: "no \"\(text)\" from pid \(child.pid); stderr: \(child.stderr)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// `listen --forward` writes its status lines where stdio `listen` does: standard error.
    @Test func listenWritesStatusLinesToStandardErrorInBothModes() async throws {
        try await withProcesses { children in
            let service = try TCPProbeService()
            defer { service.stop() }
            let forwarding = try children.start(
                ["listen", "--state-dir", "f", "--allow-any", "--listen", "127.0.0.1:0", "--forward", "127.0.0.1:\(service.port)"],
                name: "forwarding")
            let stdio = try children.start(["listen", "--state-dir", "s", "--allow-any", "--listen", "127.0.0.1:0"], name: "stdio")
            for listener in [forwarding, stdio] {
                _ = try await listener.value(after: "key: ", inStandardError: true)
                _ = try await listener.value(after: "listening: ", inStandardError: true)
                // A lone node publishes on itself at once.
                _ = try await listener.value(after: "published: ", inStandardError: true)
                #expect(listener.stdout.isEmpty, "\(listener.stdout)")
            }
            forwarding.signal()
            #expect(try await forwarding.exit() == 0, "\(forwarding.stderr)")
            #expect(forwarding.stdout.isEmpty, "\(forwarding.stdout)")
            stdio.signal()
            #expect(try await stdio.exit() == 130, "\(stdio.stderr)")
        }
    }

    /// `run` applies `KEYWAY_SEEDS`, as every command does, and says so on standard error and
    /// in `run --help`; given no `--listen`, a node whose seeds are on loopback listens and
    /// publishes on loopback only.
    @Test func runSaysItUsesTheSeedsOfTheEnvironmentAndStaysOnLoopback() async throws {
        try await withProcesses { children in
            let help = try await children.run(["run", "--help"], name: "help")
            #expect(help.stdout.contains("$KEYWAY_SEEDS are added"), "\(help.stdout)")
            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0"], name: "seed")
            let seedAddress = try await seed.value(after: "listening: ")
            let node = try children.start(["run", "--state-dir", "node"], name: "node", environment: ["KEYWAY_SEEDS": seedAddress])
            #expect(try await node.value(after: "listening: ").hasPrefix("127.0.0.1:"))
            _ = try await node.value(after: "bootstrapped: ")
            let published = try await node.value(after: "published: ")
            let endpoints = published.split(separator: " ").last.map { $0.split(separator: ",") } ?? []
            #expect(!endpoints.isEmpty && endpoints.allSatisfy { $0.hasPrefix("127.0.0.1:") }, "\(published)")
            #expect(node.stderrLines.contains { $0.contains("KEYWAY_SEEDS") && $0.contains(seedAddress) }, "\(node.stderr)")
            for child in [node, seed] {
                child.signal()
                #expect(try await child.exit() == 0, "\(child.stderr)")
            }
        }
    }

    /// Pinned to one CPU, `connect` used to hand its first bytes to the stream about a second
    /// late: its blocking read of standard input occupied libdispatch's only worker, which the
    /// async tasks also need (measured 0.99 s for the first line, every time). Bytes written to
    /// its input once it is connected must reach the listener within half a second. A loaded
    /// machine (the whole suite on two cores, this process pinned to one) can delay a round by
    /// itself, so up to three fresh connects are tried and one must be fast in every round;
    /// the stall it guards against delayed the first round of every connect.
    @Test func connectOnOneCPUSendsWhatItReadsAtOnce() async throws {
        let taskset = "/usr/bin/taskset"
        guard FileManager.default.isExecutableFile(atPath: taskset) else {
            print("skipped: no \(taskset) (util-linux) to pin keyway connect to one CPU")
            return
        }
        try await withProcesses { children in
            var attempts = [[Duration]]()
            for attempt in 1...3 {
                let delays = try await Self.pingThroughAConnectOnOneCPU(children, taskset: taskset, attempt: attempt)
                attempts.append(delays)
                if delays.allSatisfy({ $0 < .milliseconds(500) }) { break }
            }
            #expect(attempts.last?.allSatisfy { $0 < .milliseconds(500) } == true, "input to listener with one CPU: \(attempts)")
            print("one CPU: input to listener in \(attempts)")
        }
    }

    /// One listener and one `connect` pinned to CPU 0; three lines written to the connect one at
    /// a time, each timed until the listener has written it out.
    static func pingThroughAConnectOnOneCPU(_ children: ChildProcesses, taskset: String, attempt: Int) async throws -> [Duration] {
        let listener = try children.start(
            ["listen", "--state-dir", "l\(attempt)", "--allow-any", "--listen", "127.0.0.1:0"], name: "listener\(attempt)")
        let key = try await listener.value(after: "key: ", inStandardError: true)
        let address = try await listener.value(after: "listening: ", inStandardError: true)
        let connector = try children.start(
            ["-c", "0", try KeywayBinary.path(), "connect", "\(key)@\(address)", "--state-dir", "c", "--listen", "127.0.0.1:0"],
            name: "connector\(attempt)", pipeInput: true, executable: taskset)
        _ = try await connector.value(after: "connected: ", inStandardError: true)
        let clock = ContinuousClock()
        var delays = [Duration]()
        for round in 1...3 {
            let line = "ping \(round)\n"
            let written = clock.now
            try connector.inputPipe?.write(contentsOf: Data(line.utf8))
            while !listener.stdout.hasSuffix(line) {
                guard clock.now - written < .seconds(10), listener.isRunning else { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            delays.append(clock.now - written)
        }
        #expect(listener.stdout == "ping 1\nping 2\nping 3\n", "\(listener.stderr)")
        try connector.inputPipe?.close()
        #expect(try await connector.exit() == 0, "\(connector.stderr)")
        #expect(try await listener.exit() == 0, "\(listener.stderr)")
        return delays
    }
}
