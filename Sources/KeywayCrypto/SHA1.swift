import Crypto

/// SHA-1, which BEP 44 needs for item targets and which libsodium lacks (from swift-crypto).
///
/// Used only where the BitTorrent DHT specifications require it; never for new security purposes.
public enum SHA1 {
    /// The digest length in bytes.
    public static let byteCount = 20

    /// The 20-byte SHA-1 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = Insecure.SHA1()
        let array = Array(bytes)
        hasher.update(data: array)
        return Array(hasher.finalize())
    }

    /// The SHA-1 digest of the concatenation of `parts`.
    public static func hash(parts: [[UInt8]]) -> [UInt8] {
        var hasher = Insecure.SHA1()
        for part in parts { hasher.update(data: part) }
        return Array(hasher.finalize())
    }
}
