import Foundation
import KeywayCore
import KeywayCrypto
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 5's real-socket "done when": `keyway connect` and `keyway listen` processes carry 10 MB
/// through a NAT that rebinds mid-transfer, and across a real address change in network
/// namespaces; a restarted listener is reachable again within 3 s; bad input is one line and
/// exit status 2.
@Suite(.timeLimit(.minutes(2)))
struct StreamCommandTests {
    /// Bytes of the big transfers.
    static let transferSize = 10 * 1024 * 1024
    /// How soon a restarted listener must be reachable again.
    static let restartDeadline: Duration = .seconds(3)

    /// `count` deterministic random bytes written to `path`.
    static func writeInput(_ path: String, count: Int, seed: UInt64) throws -> [UInt8] {
        var rng = SeededRandom(seed: seed)
        let bytes = rng.bytes(count: count)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return bytes
    }

    /// BLAKE2b-256 of the file at `path`.
    static func digest(ofFile path: String) throws -> [UInt8] {
        BLAKE2b.hash(Array(try Data(contentsOf: URL(fileURLWithPath: path))), outputLength: 32)
    }

    static func size(ofFile path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }

    @Test func tenMegabytesThroughANATThatRebindsMidTransfer() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let input = directory + "/input.bin"
            let sent = try Self.writeInput(input, count: Self.transferSize, seed: 5)

            let listener = try children.start(["listen", "--state-dir", "l", "--allow-any", "--listen", "127.0.0.1:0", "--log-level", "info"], name: "listener")
            let key = try await listener.value(after: "key: ", inStandardError: true)
            let address = try await listener.value(after: "listening: ", inStandardError: true)
            let port = try #require(UInt16(address.split(separator: ":").last ?? ""))
            let relay = try NATRelay(targetPort: port, rebindAfter: Self.transferSize / 3)
            defer { relay.stop() }

