import KeywayCrypto

/// A cryptographically secure generator that is still deterministic: the ChaCha20 keystream
/// under a 256-bit key (libsodium's `randombytes_buf_deterministic`), rekeyed from its own
/// output every ``blockSize`` bytes (fast key erasure: the state held at any moment reveals no
/// earlier output, and no output reveals the state, unlike xoshiro's, whose four outputs give
/// away the whole sequence).
///
/// The DHT core draws its transaction IDs, write-token secrets and refresh targets from it. Its
/// seed decides everything: the runtime gives 32 bytes from libsodium's `randombytes_buf`
/// (``DHTConfiguration/randomSeed``), the simulator and tests a 64-bit seed, expanded here with
/// BLAKE2b, so their runs stay reproducible.
public struct KeyedRandom: RandomNumberGenerator, Sendable {
    /// Bytes drawn from the keystream per refill, besides the next key.
    public static let blockSize = 256
    /// Length of the key, and of a seed taken as it is.
    public static let seedLength = SecureRandom.deterministicSeedLength

    private var key: SecureBytes
    private var buffer: [UInt8] = []
    private var position = 0

    /// A generator keyed by `seed`: taken as the key when it is ``seedLength`` bytes (secret
    /// random bytes for a real node), otherwise hashed to one with BLAKE2b.
    public init(seed: SecureBytes) {
        if seed.count == Self.seedLength {
            key = seed
        } else {
            key = SecureBytes(seed.withUnsafeBytes { BLAKE2b.hash(Array($0), outputLength: Self.seedLength, key: Array("keyway-dht-rng".utf8)) })
        }
    }

    /// A reproducible generator from a 64-bit seed (simulations and tests): the key is BLAKE2b
    /// of the seed's eight little-endian bytes. Secure only as far as 64 bits of seed go.
    public init(seed: UInt64) {
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: seed >> (8 * UInt64($0))) }
        self.init(seed: SecureBytes(bytes))
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes(count: 8) { value = value << 8 | UInt64(byte) }
        return value
    }

    /// `count` random bytes.
    public mutating func bytes(count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(max(0, count))
        while out.count < count {
            if position == buffer.count {
                // Cannot fail: the key always has the right length.
                let block = SecureRandom.deterministicBytes(count: Self.seedLength + Self.blockSize, seed: key) ?? []
                key = SecureBytes(block.prefix(Self.seedLength))
                buffer = Array(block.dropFirst(Self.seedLength))
                position = 0
            }
            let take = min(count - out.count, buffer.count - position)
            out.append(contentsOf: buffer[position..<position + take])
            // Used bytes are wiped, so they cannot be read back from the buffer later.
            for index in position..<position + take { buffer[index] = 0 }
            position += take
        }
        return out
    }
}
