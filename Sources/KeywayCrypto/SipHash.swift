import CSodium

/// SipHash-2-4 (`crypto_shorthash`): a keyed pseudorandom function for short inputs, the MAC
/// behind DHT write tokens (a node computes one for every `get` and `get_peers` it answers).
public enum SipHash {
    /// Bytes of a key (`crypto_shorthash_KEYBYTES`).
    public static let keyLength = 16
    /// Bytes of a full tag (`crypto_shorthash_BYTES`).
    public static let outputLength = 8

    /// The first `outputLength` bytes (1...8) of the SipHash-2-4 tag of `message` under `key`
    /// (exactly ``keyLength`` bytes), in libsodium's byte order (the 64-bit tag little-endian).
    public static func hash(_ message: UnsafeBufferPointer<UInt8>, key: [UInt8], outputLength: Int = outputLength) -> [UInt8] {
        precondition(key.count == keyLength, "SipHash key must be \(keyLength) bytes")
        precondition((1...Self.outputLength).contains(outputLength), "SipHash output length out of range")
        Sodium.ensureInitialized()
        var tag: UInt64 = 0
        withUnsafeMutableBytes(of: &tag) { out in
            key.withUnsafeBufferPointer { k in
                _ = crypto_shorthash(out.baseAddress!.assumingMemoryBound(to: UInt8.self), message.baseAddress,
                                     UInt64(message.count), k.baseAddress!)
            }
        }
        return withUnsafeBytes(of: &tag) { Array($0.prefix(outputLength)) }
    }

    /// ``hash(_:key:outputLength:)`` of the bytes of an array.
    public static func hash(_ message: [UInt8], key: [UInt8], outputLength: Int = outputLength) -> [UInt8] {
        message.withUnsafeBufferPointer { hash($0, key: key, outputLength: outputLength) }
    }
}
