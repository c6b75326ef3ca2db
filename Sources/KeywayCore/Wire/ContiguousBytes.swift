// Input bytes as one contiguous buffer, which both decoders read in place.

extension UnsafeBufferPointer<UInt8> {
    /// A copy of the bytes in `range`, which the caller has checked lies inside the buffer.
    @inline(__always)
    func array(_ range: Range<Int>) -> [UInt8] {
        Array(UnsafeBufferPointer(rebasing: self[range]))
    }

    /// Whether the bytes in `range` are exactly those of `literal`.
    @inline(__always)
    func matches(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount, range.lowerBound >= 0, range.upperBound <= count else { return false }
        let expected = literal.utf8Start
        var i = 0
        while i < range.count {
            if self[range.lowerBound + i] != expected[i] { return false }
            i += 1
        }
        return true
    }
}

/// Runs `body` on the bytes of `input` in one contiguous buffer, copying them only when the
/// collection does not store them contiguously already (arrays and slices do).
///
/// Inlinable, so that each public decoder's generic entry point specializes in its caller and
/// hands a plain buffer to the non-generic decoder behind it.
@inlinable
func withContiguousBytes<Output, Failure: Error>(
    _ input: some Collection<UInt8>,
    _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Output
) throws(Failure) -> Output {
    // `withContiguousStorageIfAvailable` is `rethrows`, which would erase the typed error;
    // carrying it out in a `Result` keeps it typed. (`Result.init(catching:)` would do, but it
    // is not specialized here and copies its payload through value witnesses, which showed in
    // profiles.)
    func run(_ buffer: UnsafeBufferPointer<UInt8>) -> Result<Output, Failure> {
        do throws(Failure) {
            return .success(try body(buffer))
        } catch {
            return .failure(error)
        }
    }
    let outcome = input.withContiguousStorageIfAvailable(run) ?? Array(input).withUnsafeBufferPointer(run)
    switch consume outcome {
    case let .success(output): return output
    case let .failure(failure): throw failure
    }
}
