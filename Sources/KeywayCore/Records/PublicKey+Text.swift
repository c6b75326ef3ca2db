import KeywayCrypto

/// Text forms of a node's address, the pkarr conventions (pkarr `design/base.md`, "TLD"):
/// 52 characters of z-base-32, optionally after the URI scheme `pk:`.
///
/// Accepted forms, in either letter case:
/// - `pk:<52 z-base-32 characters>` (what ``uri`` prints),
/// - `<52 z-base-32 characters>` (what ``zBase32`` prints),
/// - `<64 hex digits>`, the raw key bytes (what logs and other tools often show).
///
/// Nothing else is accepted (no surrounding white space, no other URI parts), so a typo is
/// reported, not guessed around.
extension Ed25519.PublicKey {
    /// The pkarr URI scheme prefix.
    public static let uriPrefix = "pk:"
    /// Characters in the z-base-32 text of a key.
    public static let zBase32Length = ZBase32.encodedLength(byteCount: Ed25519.publicKeyLength)
    /// Characters in the hex text of a key.
    public static let hexLength = Ed25519.publicKeyLength * 2

    /// The 52-character z-base-32 text of the key, which is also its DNS name in pkarr records.
    public var zBase32: String { ZBase32.encode(bytes) }

    /// `pk:` followed by ``zBase32``: the form keyway prints for people.
    public var uri: String { Ed25519.PublicKey.uriPrefix + zBase32 }

    /// Parses one of the accepted forms; throws ``KeyParseError`` naming what was wrong.
    public init(parsing text: some StringProtocol) throws(KeyParseError) {
        let characters = Array(text)
        if characters.isEmpty { throw .empty }
        let prefix = Array(Ed25519.PublicKey.uriPrefix)
        let hasPrefix = characters.count >= prefix.count
            && zip(characters, prefix).allSatisfy { $0.lowercased() == String($1) }
        let bodyStart = hasPrefix ? prefix.count : 0
        let body = characters[bodyStart...]

        let encoding: KeyParseError.Encoding
        if hasPrefix || body.count == Ed25519.PublicKey.zBase32Length {
            encoding = .zBase32
        } else if body.count == Ed25519.PublicKey.hexLength {
            encoding = .hex
        } else {
            throw .wrongLength(characters: body.count, afterPrefix: false)
        }
        if encoding == .zBase32, body.count != Ed25519.PublicKey.zBase32Length {
            throw .wrongLength(characters: body.count, afterPrefix: true)
        }

        // Check every character first, so the error can name the first bad one by position.
        var ascii = [UInt8]()
        ascii.reserveCapacity(body.count)
        for (index, character) in zip(body.indices, body) {
            guard let byte = character.asciiValue, encoding.accepts(byte) else {
                throw .invalidCharacter(character, position: index + 1, encoding: encoding)
            }
            ascii.append(byte)
        }

        let decoded: [UInt8]
        switch encoding {
        case .hex:
            decoded = [UInt8](hex: String(decoding: ascii, as: UTF8.self)) ?? []
        case .zBase32:
            do {
                decoded = try ZBase32.decode(String(decoding: ascii, as: UTF8.self))
            } catch {
                // Characters and length were checked above; only the trailing bits remain.
                throw .nonCanonicalZBase32
            }
        }
        guard let key = try? Ed25519.PublicKey(bytes: decoded) else {
            throw .wrongLength(characters: body.count, afterPrefix: hasPrefix)
        }
        self = key
    }
}

/// Why a text is not a public key; its description is one line fit to show a user.
public enum KeyParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The two text encodings of a key.
    public enum Encoding: Equatable, Sendable {
        /// 52 characters of z-base-32.
        case zBase32
        /// 64 hexadecimal digits.
        case hex

        /// Whether `byte` (ASCII) is a symbol of this encoding, in either letter case.
        func accepts(_ byte: UInt8) -> Bool {
            switch self {
            case .hex:
                return ASCII.hexDigit(byte) != nil
            case .zBase32:
                return ZBase32.alphabet.contains(ASCII.lowercased(byte))
            }
        }
    }

    /// The text was empty.
    case empty
    /// The key part had `characters` characters; `afterPrefix` when it followed `pk:`, which
    /// admits only z-base-32.
    case wrongLength(characters: Int, afterPrefix: Bool)
    /// `character` at 1-based `position` (counting any `pk:` prefix) is not in `encoding`.
    case invalidCharacter(Character, position: Int, encoding: Encoding)
    /// The last z-base-32 character has non-zero unused bits: the text is not the encoding of
    /// any key (it differs from a key's text in its last character).
    case nonCanonicalZBase32

    /// One line naming what was wrong.
    public var description: String {
        let z32 = Ed25519.PublicKey.zBase32Length, hex = Ed25519.PublicKey.hexLength
        switch self {
        case .empty:
            return "expected a public key (\(z32) z-base-32 characters, optionally after \"pk:\"), got an empty string"
        case let .wrongLength(count, afterPrefix: true):
            return "expected \(z32) z-base-32 characters after \"pk:\", got \(count)"
        case let .wrongLength(count, afterPrefix: false):
            return "expected \(z32) z-base-32 characters or \(hex) hex digits, got \(count) characters"
        case let .invalidCharacter(character, position, .zBase32):
            return "invalid z-base-32 character \(KeyParseError.quoted(character)) at position \(position)"
                + " (z-base-32 has no 0, 2, l or v)"
        case let .invalidCharacter(character, position, .hex):
            return "invalid hex digit \(KeyParseError.quoted(character)) at position \(position)"
        case .nonCanonicalZBase32:
            return "not a canonical z-base-32 key: the last character carries bits no key has"
        }
    }

    /// The character in quotes, or its Unicode scalar values when it would not print plainly.
    static func quoted(_ character: Character) -> String {
        if let ascii = character.asciiValue, ascii >= 0x21, ascii < 0x7f { return "\"\(character)\"" }
        return character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }.joined(separator: " ")
    }
}
