import Foundation
import KeywayCore
import KeywayCrypto
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 12, attack 12 and item 6: `keyway listen` exposes a local service to peers, so it must
/// not start open to every key by mistake. Without `--allow`, `--allow-file` or
/// `--mesh-secret-file` it refuses (one line, exit status 2) unless `--allow-any` says so; with
/// an allow-list, a throw-away key's stream reaches nothing.
@Suite(.timeLimit(.minutes(2)))
struct ListenExposureTests {
    @Test func listenWithoutARestrictionRefusesToStartInOneLineWithStatusTwo() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let service = try TCPProbeService()
            defer { service.stop() }
            let cases: [[String]] = [
                ["listen", "--listen", "127.0.0.1:0"],
                ["listen", "--listen", "127.0.0.1:0", "--forward", "127.0.0.1:\(service.port)"],
            ]
            for (index, arguments) in cases.enumerated() {
                let result = try await children.run(arguments + ["--state-dir", "s"], name: "open\(index)")
                #expect(result.status == 2, "\(arguments): \(result.stderr)")
                let lines = result.stderr.split(separator: "\n")
                #expect(lines.count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.hasPrefix("keyway: "), "\(arguments): \(result.stderr)")
                #expect(result.stderr.contains("--allow KEY") && result.stderr.contains("--allow-any"), "\(result.stderr)")
                #expect(result.stdout.isEmpty, "\(arguments): \(result.stdout)")
            }
            // It refused before doing anything: no identity was created, nothing was served.
            #expect(!FileManager.default.fileExists(atPath: directory + "/s"))
            #expect(service.requests.isEmpty)
            // --allow-any with an allow-list is a contradiction, also refused.
            let key = Ed25519.KeyPair.generate().publicKey.zBase32
            let both = try await children.run(["listen", "--allow-any", "--allow", key, "--state-dir", "s"], name: "both")
            #expect(both.status == 2 && both.stderr.split(separator: "\n").count == 1, "\(both.stderr)")
        }
    }

    /// A restriction that someone else could undo is refused too: a mesh secret others may
    /// read, an allow file others may change. One line naming the file and the fix, status 2.
    @Test func unsafeSecretAndAllowFilesAreOneLineWithTheFix() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            try Data("correct horse\n".utf8).write(to: URL(fileURLWithPath: directory + "/secret"))
            #expect(chmod(directory + "/secret", 0o644) == 0)
            try Data("\(Ed25519.KeyPair.generate().publicKey.zBase32)\n".utf8).write(to: URL(fileURLWithPath: directory + "/allowed"))
            #expect(chmod(directory + "/allowed", 0o666) == 0)
            let cases: [([String], String)] = [
                (["listen", "--mesh-secret-file", "secret"], "run chmod 600 secret"),
                (["listen", "--allow-file", "allowed"], "run chmod go-w allowed"),
            ]
            for (index, (arguments, fix)) in cases.enumerated() {
                let result = try await children.run(arguments + ["--state-dir", "s"], name: "unsafe\(index)")
                #expect(result.status == 2, "\(arguments): \(result.stderr)")
                #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
                #expect(result.stderr.hasSuffix(fix + "\n"), "\(arguments): \(result.stderr)")
            }
        }
    }

    /// Attack 12: a throw-away key sends `GET /secret` to a forwarding listener. With an allow
    /// file that names another key, the service sees nothing and the dialler gets nothing; the
    /// key in the file is served.
    @Test func aThrowAwayKeysStreamReachesNothingWhileAnAllowedKeyIsServed() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            let service = try TCPProbeService()
            defer { service.stop() }
            let request = Array("GET /secret HTTP/1.0\r\n\r\n".utf8)
            try Data(request).write(to: URL(fileURLWithPath: directory + "/request"))

            let identity = try await children.run(["id", "--state-dir", "friend"], name: "friend-id")
            #expect(identity.status == 0, "\(identity.stderr)")
            let friend = identity.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try Data("# the laptop\n\n  \(friend)  # friend\n".utf8).write(to: URL(fileURLWithPath: directory + "/allowed"))

            let listener = try children.start(
                ["listen", "--state-dir", "l", "--listen", "127.0.0.1:0", "--forward", "127.0.0.1:\(service.port)",
                 "--allow-file", "allowed"],
                name: "listener")
            let key = try await listener.value(after: "key: ", inStandardError: true)
            let address = try await listener.value(after: "listening: ", inStandardError: true)

            let stranger = try children.start(
                ["connect", "\(key)@\(address)", "--state-dir", "stranger", "--listen", "127.0.0.1:0", "--timeout", "2"],
                name: "stranger", standardInput: directory + "/request")
            #expect(try await stranger.exit() == 1, "\(stranger.stderr)")
            #expect(stranger.stdout.isEmpty, "\(stranger.stdout)")
            #expect(service.requests.isEmpty, "the service was reached: \(service.requests)")

            let allowed = try children.start(
                ["connect", "\(key)@\(address)", "--state-dir", "friend", "--listen", "127.0.0.1:0"],
                name: "allowed", standardInput: directory + "/request")
            #expect(try await allowed.exit() == 0, "\(allowed.stderr)")
            #expect(allowed.stdout == String(decoding: TCPProbeService.reply, as: UTF8.self))
            #expect(service.requests == [request])
            #expect(!listener.stderrLines.contains { $0.hasPrefix("accepted: ") && !$0.hasSuffix(friend) }, "\(listener.stderr)")
            // SIGTERM is how a service is told to stop: a clean exit, as for `run`.
            listener.signal()
            #expect(try await listener.exit() == 0, "\(listener.stderr)")
        }
    }
}
