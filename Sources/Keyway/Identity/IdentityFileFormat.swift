import KeywayCrypto

/// The text format of an identity file, version 1: encoding and strict, self-checking decoding.
///
/// A v1 file is exactly three lines, each ended by a line feed (LF, never CR LF), 161 bytes:
///
///     keyway-identity v1
///     seed <64 hex digits: the 32-byte Ed25519 seed, the secret>
///     public <64 hex digits: the 32-byte Ed25519 public key>
///
/// keyway writes lowercase hex and reads either case. Nothing may follow the third line. The
/// public key is redundant on purpose: on load it is derived again from the seed and compared, so a
/// flipped bit anywhere in the key material is caught instead of silently becoming another
/// identity. The header line carries the version; a later format changes `v1` and everything
/// after the header, and this decoder refuses versions it does not know.
///
/// Decoding tells a *truncated* file (every byte present is a correct start of a v1 file, the rest
/// is missing) from a *malformed* one (some byte is wrong), and never quotes a byte of the seed
/// in an error. The seed is only ever held in ``SecureBytes``: encoding writes the whole file into
/// one, and decoding reads the hex straight from the caller's buffer into another.
enum IdentityFileFormat {
    /// The first word of every identity file.
    static let magic = "keyway-identity"
    /// The format version this code writes and reads.
    static let version = "v1"
    /// The label before the seed on line 2.
    static let seedLabel = "seed "
    /// The label before the public key on line 3.
    static let publicKeyLabel = "public "
    /// Line feed, the only line terminator.
    static let lineFeed = UInt8(ascii: "\n")
    /// Carriage return, refused (named in the error for files saved with CR LF line ends).
    private static let carriageReturn = UInt8(ascii: "\r")

    /// The size in bytes of every v1 file.
    static let encodedLength = header.utf8.count + 1
        + seedLabel.utf8.count + 2 * Ed25519.seedLength + 1
        + publicKeyLabel.utf8.count + 2 * Ed25519.publicKeyLength + 1

    /// Line 1 without its line feed.
    private static let header = "\(magic) \(version)"
    private static let hexDigits = Array("0123456789abcdef".utf8)

    // MARK: - Encoding

    /// The complete v1 file for `keyPair`, in memory that is zeroed when released.
    static func encode(_ keyPair: Ed25519.KeyPair) -> SecureBytes {
        SecureBytes(count: encodedLength) { out in
            var cursor = 0
            func put(_ byte: UInt8) {
                out[cursor] = byte
                cursor += 1
            }
            func put(_ text: String) { text.utf8.forEach(put) }
            func putHex(_ bytes: UnsafeRawBufferPointer) {
                for byte in bytes {
                    put(hexDigits[Int(byte >> 4)])
                    put(hexDigits[Int(byte & 0x0f)])
                }
            }
            put(header)
            put(lineFeed)
            put(seedLabel)
            keyPair.seed.withUnsafeBytes(putHex)
            put(lineFeed)
            put(publicKeyLabel)
            keyPair.publicKey.bytes.withUnsafeBytes(putHex)
            put(lineFeed)
        }
    }

    // MARK: - Decoding

    /// The key pair stored in `bytes`, the whole content of the file at `path` (named in errors).
    static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(IdentityError) -> Ed25519.KeyPair {
        var position = try checkHeader(bytes, path: path)
        let seedHex = try checkKeyLine(
            bytes, at: &position, line: 2, label: seedLabel, name: "the seed", byteCount: Ed25519.seedLength,
            path: path)
        let publicKeyHex = try checkKeyLine(
            bytes, at: &position, line: 3, label: publicKeyLabel, name: "the public key",
            byteCount: Ed25519.publicKeyLength, path: path)
        guard position == bytes.count else {
            throw .malformed(path: path, line: 4, problem: "unexpected data after the public key")
        }

        // Every digit is checked above, so decoding cannot fail from here on.
        let seed = SecureBytes(count: Ed25519.seedLength) { out in
            decodeHex(UnsafeRawBufferPointer(rebasing: bytes[seedHex]), into: out)
        }
        var storedPublicKey = [UInt8](repeating: 0, count: Ed25519.publicKeyLength)
        storedPublicKey.withUnsafeMutableBytes { out in
            decodeHex(UnsafeRawBufferPointer(rebasing: bytes[publicKeyHex]), into: out)
        }
        let keyPair: Ed25519.KeyPair
        do {
            keyPair = try Ed25519.KeyPair(seed: seed)
        } catch {
            throw .malformed(path: path, line: 2, problem: error.description)
        }
        guard keyPair.publicKey.bytes == storedPublicKey else { throw .publicKeyMismatch(path: path) }
        return keyPair
    }

