/// The one error type of ``KeywayCrypto``.
///
/// Every throwing function in this module throws only this type, and every case says which
/// input was wrong, so a caller can turn it into one clear line for a user.
public enum CryptoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An input had the wrong length: `what` names it, `expected` and `actual` are byte counts.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// A public key is not a valid point (for example it cannot be converted to X25519).
    case invalidPublicKey
    /// An AEAD ciphertext failed authentication: it was tampered with, truncated, or the key,
    /// nonce or associated data differ from the ones it was sealed with.
    case authenticationFailed
    /// An X25519 exchange produced the all-zero output (the peer sent a low-order point).
    case weakSharedSecret

    /// A one-line, human-readable description.
    public var description: String {
        switch self {
        case let .invalidLength(what, expected, actual):
            return "\(what) must be \(expected) bytes, got \(actual)"
        case .invalidPublicKey:
            return "invalid public key"
        case .authenticationFailed:
            return "authentication failed"
        case .weakSharedSecret:
            return "weak X25519 shared secret (low-order point)"
        }
    }

    @inline(__always)
    static func checkLength(_ what: String, _ bytes: some Collection<UInt8>, _ expected: Int) throws(CryptoError) {
        if bytes.count != expected {
            throw .invalidLength(what: what, expected: expected, actual: bytes.count)
        }
    }
}
