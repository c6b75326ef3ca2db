import Testing
import KeywayCrypto
@testable import KeywayCore

@Suite struct KeyTextTests {
    /// pkarr's own example (pkarr/src/base/keys.rs, tests `from_string` and `to_uri`).
    static let pkarrExampleText = "yg4gxe7z1r7mr6orids9fh95y7gxhdsxjqi6nngsxxtakqaxr5no"
    static let pkarrExampleBytes: [UInt8] = [
        1, 180, 103, 163, 183, 145, 58, 178, 122, 4, 168, 237, 242, 243, 251, 7, 76, 254, 14,
        207, 75, 171, 225, 8, 214, 123, 227, 133, 59, 15, 38, 197,
    ]

    @Test func zBase32MatchesPkarrExample() throws {
        #expect(ZBase32.encode(Self.pkarrExampleBytes) == Self.pkarrExampleText)
        #expect(try ZBase32.decode(Self.pkarrExampleText) == Self.pkarrExampleBytes)
        let key = try Ed25519.PublicKey(bytes: Self.pkarrExampleBytes)
        #expect(key.zBase32 == Self.pkarrExampleText)
        #expect(key.uri == "pk:" + Self.pkarrExampleText)
        #expect(key.zBase32.count == 52)
    }

    @Test func zBase32KnownValues() throws {
        // Bit order: most significant first, five bits a symbol, zero-filled at the end.
        #expect(ZBase32.encode([]) == "")
        #expect(ZBase32.encode([0x00]) == "yy")
        #expect(ZBase32.encode([0xff]) == "9h")
        #expect(ZBase32.encode([0xf0, 0xbf, 0xc7]) == "6n9hq")
        #expect(try ZBase32.decode("6N9HQ") == [0xf0, 0xbf, 0xc7])
    }

    @Test func zBase32RoundTripsEveryLength() throws {
        var rng = SeededRandom(seed: 3)
        for length in 0..<70 {
            for _ in 0..<10 {
                let bytes = rng.bytes(count: length)
                let text = ZBase32.encode(bytes)
                #expect(text.count == ZBase32.encodedLength(byteCount: length))
                #expect(try ZBase32.decode(text) == bytes)
                #expect(try ZBase32.decode(text.uppercased()) == bytes)
            }
        }
    }

    @Test func zBase32RefusesNonCanonicalText() {
        #expect(throws: ZBase32Error.impossibleLength(1)) { try ZBase32.decode("y") }
        #expect(throws: ZBase32Error.impossibleLength(3)) { try ZBase32.decode("yyy") }
        #expect(throws: ZBase32Error.nonZeroTrailingBits) { try ZBase32.decode("yb") }
        #expect(throws: ZBase32Error.invalidCharacter(offset: 1, utf8Byte: UInt8(ascii: "0"))) { try ZBase32.decode("y0") }
        #expect(throws: ZBase32Error.invalidCharacter(offset: 0, utf8Byte: UInt8(ascii: "l"))) { try ZBase32.decode("ly") }
        #expect(ZBase32Error.invalidCharacter(offset: 1, utf8Byte: UInt8(ascii: "0")).description
            == "invalid z-base-32 character \"0\" at character 2")
    }

    @Test func parsesEveryAcceptedKeyForm() throws {
        let expected = try Ed25519.PublicKey(bytes: Self.pkarrExampleBytes)
        let z32 = Self.pkarrExampleText
        for text in [
            z32, z32.uppercased(), "pk:" + z32, "PK:" + z32, "Pk:" + z32.uppercased(),
            Self.pkarrExampleBytes.hexString, Self.pkarrExampleBytes.hexString.uppercased(),
        ] {
            #expect(try Ed25519.PublicKey(parsing: text) == expected, "\(text)")
            #expect(try Ed25519.PublicKey(parsing: Substring(text)) == expected, "\(text)")
        }
        let brief = try Ed25519.PublicKey(parsing: "pk:o4dksfbqk85ogzdb5osziw6befigbuxmuxkuxq8434q89uj56uyy")
        #expect(brief.uri == "pk:o4dksfbqk85ogzdb5osziw6befigbuxmuxkuxq8434q89uj56uyy")
    }

    @Test func randomKeysRoundTripThroughEveryForm() throws {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<200 {
            let key = try Ed25519.PublicKey(bytes: rng.bytes(count: 32))
            #expect(try Ed25519.PublicKey(parsing: key.zBase32) == key)
            #expect(try Ed25519.PublicKey(parsing: key.uri) == key)
            #expect(try Ed25519.PublicKey(parsing: key.bytes.hexString) == key)
        }
    }

    @Test func refusesBadKeysWithOneClearLine() {
        let z32 = Self.pkarrExampleText
        let cases: [(String, KeyParseError, String)] = [
            ("", .empty, "expected a public key (52 z-base-32 characters, optionally after \"pk:\"), got an empty string"),
            (String(z32.dropLast()), .wrongLength(characters: 51, afterPrefix: false),
             "expected 52 z-base-32 characters or 64 hex digits, got 51 characters"),
            ("pk:" + z32.dropLast(), .wrongLength(characters: 51, afterPrefix: true),
             "expected 52 z-base-32 characters after \"pk:\", got 51"),
            ("pk:" + Self.pkarrExampleBytes.hexString, .wrongLength(characters: 64, afterPrefix: true),
             "expected 52 z-base-32 characters after \"pk:\", got 64"),
            ("pk:", .wrongLength(characters: 0, afterPrefix: true), "expected 52 z-base-32 characters after \"pk:\", got 0"),
            ("0" + z32.dropFirst(), .invalidCharacter("0", position: 1, encoding: .zBase32),
             "invalid z-base-32 character \"0\" at position 1 (z-base-32 has no 0, 2, l or v)"),
            ("pk:" + z32.dropLast() + "l", .invalidCharacter("l", position: 55, encoding: .zBase32),
             "invalid z-base-32 character \"l\" at position 55 (z-base-32 has no 0, 2, l or v)"),
            (" " + z32.dropFirst(), .invalidCharacter(" ", position: 1, encoding: .zBase32),
             "invalid z-base-32 character U+20 at position 1 (z-base-32 has no 0, 2, l or v)"),
            ("é" + z32.dropFirst(), .invalidCharacter("é", position: 1, encoding: .zBase32),
             "invalid z-base-32 character U+E9 at position 1 (z-base-32 has no 0, 2, l or v)"),
            (String(Self.pkarrExampleBytes.hexString.dropLast()) + "g", .invalidCharacter("g", position: 64, encoding: .hex),
             "invalid hex digit \"g\" at position 64"),
            // The last symbol of a key carries one bit and four unused ones; "b" (1) sets one.
            (String(z32.dropLast()) + "b", .nonCanonicalZBase32,
             "not a canonical z-base-32 key: the last character carries bits no key has"),
        ]
        for (text, error, message) in cases {
            #expect(throws: error, "\(text)") { try Ed25519.PublicKey(parsing: text) }
            #expect(error.description == message)
            #expect(!message.contains("\n"))
        }
    }
}
