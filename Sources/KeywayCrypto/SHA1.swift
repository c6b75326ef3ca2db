/// SHA-1 (FIPS 180-4), which BEP 44 needs for item targets and which libsodium lacks.
///
/// Used only where the BitTorrent DHT specifications require it (item targets, info-hashes):
/// public data, no secret, no new security purpose. Implemented here rather than taken from
/// swift-crypto, which links Foundation with ICU (about 5.7 MB of resident memory in every
/// process) and BoringSSL for this one hash. Checked against the FIPS 180 examples and the
/// BEP 44 test vectors.
public enum SHA1 {
    /// The digest length in bytes.
    public static let byteCount = 20

    /// The 20-byte SHA-1 digest of `bytes`.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The SHA-1 digest of the concatenation of `parts`.
    public static func hash(parts: [[UInt8]]) -> [UInt8] {
        var hasher = Hasher()
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }

    /// An incremental SHA-1 computation.
    public struct Hasher: Sendable {
        /// The block length in bytes.
        static let blockLength = 64

        private var state: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        /// Bytes of the current, incomplete block (fewer than ``blockLength``).
        private var pending: [UInt8] = []
        /// Message length so far, in bytes.
        private var length: UInt64 = 0

        /// An empty hash.
        public init() {
            pending.reserveCapacity(Self.blockLength)
        }

        /// Feeds more input.
        public mutating func update(_ bytes: some Sequence<UInt8>) {
            for byte in bytes {
                pending.append(byte)
                length &+= 1
                if pending.count == Self.blockLength { compressPending() }
            }
        }

        /// The 20-byte digest; the hasher must not be used afterwards.
        public mutating func finalize() -> [UInt8] {
            let bitLength = length &* 8
            pending.append(0x80)
            if pending.count > Self.blockLength - 8 {
                while pending.count < Self.blockLength { pending.append(0) }
                compressPending()
            }
            while pending.count < Self.blockLength - 8 { pending.append(0) }
            for shift in stride(from: 56, through: 0, by: -8) { pending.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
            compressPending()
            var digest = [UInt8]()
            digest.reserveCapacity(byteCount)
            for word in state {
                digest += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)]
            }
            return digest
        }

        /// Runs the compression function over the full pending block.
        private mutating func compressPending() {
            var w = [UInt32](repeating: 0, count: 80)
            for i in 0..<16 {
                w[i] = UInt32(pending[4 * i]) << 24 | UInt32(pending[4 * i + 1]) << 16
                    | UInt32(pending[4 * i + 2]) << 8 | UInt32(pending[4 * i + 3])
            }
            for i in 16..<80 { w[i] = rotate(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var (a, b, c, d, e) = (state[0], state[1], state[2], state[3], state[4])
            for i in 0..<80 {
                let f: UInt32, k: UInt32
                switch i {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let t = rotate(a, 5) &+ f &+ e &+ k &+ w[i]
                (e, d, c, b, a) = (d, c, rotate(b, 30), a, t)
            }
            state[0] &+= a
            state[1] &+= b
            state[2] &+= c
            state[3] &+= d
            state[4] &+= e
            pending.removeAll(keepingCapacity: true)
        }

        private func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
    }
}
