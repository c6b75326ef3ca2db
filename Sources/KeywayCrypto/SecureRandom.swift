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
