import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `keyway` binary the tests run: `$KEYWAY_BINARY`, else the one `swift build` put next to
/// the test bundle, else the package's `.build/debug/keyway`.
enum KeywayBinary {
    struct NotFound: Error, CustomStringConvertible {
        let searched: [String]
        var description: String { "no keyway binary; searched \(searched.joined(separator: ", ")) (run swift build)" }
    }

    static func path() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["KEYWAY_BINARY"] { return explicit }
        var directories = [String]()
        // Linux: .build/<triple>/debug/keywayPackageTests.xctest is the test executable itself.
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        directories.append(executable.deletingLastPathComponent().path)
        // macOS: .build/debug/keywayPackageTests.xctest/Contents/MacOS/keywayPackageTests.
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().path)
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        directories.append(packageRoot.appendingPathComponent(".build/debug").path)
        let candidates = directories.map { $0 + "/keyway" }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        throw NotFound(searched: candidates)
    }
}

/// A `keyway` process a test started, its output going to files in the test's directory (so
/// nothing blocks on a full pipe and the output can be read at any time).
final class ChildProcess: Sendable {
    struct Timeout: Error, CustomStringConvertible {
        let description: String
    }

    /// The process ID.
    let pid: Int32
    /// Where standard output goes.
    let stdoutPath: String
    /// Where standard error goes.
    let stderrPath: String
    private let process: Mutex<Process>
    /// The write end of standard input, when started with `pipeInput`.
    let inputPipe: FileHandle?
    private let exitStatus: Task<Int32, Never>

    /// Starts `keyway` (or `executable`) with `arguments` in `directory`; `name` names its
    /// output files. Standard input is `/dev/null`, the file `standardInput`, or a pipe the
    /// test writes to (``inputPipe``) with `pipeInput`.
    init(
        _ arguments: [String], directory: String, name: String, environment: [String: String] = [:],
        standardInput: String? = nil, pipeInput: Bool = false, executable: String? = nil
    ) throws {
        stdoutPath = "\(directory)/\(name).stdout"
        stderrPath = "\(directory)/\(name).stderr"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable ?? KeywayBinary.path())
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var inherited = ProcessInfo.processInfo.environment
        for variable in ["KEYWAY_SEEDS", "KEYWAY_LOG_LEVEL"] { inherited.removeValue(forKey: variable) }
        inherited["XDG_DATA_HOME"] = directory + "/xdg"
        process.environment = inherited.merging(environment) { $1 }
        if pipeInput {
            let pipe = Pipe()
            process.standardInput = pipe
            inputPipe = pipe.fileHandleForWriting
        } else {
            process.standardInput = try standardInput.map { path in
                guard let handle = FileHandle(forReadingAtPath: path) else { throw Timeout(description: "cannot open \(path)") }
                return handle
            } ?? FileHandle.nullDevice
            inputPipe = nil
        }
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            continuation.yield(finished.terminationReason == .exit ? finished.terminationStatus : 128 + finished.terminationStatus)
            continuation.finish()
        }
        try process.run()
        pid = process.processIdentifier
        exitStatus = Task {
            for await status in stream { return status }
            return -1
        }
        self.process = Mutex(process)
    }

    /// Everything written to standard output so far.
    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    /// Everything written to standard error so far.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Complete lines of standard output so far.
    var stdoutLines: [String] {
        let text = stdout
        let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n") ?? text.startIndex)])
        return complete.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    /// Complete lines of standard error so far.
    var stderrLines: [String] {
        let text = stderr
        let complete = text.hasSuffix("\n") ? text : String(text[..<(text.lastIndex(of: "\n") ?? text.startIndex)])
        return complete.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    /// The rest of the first stdout (or, with `inStandardError`, stderr) line after `prefix`,
    /// among lines after the first `skipping`; waits for it until `timeout`, polling the output
    /// file.
    func value(
        after prefix: String, skipping: Int = 0, inStandardError: Bool = false, timeout: Duration = .seconds(10)
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let lines = inStandardError ? stderrLines : stdoutLines
            if let line = lines.dropFirst(skipping).first(where: { $0.hasPrefix(prefix) }) {
                return String(line.dropFirst(prefix.count))
            }
            guard clock.now < deadline, isRunning else {
                throw Timeout(description: "no \"\(prefix)\" line from pid \(pid) within \(timeout); stdout: \(stdout) stderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whether the process has not exited yet.
    var isRunning: Bool { process.withLock { $0.isRunning } }

    /// The exit status (128 + the signal for a process killed by one), waiting until `timeout`;
    /// kills the process and throws when it has not exited by then.
    func exit(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let status = exitStatus
        let result = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await status.value }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            // The group waits for every child, and the status task ends only with the process:
            // kill it here, or a hung process holds the test until it exits by itself.
            if first == nil { kill(pid, SIGKILL) }
            group.cancelAll()
            return first
        }
        guard let result else {
            throw Timeout(description: "pid \(pid) did not exit within \(timeout); stderr: \(stderr)")
        }
        return result
    }

    /// Sends `signal` (SIGTERM by default).
    func signal(_ number: Int32 = SIGTERM) {
        if isRunning { kill(pid, number) }
    }
}

/// Every process a test started; ``killAll()`` (call it in a `defer`) kills those still running.
final class ChildProcesses: Sendable {
    private let children = Mutex<[ChildProcess]>([])
    let directory: String

    init(directory: String) { self.directory = directory }

    /// Starts `keyway arguments` (or `executable`) and remembers it.
    func start(
        _ arguments: [String], name: String, environment: [String: String] = [:], standardInput: String? = nil,
        pipeInput: Bool = false, executable: String? = nil
    ) throws -> ChildProcess {
        let child = try ChildProcess(
            arguments, directory: directory, name: name, environment: environment, standardInput: standardInput,
            pipeInput: pipeInput, executable: executable)
        children.withLock { $0.append(child) }
        return child
    }

    /// Runs `keyway arguments` (or `executable`) to its end: exit status, stdout, stderr.
    func run(
        _ arguments: [String], name: String, environment: [String: String] = [:], executable: String? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> (status: Int32, stdout: String, stderr: String) {
        let child = try start(arguments, name: name, environment: environment, executable: executable)
        let status = try await child.exit(timeout: timeout)
        return (status, child.stdout, child.stderr)
    }

    /// Kills every process still running.
    func killAll() {
        for child in children.withLock({ $0 }) { child.signal(SIGKILL) }
    }
}
