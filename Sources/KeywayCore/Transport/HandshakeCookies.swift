import Collections
import KeywayCrypto

/// WireGuard's defence against handshake floods, with keyway's labels (WireGuard paper
/// section 5.4.4 and 5.4.7).
///
/// - Every handshake packet ends with `mac1` and `mac2`. `mac1` is keyed by a hash of the
///   receiver's Ed25519 key, so a node drops packets not meant for it after one hash and no
///   Diffie-Hellman.
/// - Under load, an initiation also needs a valid `mac2`, keyed by a *cookie*: a MAC of the
///   sender's address under a secret that changes every two minutes. Without it the node answers
///   with a cookie reply (one hash and one AEAD, never a Diffie-Hellman) and the initiator puts
///   the cookie in its next attempt, which proves it owns its address.
enum HandshakeMACs {
    /// The key of `mac1` for packets sent to `receiver`: `BLAKE2b-256(mac1Label || key)`.
    static func mac1Key(for receiver: Ed25519.PublicKey) -> [UInt8] {
        BLAKE2b.hash(TransportSpec.mac1Label + receiver.bytes, outputLength: 32)
    }

    /// The key that seals cookie replies from `sender`: `BLAKE2b-256(cookieLabel || key)`.
    static func cookieKey(for sender: Ed25519.PublicKey) -> SecureBytes {
        SecureBytes(BLAKE2b.hash(TransportSpec.cookieLabel + sender.bytes, outputLength: 32))
    }

    /// A 16-byte keyed BLAKE2b of `data`.
    static func mac(_ data: ArraySlice<UInt8>, key: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(data, outputLength: TransportSpec.macLength, key: key)
    }

    /// Appends `mac1` (under `mac1Key`) and `mac2` (under `cookie`, or zeros without one) to an
    /// unsealed handshake packet; returns `mac1`, which a cookie reply to it will bind to.
    static func seal(_ packet: inout [UInt8], mac1Key: [UInt8], cookie: [UInt8]?) -> [UInt8] {
        let mac1 = mac(packet[...], key: mac1Key)
        packet += mac1
        if let cookie {
            packet += mac(packet[...], key: cookie)
        } else {
            packet += [UInt8](repeating: 0, count: TransportSpec.macLength)
        }
        return mac1
    }

    /// Whether the packet's `mac1` (at `macOffset`) is right for `mac1Key`, in constant time.
    static func hasValidMAC1(_ packet: [UInt8], macOffset: Int, mac1Key: [UInt8]) -> Bool {
        let expected = mac(packet[..<macOffset], key: mac1Key)
        return constantTimeEqual(expected, packet[macOffset..<macOffset + TransportSpec.macLength])
    }

    /// Whether two byte strings are equal, compared in constant time.
    static func constantTimeEqual(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        SecureBytes(a) == SecureBytes(b)
    }
}

/// The responder's half of the cookie mechanism: the rotating secret, `mac2` checks and
/// cookie replies. Pure: the secret comes from the caller's generator.
struct CookieJar: Sendable {
    /// `mac1`'s key for packets sent to this node.
    let mac1Key: [UInt8]
    /// The key this node seals cookie replies with.
    private let cookieKey: SecureBytes
    /// The current secret behind cookies, and when it must change.
    private var secret: SecureBytes
    private var secretExpires: Instant
    private let secretLifetime: Duration

    /// The jar of the node whose key is `identity`.
    init(identity: Ed25519.PublicKey, secretLifetime: Duration, now: Instant, rng: inout TransportRandom) {
        mac1Key = HandshakeMACs.mac1Key(for: identity)
        cookieKey = HandshakeMACs.cookieKey(for: identity)
        self.secretLifetime = secretLifetime
        secret = SecureBytes(rng.bytes(count: 32))
        secretExpires = now + secretLifetime
    }

    /// The cookie of `source` now: a MAC of its compact endpoint under the current secret.
    private mutating func cookie(for source: Endpoint, now: Instant, rng: inout TransportRandom) -> [UInt8] {
        if now >= secretExpires {
            secret = SecureBytes(rng.bytes(count: 32))
            secretExpires = now + secretLifetime
        }
        return BLAKE2b.hash(source.compact, outputLength: TransportSpec.cookieLength, key: secret.bytes)
    }

