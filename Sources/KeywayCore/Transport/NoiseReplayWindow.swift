/// A sliding window of the explicit nonces a receiver has accepted (RFC 6479's bitmap).
///
/// UDP delivers transport packets late, twice or out of order, so a receiver decrypts each one
/// under the nonce it carries. This window lets every nonce through once: new ones, and late
/// ones up to ``size`` behind the newest accepted; anything else is ``NoiseError/replayedNonce``.
/// Its size is ``TransportConfiguration/replayWindowPackets``.
///
/// Contract: a nonce MUST be recorded only after its packet authenticated, or a forger could
/// burn nonces; ``open(_:nonce:ad:ciphertext:)`` does the check, the decryption and the record
/// in that order.
public struct NoiseReplayWindow: Sendable, Equatable {
    /// Bits per bitmap word.
    static let wordBits: UInt64 = 64
    /// The most words a window has (4,096: 32 KiB, a window of 262,080 packets).
    static let maximumWordCount = 4096
    /// Words in the ring bitmap.
    private let wordCount: UInt64
    /// How far behind the newest accepted nonce a late one may be: all words but one, so
    /// the word being cleared for new nonces never holds one still inside the window.
    public var size: UInt64 { (wordCount - 1) * Self.wordBits }

    /// One past the newest accepted nonce (0 before any).
    private var next: UInt64 = 0
    /// Bit `n % 64` of word `(n / 64) % wordCount` is set when nonce `n` was accepted.
    private var bitmap: [UInt64]

    /// An empty window of the default size (``TransportConfiguration/replayWindowPackets``,
    /// 4,032 packets): every nonce is new.
    public init() { self.init(packets: TransportConfiguration().replayWindowPackets) }

    /// An empty window that accepts nonces up to at least `packets` behind the newest (rounded
    /// up to whole 64-bit words, clamped to 64...262,080).
    public init(packets: Int) {
        let words = (max(1, packets) + Int(Self.wordBits) - 1) / Int(Self.wordBits) + 1
        let count = min(max(2, words), Self.maximumWordCount)
        wordCount = UInt64(count)
        bitmap = [UInt64](repeating: 0, count: count)
    }

    /// Throws ``NoiseError/replayedNonce`` if `nonce` was accepted already or is more than
    /// ``size`` behind the newest accepted one, and ``NoiseError/nonceExhausted`` for the
    /// reserved nonce `2^64 - 1`; otherwise returns without recording it.
    public func check(_ nonce: UInt64) throws(NoiseError) {
        guard nonce != Noise.reservedNonce else { throw .nonceExhausted }
        guard nonce < next else { return }
        guard next - 1 - nonce < size else { throw .replayedNonce }
        let (word, bit) = position(of: nonce)
        if bitmap[word] & bit != 0 { throw .replayedNonce }
    }

    /// Marks `nonce` as accepted, after ``check(_:)`` passed and its packet authenticated.
    public mutating func record(_ nonce: UInt64) throws(NoiseError) {
        try check(nonce)
        if nonce >= next {
            let newestWord = nonce / Self.wordBits
            let firstStale = next == 0 ? 0 : (next - 1) / Self.wordBits + 1
            if firstStale <= newestWord {
                let stale = min(newestWord - firstStale + 1, wordCount)
                for offset in 0..<stale {
                    bitmap[Int((firstStale + offset) % wordCount)] = 0
                }
            }
            next = nonce + 1
        }
        let (word, bit) = position(of: nonce)
        bitmap[word] |= bit
    }

    /// Checks `nonce`, decrypts `ciphertext` with `cipher` under it, and records it only if the
    /// packet authenticated. Throws ``NoiseError/replayedNonce`` for a repeat, or whatever
    /// ``NoiseCipherState/decrypt(nonce:ad:ciphertext:)`` throws, leaving the window unchanged.
    public mutating func open(
        _ cipher: NoiseCipherState, nonce: UInt64, ad: some Collection<UInt8>, ciphertext: some Collection<UInt8>
    ) throws(NoiseError) -> [UInt8] {
        try check(nonce)
        let plaintext = try cipher.decrypt(nonce: nonce, ad: ad, ciphertext: ciphertext)
        try record(nonce)
        return plaintext
    }

    /// The bitmap word index and bit mask of `nonce`.
    private func position(of nonce: UInt64) -> (word: Int, bit: UInt64) {
        (Int((nonce / Self.wordBits) % wordCount), 1 << (nonce % Self.wordBits))
    }
}
