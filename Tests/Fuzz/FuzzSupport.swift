// The libFuzzer entry points every target shares. A target file defines `fuzzOne(_:)`, which
// must return for every input (a crash, trap or sanitizer report is a finding), and
// `fuzzSeeds()`, valid inputs for the seed corpus.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer calls this with every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    fuzzOne(input)
    return 0
}

/// With `KEYWAY_FUZZ_WRITE_SEEDS=DIR`, writes ``fuzzSeeds()`` to DIR (`seed-N`) and exits: how
/// `Tests/Fuzz/corpus/<target>/` was made.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    guard let directory = getenv("KEYWAY_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (index, seed) in fuzzSeeds().enumerated() {
        let path = directory + "/seed-\(index)"
        guard let file = fopen(path, "wb") else {
            printError("cannot write \(path)")
            exit(1)
        }
        _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}

/// Stops the run with `message` when a property of the code under test does not hold.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    guard !condition else { return }
    printError("property broken: \(message())")
    abort()
}

/// Writes `line` to standard error.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
