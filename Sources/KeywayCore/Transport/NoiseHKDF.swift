import KeywayCrypto

/// `HASH`, `HMAC-HASH` and `HKDF` of Noise section 4.3, built on libsodium's BLAKE2b.
///
/// These are constructions, not primitives: HMAC is RFC 2104 over BLAKE2b-512 with
/// `BLOCKLEN` 128, and HKDF is Noise's two- or three-output form of RFC 5869. Every key and
/// output lives in ``SecureBytes``.
enum NoiseHKDF {
    /// HMAC's inner padding byte (RFC 2104).
    static let innerPad: UInt8 = 0x36
    /// HMAC's outer padding byte (RFC 2104).
    static let outerPad: UInt8 = 0x5c
    /// The number of outputs `HKDF` can produce in Noise.
    static let outputCounts = 2...3

    /// `HASH(data)`: the 64-byte BLAKE2b digest of the concatenation of `parts`.
    static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var hasher = BLAKE2b.Hasher(outputLength: Noise.hashLength)
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }

    /// `HMAC-HASH(key, data)` (RFC 2104) with BLAKE2b-512 and a 128-byte block.
    ///
    /// A key longer than `BLOCKLEN` is hashed first, as RFC 2104 says; Noise's keys are
    /// always `HASHLEN` bytes, so that never happens here.
    static func hmac(key: SecureBytes, data: SecureBytes) -> SecureBytes {
        let blockKey = key.count > Noise.blockLength
            ? key.withUnsafeBytes { SecureBytes(hash(Array($0))) } : key
        let inner = paddedKey(blockKey, pad: innerPad)
        let outer = paddedKey(blockKey, pad: outerPad)
        var hasher = BLAKE2b.Hasher(outputLength: Noise.hashLength)
        inner.withUnsafeBytes { hasher.update($0) }
        data.withUnsafeBytes { hasher.update($0) }
        var innerDigest = hasher.finalize()
        defer { wipe(&innerDigest) }
        var outerHasher = BLAKE2b.Hasher(outputLength: Noise.hashLength)
        outer.withUnsafeBytes { outerHasher.update($0) }
        outerHasher.update(innerDigest)
        var digest = outerHasher.finalize()
        defer { wipe(&digest) }
        return SecureBytes(digest)
    }

    /// `HKDF(chaining_key, input_key_material, num_outputs)`: `outputCount` (2 or 3) outputs of
    /// `HASHLEN` bytes each.
    static func hkdf(chainingKey: SecureBytes, inputKeyMaterial: SecureBytes, outputCount: Int) -> [SecureBytes] {
        precondition(outputCounts.contains(outputCount), "Noise HKDF makes two or three outputs")
        let tempKey = hmac(key: chainingKey, data: inputKeyMaterial)
        var outputs = [SecureBytes]()
        var previous = SecureBytes([UInt8]())
        for index in 1...outputCount {
            previous = hmac(key: tempKey, data: concatenate(previous, UInt8(index)))
            outputs.append(previous)
        }
        return outputs
    }

    /// The first `count` bytes of `bytes`, as Noise truncates a 64-byte HKDF output to a key.
    static func prefix(_ bytes: SecureBytes, _ count: Int) -> SecureBytes {
        precondition(count <= bytes.count, "prefix longer than the secret")
        return SecureBytes(count: count) { out in
            bytes.withUnsafeBytes { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// Overwrites `bytes` with zeros: a best effort for secrets that pass through arrays.
    static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in _ = buffer.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// `key` zero-padded to `BLOCKLEN` and XORed with `pad`.
    private static func paddedKey(_ key: SecureBytes, pad: UInt8) -> SecureBytes {
        SecureBytes(count: Noise.blockLength) { block in
            key.withUnsafeBytes { block.copyMemory(from: $0) }
            for i in 0..<Noise.blockLength { block[i] ^= pad }
        }
    }

    /// `secret || byte`, kept in secure memory.
    private static func concatenate(_ secret: SecureBytes, _ byte: UInt8) -> SecureBytes {
        SecureBytes(count: secret.count + 1) { out in
            secret.withUnsafeBytes { out.copyMemory(from: $0) }
            out[secret.count] = byte
        }
    }
}
