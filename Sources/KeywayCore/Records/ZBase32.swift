/// z-base-32, the human-oriented base-32 encoding of Zooko O'Whielacronx, as pkarr uses it to
/// write Ed25519 public keys (a 32-byte key is 52 characters).
///
/// Bits are taken most significant first, five at a time, as in RFC 4648 base 32, but with the
/// alphabet `ybndrfg8ejkmcpqxot1uwisza345h769` and no padding. When the bit count is not a
/// multiple of five, the last character carries zero bits at its end. Decoding is
/// case-insensitive and canonical: it refuses a length no byte count encodes to and non-zero
/// trailing bits, so each byte string has exactly one text.
public enum ZBase32 {
    /// The 32 symbols, in value order.
    public static let alphabet: [UInt8] = Array("ybndrfg8ejkmcpqxot1uwisza345h769".utf8)

    /// Bits carried by one symbol.
    static let bitsPerSymbol = 5

    /// The value of each lowercase ASCII symbol, `nil` for bytes outside the alphabet.
    private static let values: [UInt8?] = {
        var table = [UInt8?](repeating: nil, count: 256)
        for (value, symbol) in alphabet.enumerated() { table[Int(symbol)] = UInt8(value) }
        return table
    }()

    /// Number of symbols that encode `byteCount` bytes.
    public static func encodedLength(byteCount: Int) -> Int {
        (byteCount * 8 + bitsPerSymbol - 1) / bitsPerSymbol
    }

    /// The z-base-32 text of `bytes`, in lowercase.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        var buffer: UInt32 = 0, bufferedBits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bufferedBits += 8
            while bufferedBits >= bitsPerSymbol {
                bufferedBits -= bitsPerSymbol
                out.append(alphabet[Int(buffer >> UInt32(bufferedBits) & 0x1f)])
            }
            buffer &= (1 << UInt32(bufferedBits)) - 1
        }
        if bufferedBits > 0 {
            out.append(alphabet[Int(buffer << UInt32(bitsPerSymbol - bufferedBits) & 0x1f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` encodes; throws ``ZBase32Error`` for a character outside the alphabet,
    /// a length that no byte count encodes to, or non-zero trailing bits.
    public static func decode(_ text: some StringProtocol) throws(ZBase32Error) -> [UInt8] {
        let symbols = Array(text.utf8)
        let byteCount = symbols.count * bitsPerSymbol / 8
        guard encodedLength(byteCount: byteCount) == symbols.count else {
            throw .impossibleLength(symbols.count)
        }
        var out = [UInt8]()
        out.reserveCapacity(byteCount)
        var buffer: UInt32 = 0, bufferedBits = 0
        for (offset, symbol) in symbols.enumerated() {
            guard let value = values[Int(ASCII.lowercased(symbol))] else {
                throw .invalidCharacter(offset: offset, utf8Byte: symbol)
            }
            buffer = buffer << UInt32(bitsPerSymbol) | UInt32(value)
            bufferedBits += bitsPerSymbol
            if bufferedBits >= 8 {
                bufferedBits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bufferedBits)))
                buffer &= (1 << UInt32(bufferedBits)) - 1
            }
        }
        guard buffer == 0 else { throw .nonZeroTrailingBits }
        return out
    }
}

/// Why a text is not canonical z-base-32.
public enum ZBase32Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// The byte at zero-based UTF-8 `offset` is not a z-base-32 symbol (the description counts
    /// characters from 1).
    case invalidCharacter(offset: Int, utf8Byte: UInt8)
    /// No byte string encodes to this many symbols (for example 1, 3 or 6).
    case impossibleLength(Int)
    /// The unused bits at the end of the last symbol are not zero, so the text is not the
    /// encoding of any byte string (another text decodes to the same bytes).
    case nonZeroTrailingBits

    /// One line naming what was wrong.
    public var description: String {
        switch self {
        case let .invalidCharacter(offset, byte):
            return "invalid z-base-32 character \(ZBase32Error.quoted(byte)) at character \(offset + 1)"
        case let .impossibleLength(count):
            return "\(count) characters is not a possible z-base-32 length"
        case .nonZeroTrailingBits:
            return "the last z-base-32 character has non-zero unused bits (not a canonical encoding)"
        }
    }

    /// The byte as a quoted character when printable ASCII, else as hex.
    static func quoted(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7f { return "\"\(Character(Unicode.Scalar(byte)))\"" }
        return "byte 0x" + [byte].hexString
    }
}
