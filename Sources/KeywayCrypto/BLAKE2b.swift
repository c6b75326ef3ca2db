import CSodium

/// BLAKE2b (`crypto_generichash`), the hash of our Noise suite.
public enum BLAKE2b {
    /// The output length Noise uses (`HASHLEN`), and the largest libsodium allows.
    public static let maximumOutputLength = 64
    /// The internal block length (`BLOCKLEN` in Noise's HMAC).
    public static let blockLength = 128
    /// The largest key libsodium accepts for keyed hashing.
    public static let maximumKeyLength = 64

    /// The BLAKE2b digest of `message`, `outputLength` bytes long (1...64), keyed when `key` is
    /// not empty (at most 64 bytes).
    public static func hash(
        _ message: some Sequence<UInt8>, outputLength: Int = maximumOutputLength, key: [UInt8] = []
    ) -> [UInt8] {
        precondition((1...maximumOutputLength).contains(outputLength), "BLAKE2b output length out of range")
        precondition(key.count <= maximumKeyLength, "BLAKE2b key too long")
        Sodium.ensureInitialized()
        // libsodium's one-shot call keeps its state on its own stack: no state to allocate
        // (aligned) and wipe, no copy of contiguous input. DHT write tokens hash on every `get`.
        func oneShot(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: outputLength) { output, initialized in
                key.withUnsafeBufferPointer { k in
                    _ = crypto_generichash(output.baseAddress!, outputLength, input.baseAddress, UInt64(input.count),
                                           key.isEmpty ? nil : k.baseAddress, key.count)
                }
                initialized = outputLength
            }
        }
        return message.withContiguousStorageIfAvailable(oneShot) ?? Array(message).withUnsafeBufferPointer(oneShot)
    }

    /// An incremental BLAKE2b computation.
    ///
    /// libsodium's state struct is 64-byte aligned, which Swift imports as an opaque type, so the
    /// state lives in memory this hasher allocates with that alignment and wipes when done.
    public struct Hasher {
        private final class State {
            let pointer: UnsafeMutableRawPointer
            let size = crypto_generichash_statebytes()
            init() { pointer = .allocate(byteCount: size, alignment: 64) }
            deinit {
                sodium_memzero(pointer, size)
                pointer.deallocate()
            }
            var opaque: OpaquePointer { OpaquePointer(pointer) }
        }

        private let state = State()
        private let outputLength: Int

        /// Starts a hash of `outputLength` bytes (1...64), keyed when `key` is not empty.
        public init(outputLength: Int = BLAKE2b.maximumOutputLength, key: [UInt8] = []) {
            precondition((1...BLAKE2b.maximumOutputLength).contains(outputLength), "BLAKE2b output length out of range")
            precondition(key.count <= BLAKE2b.maximumKeyLength, "BLAKE2b key too long")
            Sodium.ensureInitialized()
            self.outputLength = outputLength
            key.withUnsafeBufferPointer { k in
                _ = crypto_generichash_init(state.opaque, key.isEmpty ? nil : k.baseAddress, key.count, outputLength)
            }
        }

        /// Feeds more input.
        public mutating func update(_ bytes: some Sequence<UInt8>) {
            let array = Array(bytes)
            array.withUnsafeBufferPointer { b in
                _ = crypto_generichash_update(state.opaque, b.baseAddress, UInt64(b.count))
            }
        }

        /// The digest; the hasher must not be used afterwards.
        public mutating func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: outputLength)
            out.withUnsafeMutableBufferPointer { o in
                _ = crypto_generichash_final(state.opaque, o.baseAddress!, outputLength)
            }
            return out
        }
    }
}
