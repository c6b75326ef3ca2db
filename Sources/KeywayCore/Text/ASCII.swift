/// Byte-level helpers for the ASCII text forms the core parses by hand (addresses, keys, DNS
/// names, bencode lengths), so that no parser needs Foundation.
enum ASCII {
    /// The value of a decimal digit, or `nil`.
    static func decimalDigit(_ c: UInt8) -> Int? {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") ? Int(c - UInt8(ascii: "0")) : nil
    }

    /// The value of a hex digit (either case), or `nil`.
    static func hexDigit(_ c: UInt8) -> Int? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(c - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(c - UInt8(ascii: "A")) + 10
        default: return nil
        }
    }

    /// `c` with `A`–`Z` mapped to `a`–`z`.
    static func lowercased(_ c: UInt8) -> UInt8 {
        c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c + (UInt8(ascii: "a") - UInt8(ascii: "A")) : c
    }

    /// A decimal number of at most `maximumDigits` digits with no leading zero (except `0`
    /// itself) and no larger than `maximum`; `nil` otherwise. Callers keep `maximumDigits` small
    /// enough (at most 18) that the value cannot overflow.
    static func canonicalDecimal(_ text: ArraySlice<UInt8>, maximumDigits: Int, maximum: Int) -> Int? {
        guard !text.isEmpty, text.count <= maximumDigits else { return nil }
        if text.count > 1, text.first == UInt8(ascii: "0") { return nil }
        var value = 0
        for c in text {
            guard let d = decimalDigit(c) else { return nil }
            value = value * 10 + d
        }
        return value <= maximum ? value : nil
    }
}