    /// Whether the packet carries a valid `mac2` (at `macOffset + 16`) for `source`.
    mutating func hasValidMAC2(_ packet: [UInt8], macOffset: Int, source: Endpoint, now: Instant, rng: inout TransportRandom) -> Bool {
        let cookie = cookie(for: source, now: now, rng: &rng)
        let mac2Offset = macOffset + TransportSpec.macLength
        let expected = HandshakeMACs.mac(packet[..<mac2Offset], key: cookie)
        return HandshakeMACs.constantTimeEqual(expected, packet[mac2Offset..<mac2Offset + TransportSpec.macLength])
    }

    /// A cookie reply to the initiation `packet` from `source`, whose sender index is
    /// `senderIndex`; the cookie is sealed with the packet's `mac1` as associated data.
    mutating func reply(to packet: [UInt8], senderIndex: UInt32, macOffset: Int, source: Endpoint, now: Instant, rng: inout TransportRandom) -> [UInt8] {
        let cookie = cookie(for: source, now: now, rng: &rng)
        let nonce = rng.bytes(count: TransportSpec.cookieNonceLength)
        let mac1 = packet[macOffset..<macOffset + TransportSpec.macLength]
        // Force-try: the key and nonce lengths are fixed above.
        let sealed = try! ChaChaPoly.seal(cookie, key: cookieKey, nonce: nonce, associatedData: mac1)
        return CookieReplyPacket.encode(receiverIndex: senderIndex, nonce: nonce, sealedCookie: sealed)
    }

    /// The cookie in `reply` from `sender`, if it authenticates against the `mac1` of the
    /// initiation it answers.
    static func openReply(_ reply: CookieReplyPacket, from sender: Ed25519.PublicKey, mac1: [UInt8]) -> [UInt8]? {
        try? ChaChaPoly.open(reply.sealedCookie, key: HandshakeMACs.cookieKey(for: sender), nonce: reply.nonce, associatedData: mac1)
    }
}

/// A token bucket: `rate` tokens a second, at most `burst` saved.
struct TokenBucket: Sendable {
    private var tokens: Double
    private var updated: Instant

    /// A full bucket.
    init(burst: Double, now: Instant) {
        tokens = burst
        updated = now
    }

    /// Takes one token if there is one.
    mutating func take(rate: Double, burst: Double, now: Instant) -> Bool {
        if now > updated {
            tokens = min(burst, tokens + (now - updated).secondsDouble * rate)
            updated = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// The rate limits on handshake work: a global budget (beyond it the node is under load and
/// demands cookies), a per-address budget for cookie-bearing initiations under load, and a
/// budget for cookie replies. Memory is bounded by ``TransportConfiguration/rateLimitTableSize``.
struct HandshakeRateLimiter: Sendable {
    private var global: TokenBucket
    private var cookieReplies: TokenBucket
    private var perSource: [IPAddress: TokenBucket] = [:]
    /// Addresses in the order they were added, to forget the oldest first.
    private var sourceOrder = Deque<IPAddress>()

    /// Full buckets.
    init(configuration: TransportConfiguration, now: Instant) {
        global = TokenBucket(burst: configuration.handshakeBurst, now: now)
        cookieReplies = TokenBucket(burst: configuration.cookieRepliesPerSecond, now: now)
    }

    /// Whether an initiation may be processed without a cookie (the node is not under load).
    mutating func admitWithoutCookie(configuration: TransportConfiguration, now: Instant) -> Bool {
        global.take(rate: configuration.handshakesPerSecond, burst: configuration.handshakeBurst, now: now)
    }

    /// Whether an initiation with a valid cookie from `address` may be processed under load.
    mutating func admitWithCookie(from address: IPAddress, configuration: TransportConfiguration, now: Instant) -> Bool {
        let rate = configuration.handshakesPerSourcePerSecond, burst = configuration.handshakeBurstPerSource
        if perSource[address] == nil {
            if perSource.count >= configuration.rateLimitTableSize, let oldest = sourceOrder.popFirst() {
                perSource.removeValue(forKey: oldest)
            }
            perSource[address] = TokenBucket(burst: burst, now: now)
            sourceOrder.append(address)
        }
        return perSource[address]!.take(rate: rate, burst: burst, now: now)
    }

    /// Whether a cookie reply may be sent.
    mutating func admitCookieReply(configuration: TransportConfiguration, now: Instant) -> Bool {
        let rate = configuration.cookieRepliesPerSecond
        return cookieReplies.take(rate: rate, burst: rate, now: now)
    }
}