    /// Checks line 1 and returns the offset just past it.
    private static func checkHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws(IdentityError) -> Int {
        let prefix = Array("\(magic) ".utf8)
        let common = min(bytes.count, prefix.count)
        guard bytes[0..<common].elementsEqual(prefix[0..<common]) else { throw .notIdentityFile(path: path) }
        guard bytes.count > prefix.count else { throw .truncated(path: path) }

        let rest = bytes[prefix.count...]
        let lineEnd = rest.firstIndex(of: lineFeed)
        let found = rest[..<(lineEnd ?? bytes.count)]
        if found.elementsEqual(version.utf8) {
            guard let lineEnd else { throw .truncated(path: path) }
            return lineEnd + 1
        }
        if lineEnd == nil, version.utf8.starts(with: found) { throw .truncated(path: path) }
        if found.last == carriageReturn {
            throw .malformed(path: path, line: 1, problem: "lines must end with a line feed alone, not CR LF")
        }
        guard isVersionToken(found) else {
            throw .malformed(path: path, line: 1, problem: "the version must be \"v\" followed by digits")
        }
        throw .unsupportedVersion(path: path, found: String(decoding: found, as: UTF8.self))
    }

    /// Whether `token` looks like a format version: `v` and one to nine decimal digits.
    private static func isVersionToken(_ token: Slice<UnsafeRawBufferPointer>) -> Bool {
        guard token.first == UInt8(ascii: "v") else { return false }
        let digits = token.dropFirst()
        return (1...9).contains(digits.count)
            && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Checks one line of `label`, `byteCount` bytes in hex and LF starting at `position`, moves
    /// `position` past it and returns the range of the hex digits. `name` says what they are.
    private static func checkKeyLine(
        _ bytes: UnsafeRawBufferPointer, at position: inout Int, line: Int, label: String, name: String,
        byteCount: Int, path: String
    ) throws(IdentityError) -> Range<Int> {
        for expected in label.utf8 {
            guard position < bytes.count else { throw .truncated(path: path) }
            guard bytes[position] == expected else {
                throw .malformed(path: path, line: line, problem: "the line must start with \"\(label)\"")
            }
            position += 1
        }
        let digitCount = 2 * byteCount
        let start = position
        while position - start < digitCount {
            guard position < bytes.count else { throw .truncated(path: path) }
            let byte = bytes[position]
            guard nibble(byte) != nil else {
                let problem = byte == lineFeed
                    ? "\(name) has \(position - start) hex digits, expected \(digitCount)"
                    : "\(name) contains a character that is not a hex digit"
                throw .malformed(path: path, line: line, problem: problem)
            }
            position += 1
        }
        guard position < bytes.count else { throw .truncated(path: path) }
        guard bytes[position] == lineFeed else {
            let problem = nibble(bytes[position]) != nil
                ? "\(name) has more than \(digitCount) hex digits"
                : "unexpected character after \(name) (lines must end with a line feed alone)"
            throw .malformed(path: path, line: line, problem: problem)
        }
        position += 1
        return start..<(start + digitCount)
    }

    /// Decodes checked hex digits, two per byte, into `out`.
    private static func decodeHex(_ hex: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        for index in 0..<min(out.count, hex.count / 2) {
            let high = nibble(hex[2 * index]) ?? 0
            let low = nibble(hex[2 * index + 1]) ?? 0
            out[index] = high << 4 | low
        }
    }

    /// The value of one hex digit (either case), or `nil`.
    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
