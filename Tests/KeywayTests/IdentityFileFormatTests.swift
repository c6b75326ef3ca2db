import KeywayCrypto
import Testing
@testable import Keyway

@Suite struct IdentityFileFormatTests {
    typealias Support = IdentityTestSupport

    /// The exact bytes of a v1 file, from a known key pair (RFC 8032 test 1).
    @Test func encodesTheDocumentedFormat() throws {
        let keyPair = try Support.rfc8032KeyPair()
        let text = String(decoding: Support.fileContents(for: keyPair), as: UTF8.self)
        #expect(text == "keyway-identity v1\nseed \(Support.rfc8032Seed)\npublic \(Support.rfc8032PublicKey)\n")
        #expect(text.utf8.count == IdentityFileFormat.encodedLength)
        #expect(IdentityFileFormat.encodedLength == 161)
    }

    @Test func decodesWhatItEncodes() throws {
        let keyPair = Ed25519.KeyPair.generate()
        let decoded = try Support.fileContents(for: keyPair).withUnsafeBytes {
            try IdentityFileFormat.decode($0, path: "p")
        }
        #expect(decoded.publicKey == keyPair.publicKey)
        #expect(decoded.seed == keyPair.seed)
    }

    @Test func acceptsUppercaseHex() throws {
        let text = "keyway-identity v1\nseed \(Support.rfc8032Seed.uppercased())\n"
            + "public \(Support.rfc8032PublicKey.uppercased())\n"
        let decoded = try Array(text.utf8).withUnsafeBytes { try IdentityFileFormat.decode($0, path: "p") }
        #expect(decoded.publicKey == (try Support.rfc8032KeyPair()).publicKey)
    }

    /// A file cut anywhere before its end is reported as truncated, never as another problem.
    @Test func everyStrictPrefixIsTruncated() throws {
        let contents = Support.fileContents(for: try Support.rfc8032KeyPair())
        for length in 0..<contents.count {
            #expect(throws: IdentityError.truncated(path: "p")) {
                try Array(contents[..<length]).withUnsafeBytes { try IdentityFileFormat.decode($0, path: "p") }
            }
        }
    }

    /// Error messages about the seed line never contain the seed's digits.
    @Test func errorsNeverQuoteTheSeed() throws {
        var contents = Support.fileContents(for: try Support.rfc8032KeyPair())
        contents[30] = UInt8(ascii: "z")
        let error = #expect(throws: IdentityError.self) {
            try contents.withUnsafeBytes { try IdentityFileFormat.decode($0, path: "p") }
        }
        #expect(error == .malformed(path: "p", line: 2, problem: "the seed contains a character that is not a hex digit"))
        #expect(error?.description.contains(String(Support.rfc8032Seed.prefix(8))) == false)
    }
}
