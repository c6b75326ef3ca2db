import KeywayCrypto

/// Write tokens for `announce_peer` and `put` (BEP 5, BEP 44).
///
/// Definitions: a token is the first ``DHTConfiguration/tokenLength`` bytes (4...8) of the
/// SipHash-2-4 tag of the querier's IP address under a secret (SipHash: a keyed pseudorandom
/// function made for short inputs; keyed BLAKE2b, before it, was most of the cost of a `get`
/// beyond `find_node`'s). The secret is replaced every rotation interval and the previous one is
/// still accepted, so a token is valid for one to two intervals, and only from the address it
/// was given to. Secrets come from the core's keyed generator (``KeyedRandom``).
public struct WriteTokens: Sendable {
    /// Length of each secret in bytes.
    public static let secretLength = SipHash.keyLength

    private var current: [UInt8]
    private var previous: [UInt8]
    private let tokenLength: Int
    /// When the current secret must be replaced.
    public private(set) var nextRotation: Instant
    private let interval: Duration

    /// Token state with fresh secrets drawn from `rng`.
    public init(configuration: DHTConfiguration, now: Instant, rng: inout some RandomNumberGenerator) {
        current = Self.secret(from: &rng)
        previous = Self.secret(from: &rng)
        tokenLength = max(4, min(configuration.tokenLength, SipHash.outputLength))
        interval = configuration.tokenRotationInterval
        nextRotation = now + configuration.tokenRotationInterval
    }

    /// The token for a querier at `address`.
    public func token(for address: IPAddress) -> [UInt8] {
        Self.hash(address, key: current, length: tokenLength)
    }

    /// Whether `token` was issued to `address` under the current or the previous secret.
    public func isValid(_ token: [UInt8], for address: IPAddress) -> Bool {
        guard token.count == tokenLength else { return false }
        return token == Self.hash(address, key: current, length: tokenLength)
            || token == Self.hash(address, key: previous, length: tokenLength)
    }

    /// SipHash over the address's network-order bytes (the same bytes as ``IPAddress/bytes``),
    /// read from the stack rather than from a new array: a node computes this for every `get`.
    private static func hash(_ address: IPAddress, key: [UInt8], length: Int) -> [UInt8] {
        switch address {
        case let .v4(value):
            return withUnsafeBytes(of: value.bigEndian) {
                SipHash.hash($0.assumingMemoryBound(to: UInt8.self), key: key, outputLength: length)
            }
        case let .v6(high, low):
            return withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) {
                SipHash.hash($0.assumingMemoryBound(to: UInt8.self), key: key, outputLength: length)
            }
        }
    }

    /// Replaces the secret when its time has come.
    public mutating func rotateIfDue(now: Instant, rng: inout some RandomNumberGenerator) {
        guard now >= nextRotation else { return }
        previous = current
        current = Self.secret(from: &rng)
        nextRotation = now + interval
    }

    /// A fresh secret of ``secretLength`` bytes.
    private static func secret(from rng: inout some RandomNumberGenerator) -> [UInt8] {
        var out = [UInt8]()
        while out.count < secretLength {
            var word = rng.next()
            for _ in 0..<min(8, secretLength - out.count) {
                out.append(UInt8(truncatingIfNeeded: word))
                word >>= 8
            }
        }
        return out
    }
}
