/// The one bencode form endpoint records need: a byte string, `<length>:<bytes>` (BEP 3).
///
/// A BEP 44 item's `v` is bencoded; a pkarr record's `v` is the DNS packet as a byte string, so
/// ``MutableItem/encodedValue`` of a record is `<length>:<packet>`.
enum BencodedByteString {
    /// Most length digits accepted: enough for any length an `Int` holds without overflow.
    static let maximumLengthDigits = 18

    /// `<length>:<bytes>`.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        Array("\(bytes.count):".utf8) + bytes
    }

    /// The bytes of `encoded` when it is exactly one byte string in canonical form (decimal
    /// length without leading zeros, then exactly that many bytes); `nil` otherwise.
    static func decode(_ encoded: [UInt8]) -> [UInt8]? {
        guard let colon = encoded.firstIndex(of: UInt8(ascii: ":")), colon > 0,
              colon <= maximumLengthDigits,
              let length = ASCII.canonicalDecimal(
                encoded[..<colon], maximumDigits: maximumLengthDigits, maximum: Int.max),
              length == encoded.count - colon - 1
        else { return nil }
        return Array(encoded[(colon + 1)...])
    }
}
