import CSodium

/// Cryptographically secure randomness from libsodium (`randombytes_buf`).
///
/// The protocol core never calls this: it takes a seeded generator from its caller. The runtime
/// uses this to seed that generator and to create identities.
public enum SecureRandom {
    /// `count` random bytes.
    public static func bytes(count: Int) -> [UInt8] {
        Sodium.ensureInitialized()
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) }
        return out
    }

    /// A random 64-bit value.
    public static func uint64() -> UInt64 {
        Sodium.ensureInitialized()
        var value: UInt64 = 0
        withUnsafeMutableBytes(of: &value) { randombytes_buf($0.baseAddress!, $0.count) }
        return value
    }
}

/// A `RandomNumberGenerator` backed by libsodium, for code outside the deterministic core.
public struct SecureRandomNumberGenerator: RandomNumberGenerator, Sendable {
    /// Creates a generator; it has no state of its own.
    public init() {}
    /// The next random value.
    public mutating func next() -> UInt64 { SecureRandom.uint64() }
}

extension SecureRandom {
    /// Length of the seed of ``deterministicBytes(count:seed:)``.
    public static let deterministicSeedLength = 32

    /// `count` bytes of ChaCha20 keystream under `seed` (libsodium
    /// `randombytes_buf_deterministic`): the same seed gives the same bytes. With a secret seed
    /// of ``deterministicSeedLength`` random bytes the output is cryptographically secure.
    /// A seed of another length gives `nil`.
    public static func deterministicBytes(count: Int, seed: SecureBytes) -> [UInt8]? {
        guard seed.count == deterministicSeedLength else { return nil }
        Sodium.ensureInitialized()
        guard count > 0 else { return [] }
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { buffer in
            seed.withUnsafeBytes { key in
                randombytes_buf_deterministic(buffer.baseAddress!, buffer.count, key.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        return out
    }
}
