/// The one error type of keyway's Noise implementation.
///
/// Every throwing function in `Transport/` throws only this type. None of them crashes on input
/// from the network: a forged, tampered, truncated, oversized or replayed message always ends
/// here. A handshake or cipher state that throws is left exactly as it was before the call.
public enum NoiseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A ciphertext failed authentication: it was tampered with or truncated, or it was sealed
    /// under another key, nonce or associated data (for a handshake: the peer's static key or
    /// pre-shared key is not the one this side expected).
    case decryptionFailed
    /// A message's length is outside what this step allows: `actual` bytes, `allowed` range.
    case invalidMessageLength(actual: Int, allowed: ClosedRange<Int>)
    /// The nonce counter reached `2^64 - 1`, which Noise reserves; the session MUST be
    /// replaced by a new handshake.
    case nonceExhausted
    /// An explicit nonce was already accepted, or is too far behind the newest one to tell.
    case replayedNonce
    /// The operation does not fit the handshake's current state: not this side's turn, the
    /// handshake is not finished, or it was already split.
    case wrongState
    /// A cipher state without a key was asked to encrypt, decrypt or rekey with an explicit
    /// nonce, which would send or accept plaintext.
    case missingKey
    /// A peer's public key is unusable: the X25519 exchange with it gave the all-zero output
    /// (a low-order point).
    case badPublicKey
    /// A key handed to this module has the wrong length: `what` names it, `actual` is its byte
    /// count (every key in this suite is 32 bytes).
    case invalidKeyLength(what: String, actual: Int)

    /// A one-line, human-readable description.
    public var description: String {
        switch self {
        case .decryptionFailed:
            return "Noise decryption failed"
        case let .invalidMessageLength(actual, allowed):
            return "Noise message of \(actual) bytes, expected \(allowed.lowerBound)...\(allowed.upperBound)"
        case .nonceExhausted:
            return "Noise nonce exhausted; a new handshake is needed"
        case .replayedNonce:
            return "Noise nonce replayed or too old"
        case .wrongState:
            return "Noise operation not allowed in the current handshake state"
        case .missingKey:
            return "Noise cipher state has no key"
        case .badPublicKey:
            return "Noise peer public key is a low-order point"
        case let .invalidKeyLength(what, actual):
            return "\(what) must be \(Noise.keyLength) bytes, got \(actual)"
        }
    }
}
