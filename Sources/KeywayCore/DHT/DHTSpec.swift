/// Constants fixed by the specifications keyway speaks (BEP 5, BEP 42, BEP 44, pkarr).
///
/// These are not tuning knobs: changing one breaks compatibility with other DHT software.
/// Implementation limits, which are tunable, live in ``DHTConfiguration``.
public enum DHTSpec {
    /// BEP 44: the largest bencoded `v` a node stores.
    public static let maximumValueLength = 1000
    /// BEP 44: the largest `salt` a node accepts.
    public static let maximumSaltLength = 64
    /// BEP 5: length of a compact IPv4 node info (20-byte ID, 4-byte address, 2-byte port).
    public static let compactNodeIPv4Length = 26
    /// BEP 32: length of a compact IPv6 node info (20-byte ID, 16-byte address, 2-byte port).
    public static let compactNodeIPv6Length = 38
    /// BEP 5: Kademlia's `k`, the bucket size and number of closest nodes a lookup returns.
    public static let k = 8

    /// KRPC error codes (BEP 5 and BEP 44).
    public enum ErrorCode {
        /// 201: generic error.
        public static let generic = 201
        /// 202: server error.
        public static let server = 202
        /// 203: protocol error (malformed packet, invalid arguments, bad token).
        public static let protocolError = 203
        /// 204: method unknown.
        public static let methodUnknown = 204
        /// 205: message (`v`) too big.
        public static let valueTooBig = 205
        /// 206: invalid signature.
        public static let invalidSignature = 206
        /// 207: salt too big.
        public static let saltTooBig = 207
        /// 301: the CAS value did not match the stored sequence number.
        public static let casMismatch = 301
        /// 302: sequence number less than current.
        public static let sequenceNotNewer = 302
    }
}
