/// The timestamp of a handshake initiation: TAI64N, as WireGuard's (12 bytes, big-endian: the
/// TAI64 label of the second, `2^62 + 10 +` seconds since 1970, then nanoseconds).
///
/// A responder accepts an initiation from a static key only with a timestamp strictly greater
/// than the last it accepted from that key, so a captured initiation replayed later, from
/// anywhere, is dropped before it can displace anything. Only the holder of the static key can
/// make a newer one: the timestamp travels encrypted and authenticated in message 1.
struct HandshakeTimestamp: Comparable, Sendable, CustomStringConvertible {
    /// The TAI64 label: ``TransportSpec/tai64Epoch`` plus seconds since 1970.
    let label: UInt64
    /// Nanoseconds within the second (below 10^9).
    let nanoseconds: UInt32

    /// The timestamp `sinceEpoch` after 1970-01-01 00:00:00 (leap seconds ignored, as WireGuard
    /// does); clamped at the top of the label's range.
    init(sinceEpoch: Duration) {
        let (seconds, attoseconds) = sinceEpoch.components
        let whole = UInt64(clamping: max(0, seconds))
        let (sum, overflow) = TransportSpec.tai64Epoch.addingReportingOverflow(whole)
        label = overflow ? .max : sum
        nanoseconds = seconds < 0 ? 0 : UInt32(clamping: attoseconds / 1_000_000_000)
    }

    /// The timestamp with these fields.
    init(label: UInt64, nanoseconds: UInt32) {
        self.label = label
        self.nanoseconds = nanoseconds
    }

    /// The 12 bytes at `offset` of `bytes`, or `nil` if the nanoseconds are out of range. The
    /// caller MUST have checked the length.
    init?(_ bytes: some RandomAccessCollection<UInt8>, at offset: Int) {
        var label: UInt64 = 0
        var nanoseconds: UInt32 = 0
        var index = bytes.index(bytes.startIndex, offsetBy: offset)
        for _ in 0..<8 {
            label = label << 8 | UInt64(bytes[index])
            index = bytes.index(after: index)
        }
        for _ in 0..<4 {
            nanoseconds = nanoseconds << 8 | UInt32(bytes[index])
            index = bytes.index(after: index)
        }
        guard nanoseconds < 1_000_000_000 else { return nil }
        self.init(label: label, nanoseconds: nanoseconds)
    }

    /// The smallest timestamp after this one (one nanosecond later).
    var successor: HandshakeTimestamp {
        if nanoseconds + 1 < 1_000_000_000 { return HandshakeTimestamp(label: label, nanoseconds: nanoseconds + 1) }
        return HandshakeTimestamp(label: label == .max ? .max : label + 1, nanoseconds: label == .max ? nanoseconds : 0)
    }

    /// Appends the 12-byte encoding.
    func append(to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: label >> UInt64(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: nanoseconds >> UInt32(shift))) }
    }

    /// Order in time (the same as the order of the encodings' bytes).
    static func < (lhs: HandshakeTimestamp, rhs: HandshakeTimestamp) -> Bool {
        (lhs.label, lhs.nanoseconds) < (rhs.label, rhs.nanoseconds)
    }

    /// `tai64n:<label>.<nanoseconds>` in hexadecimal and decimal, for logs.
    var description: String { "tai64n:\(String(label, radix: 16)).\(nanoseconds)" }
}
