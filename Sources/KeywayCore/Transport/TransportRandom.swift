import KeywayCrypto

/// The transport core's randomness: ephemeral keys, session indices, state IDs, cookie secrets
/// and nonces, and retry jitter.
///
/// Two sources, both driven by a seed the caller gives, so the core stays pure:
/// - ``init(seed:)``: xoshiro256** from a 64-bit seed (``SeededRandom``), for simulations and
///   tests, which must be reproducible. Not secure: 64 bits of seed, and the generator's state
///   can be recovered from its outputs.
/// - ``init(secretSeed:)``: a ChaCha20 keystream under a 256-bit secret seed, rekeyed from its
///   own output every ``blockSize`` bytes (fast key erasure: a later compromise of the state
///   reveals no earlier output). The runtime seeds it from libsodium's `randombytes_buf`.
public struct TransportRandom: RandomNumberGenerator, Sendable {
    /// Bytes drawn from the keystream per refill, besides the next key.
    public static let blockSize = 256

    private enum Source: Sendable {
        case seeded(SeededRandom)
        case keyed(key: SecureBytes, buffer: [UInt8], position: Int)
    }

    private var source: Source

    /// A reproducible, insecure generator for simulations and tests.
    public init(seed: UInt64) {
        source = .seeded(SeededRandom(seed: seed))
    }

    /// A cryptographically secure generator from ``SecureRandom/deterministicSeedLength`` (32)
    /// secret random bytes; `nil` for a seed of another length.
    public init?(secretSeed: SecureBytes) {
        guard secretSeed.count == SecureRandom.deterministicSeedLength else { return nil }
        source = .keyed(key: secretSeed, buffer: [], position: 0)
    }

    /// Whether the generator is the secure, keyed one.
    public var isSecure: Bool {
        if case .keyed = source { return true }
        return false
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        switch source {
        case var .seeded(generator):
            let value = generator.next()
            source = .seeded(generator)
            return value
        case .keyed:
            var value: UInt64 = 0
            for byte in bytes(count: 8) { value = value << 8 | UInt64(byte) }
            return value
        }
    }

    /// `count` random bytes.
    public mutating func bytes(count: Int) -> [UInt8] {
        switch source {
        case var .seeded(generator):
            let out = generator.bytes(count: count)
            source = .seeded(generator)
            return out
        case .keyed(var key, var buffer, var position):
            var out = [UInt8]()
            out.reserveCapacity(count)
            while out.count < count {
                if position == buffer.count {
                    // Cannot fail: the key always has the right length.
                    var block = SecureRandom.deterministicBytes(count: SecureRandom.deterministicSeedLength + Self.blockSize, seed: key) ?? []
                    key = SecureBytes(block.prefix(SecureRandom.deterministicSeedLength))
                    buffer = Array(block.dropFirst(SecureRandom.deterministicSeedLength))
                    // The block held the next key and the bytes now in `buffer`: leave no copy.
                    NoiseHKDF.wipe(&block)
                    position = 0
                }
                let take = min(count - out.count, buffer.count - position)
                out.append(contentsOf: buffer[position..<position + take])
                // Used bytes are wiped, so they cannot be read back from the buffer later.
                for index in position..<position + take { buffer[index] = 0 }
                position += take
            }
            source = .keyed(key: key, buffer: buffer, position: position)
            return out
        }
    }
}
