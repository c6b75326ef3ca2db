/// Constants fixed by the DNS message format (RFC 1035, RFC 3596, RFC 3597).
///
/// These are not tuning knobs. Implementation limits, which are, live in ``DNSLimits``.
public enum DNSSpec {
    /// Length of the fixed message header: ID, flags and four section counts (RFC 1035 4.1.1).
    public static let headerLength = 12
    /// Longest label, in bytes (RFC 1035 2.3.4).
    public static let maximumLabelLength = 63
    /// Longest name in its uncompressed wire form, length bytes and root included (RFC 1035 2.3.4).
    public static let maximumNameLength = 255
    /// Longest character-string, as in TXT data (RFC 1035 3.3): one length byte.
    public static let maximumCharacterStringLength = 255
    /// Largest number of entries in one section: the count field is 16 bits.
    public static let maximumSectionCount = Int(UInt16.max)
    /// Longest record data: RDLENGTH is 16 bits.
    public static let maximumRecordDataLength = Int(UInt16.max)
    /// Largest message offset a compression pointer can hold: 14 bits (RFC 1035 4.1.4).
    public static let maximumPointerOffset = 0x3fff
    /// The two top bits of a length byte that mark a compression pointer (RFC 1035 4.1.4).
    public static let pointerTag: UInt8 = 0xc0
    /// Fixed bytes of a question after its name: type and class.
    public static let questionFixedLength = 4
    /// Fixed bytes of a resource record after its name: type, class, TTL and RDLENGTH.
    public static let recordFixedLength = 10
    /// Smallest question: the root name (one byte) and the fixed part.
    public static let minimumQuestionLength = 1 + questionFixedLength
    /// Smallest resource record: the root name (one byte), the fixed part, no data.
    public static let minimumRecordLength = 1 + recordFixedLength
    /// The QR bit of the flags: set in a response (RFC 1035 4.1.1). pkarr packets are responses
    /// with every other flag clear, as its DNS library writes them.
    public static let responseFlag: UInt16 = 0x8000
    /// The class `IN`, the Internet (RFC 1035 3.2.4).
    public static let classInternet: UInt16 = 1

    /// Resource record type codes keyway interprets or must treat specially.
    public enum RecordType {
        /// `A`: an IPv4 address (RFC 1035).
        public static let a: UInt16 = 1
        /// `NS`: a name server's name (RFC 1035); its data may be compressed.
        public static let ns: UInt16 = 2
        /// `CNAME`: the canonical name (RFC 1035); its data may be compressed.
        public static let cname: UInt16 = 5
        /// `SOA`: start of authority (RFC 1035); two names, then five 32-bit fields.
        public static let soa: UInt16 = 6
        /// `PTR`: a name (RFC 1035); its data may be compressed.
        public static let ptr: UInt16 = 12
        /// `MX`: a 16-bit preference, then a name (RFC 1035); the name may be compressed.
        public static let mx: UInt16 = 15
        /// `TXT`: one or more character-strings (RFC 1035).
        public static let txt: UInt16 = 16
        /// `AAAA`: an IPv6 address (RFC 3596).
        public static let aaaa: UInt16 = 28
    }

    /// Length of the five 32-bit fields that end `SOA` data.
    public static let soaFixedTrailerLength = 20
    /// Length of the preference field that starts `MX` data.
    public static let mxPreferenceLength = 2
}
