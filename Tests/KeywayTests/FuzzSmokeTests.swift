import Foundation
import Testing

/// Issue 12, item 8: a short run of every libFuzzer target of `Tests/Fuzz` (Docs/FUZZING.md), so
/// a target that no longer starts, or an input of the seed corpus that now crashes, fails the
/// suite. The targets take minutes to build with the sanitizers, more than the suite may spend,
/// so this runs the binaries `Tests/Fuzz/run.sh --build-only` left in `.build/fuzz/`, and is
/// skipped with one line when they are not there (or the toolchain could not build them).
@Suite(.timeLimit(.minutes(2)))
struct FuzzSmokeTests {
    static let targets = ["bencode", "krpc", "dns", "transport-packet", "transport-frames", "noise"]
    /// Seconds each target runs.
    static let secondsPerTarget = 2

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func binary(_ target: String) -> String {
        packageRoot.appendingPathComponent(".build/fuzz/fuzz-\(target)").path
    }

    /// Why the smoke run cannot happen, or `nil`.
    static let unavailableReason: String? = {
        let missing = targets.filter { !FileManager.default.isExecutableFile(atPath: binary($0)) }
        guard missing.isEmpty else {
            return "fuzz targets not built (\(missing.joined(separator: ", "))): run Tests/Fuzz/run.sh --build-only"
        }
        return nil
    }()

    @Test(.enabled(if: unavailableReason == nil, "skipped: \(unavailableReason ?? "")"), arguments: targets)
    func everyTargetRunsItsSeedCorpusAndAFewSecondsClean(_ target: String) async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let corpus = Self.packageRoot.appendingPathComponent("Tests/Fuzz/corpus/\(target)").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary(target))
            // New inputs go to the temporary directory; the seed corpus is only read.
            process.arguments = [
                "-max_total_time=\(Self.secondsPerTarget)", "-seed=1", "-max_len=2048", "-rss_limit_mb=2048",
                "-artifact_prefix=\(directory)/", directory, corpus,
            ]
            let log = directory + "/log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            defer { try? handle.close() }
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            let exited = Task.detached { process.waitUntilExit() }
            await exited.value
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(process.terminationStatus == 0, "\(target): \(output.suffix(2_000))")
            #expect(output.contains("Done "), "\(target): \(output.suffix(2_000))")
        }
    }
}