            let clock = ContinuousClock()
            let started = clock.now
            let connector = try children.start(
                ["connect", "\(key)@127.0.0.1:\(relay.insidePort)", "--state-dir", "c", "--listen", "127.0.0.1:0"],
                name: "connector", standardInput: input)
            #expect(try await connector.exit(timeout: .seconds(60)) == 0, "\(connector.stderr)")
            #expect(try await listener.exit(timeout: .seconds(10)) == 0, "\(listener.stderr)")
            let elapsed = clock.now - started
            #expect(Self.size(ofFile: listener.stdoutPath) == sent.count)
            #expect(try Self.digest(ofFile: listener.stdoutPath) == BLAKE2b.hash(sent, outputLength: 32))
            #expect(relay.outsidePorts.count == 2, "the NAT did not rebind: \(relay.outsidePorts)")
            // The listener followed the dialler to the NAT's new port on its first packet.
            let moves = listener.stderrLines.filter { $0.contains("peer moved") && $0.contains("authenticatedPacket") }
            #expect(moves.count >= 1, "\(listener.stderr)")
            #expect(moves.contains { $0.contains("127.0.0.1:\(relay.outsidePorts.last ?? 0)") })
            print("10 MB through a rebinding NAT: \(elapsed), outside ports \(relay.outsidePorts)")
        }
    }

    /// The listener exits right after it reads the stream's end. When its acknowledgement of
    /// that end is lost, it must still be there to acknowledge the retransmission (it lingers),
    /// or `keyway connect` waits for an acknowledgement nobody will send.
    @Test func aLostAcknowledgementOfTheStreamEndIsGivenAgainBeforeTheListenerExits() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let input = directory + "/input.bin"
            // Small enough to go out, with its end, in the initial congestion window.
            let size = 8 * 1024
            let sent = try Self.writeInput(input, count: size, seed: 9)
            let listener = try children.start(["listen", "--state-dir", "l", "--allow-any", "--listen", "127.0.0.1:0", "--log-level", "info"], name: "listener")
            let key = try await listener.value(after: "key: ", inStandardError: true)
            let address = try await listener.value(after: "listening: ", inStandardError: true)
            let port = try #require(UInt16(address.split(separator: ":").last ?? ""))
            // Once the dialler has sent the payload's size (with ciphertext overhead: the last
            // packet or two of the one burst that carries the stream and its end), every reply
            // is dropped for 150 ms: the listener's acknowledgements of the end are lost, and it
            // reads the end and is done (its own end was acknowledged earlier) long before the
            // window closes. The dialler's retransmissions (after 30, 90, 210 ms or so on
            // loopback) are answered only if the listener is still there.
            let relay = try NATRelay(targetPort: port, rebindAfter: .max, dropRepliesAfter: size, dropWindow: .milliseconds(150))
            defer { relay.stop() }
            let connector = try children.start(
                ["connect", "\(key)@127.0.0.1:\(relay.insidePort)", "--state-dir", "c", "--listen", "127.0.0.1:0"],
                name: "connector", standardInput: input)
            #expect(try await connector.exit(timeout: .seconds(30)) == 0, "\(connector.stderr)")
            #expect(try await listener.exit(timeout: .seconds(10)) == 0, "\(listener.stderr)")
            #expect(relay.droppedReplies > 0, "the relay dropped nothing")
            #expect(try Self.digest(ofFile: listener.stdoutPath) == BLAKE2b.hash(sent, outputLength: 32))
        }
    }

    /// A peer that vanished leaves bytes unacknowledged forever; SIGTERM must still end
    /// `keyway connect` within the node's bounded linger (it used to wait minutes for the
    /// session to give up).
    @Test func sigtermEndsAConnectWhosePeerVanishedWithinTheLingerLimit() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let listener = try children.start(["listen", "--state-dir", "l", "--allow-any", "--listen", "127.0.0.1:0"], name: "listener")
            let key = try await listener.value(after: "key: ", inStandardError: true)
            let address = try await listener.value(after: "listening: ", inStandardError: true)
            let connector = try children.start(
                ["connect", "\(key)@\(address)", "--state-dir", "c", "--listen", "127.0.0.1:0"], name: "connector", pipeInput: true)
            _ = try await connector.value(after: "connected: ", inStandardError: true)
            _ = try await listener.value(after: "accepted: ", inStandardError: true)
            listener.signal(SIGKILL)
            #expect(try await listener.exit() == 128 + SIGKILL)
            // Bytes that will never be acknowledged, then SIGTERM.
            try connector.inputPipe?.write(contentsOf: Data(repeating: 0x6b, count: 16 * 1024))
            let clock = ContinuousClock()
            let signalled = clock.now
            connector.signal()
            #expect(try await connector.exit(timeout: .seconds(15)) == 130, "\(connector.stderr)")
            let waited = clock.now - signalled
            // The default KeywayNodeConfiguration.stopLingerLimit is 2 s; allow for a loaded machine.
            #expect(waited < .seconds(8), "SIGTERM took \(waited)")
        }
    }

    @Test func aRestartedListenerIsReachableAgainWithinThreeSeconds() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0"], name: "seed")
            let seedAddress = try await seed.value(after: "listening: ")
            try Data("first\n".utf8).write(to: URL(fileURLWithPath: directory + "/first"))
            try Data("second\n".utf8).write(to: URL(fileURLWithPath: directory + "/second"))
            let listen = ["listen", "--state-dir", "l", "--allow-any", "--listen", "127.0.0.1:0", "--seed", seedAddress]

            let first = try children.start(listen, name: "listener1")
            let key = try await first.value(after: "key: ", inStandardError: true)
            let firstAddress = try await first.value(after: "listening: ", inStandardError: true)
            _ = try await first.value(after: "published: ", inStandardError: true)
            // The connecting side's command, the same both times.
            let connect = ["connect", key, "--seed", seedAddress, "--state-dir", "c", "--listen", "127.0.0.1:0"]
            let one = try children.start(connect, name: "connect1", standardInput: directory + "/first")
            #expect(try await one.exit() == 0, "\(one.stderr)")
            #expect(try await first.exit() == 0, "\(first.stderr)")
            #expect(first.stdout == "first\n")

            // The listener starts again (same identity, new port); the same command connects.
            let clock = ContinuousClock()
            let restartedAt = clock.now
            let second = try children.start(listen, name: "listener2")
            let two = try children.start(connect, name: "connect2", standardInput: directory + "/second")
            #expect(try await two.exit() == 0, "\(two.stderr)")
            let elapsed = clock.now - restartedAt
            #expect(try await second.exit() == 0, "\(second.stderr)")
            #expect(second.stdout == "second\n")
            #expect(try await second.value(after: "listening: ", inStandardError: true) != firstAddress)
            #expect(elapsed < Self.restartDeadline, "reachable again after \(elapsed)")
            print("restarted listener reachable again by keyway connect after \(elapsed)")
            seed.signal()
            #expect(try await seed.exit() == 0)
        }
    }

    @Test func badInputIsOneLineAndStatusTwo() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let key = Ed25519.KeyPair.generate().publicKey.zBase32
            let cases: [[String]] = [
                ["connect", "not-a-key"],
                ["connect", "\(key)@nowhere.invalid:1"],
                ["connect", key, "--timeout", "-1"],
                ["connect", key, "--mesh-secret-file", directory + "/missing"],
                ["listen", "--allow-any", "--forward", "127.0.0.1:0"],
                ["listen", "--allow", "nope"],
                ["forward", "--local", "127.0.0.1:x", "--to", key],
                ["forward", "--local", "127.0.0.1:0", "--to", "short"],
            ]
            for (index, arguments) in cases.enumerated() {
                let result = try await children.run(arguments + ["--state-dir", "s"], name: "bad\(index)")
                #expect(result.status == 2, "\(arguments): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.hasPrefix("keyway: "), "\(arguments): \(result.stderr)")
            }
            // A key nobody published: not found, status 1.
            let seed = try children.start(["run", "--state-dir", "seed", "--listen", "127.0.0.1:0"], name: "seed")
            let seedAddress = try await seed.value(after: "listening: ")
            let missing = try await children.run(["connect", key, "--seed", seedAddress, "--state-dir", "s", "--timeout", "3"], name: "missing")
            #expect(missing.status == 1, "\(missing.stderr)")
            #expect(missing.stderr.contains("no endpoint record"), "\(missing.stderr)")
        }
    }
}
