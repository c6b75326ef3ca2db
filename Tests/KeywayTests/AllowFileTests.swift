import Foundation
import KeywayCore
import KeywayCrypto
import Testing
@testable import Keyway

/// `--allow-file`: one key a line, `#` comments, blank lines; any other line is one error naming
/// the file and the line.
@Suite struct AllowFileTests {
    typealias Support = IdentityTestSupport

    @Test func keysCommentsAndBlankLinesAreRead() throws {
        let first = Ed25519.KeyPair.generate().publicKey
        let second = Ed25519.KeyPair.generate().publicKey
        let text = """
            # who may connect

              \(first.zBase32)   # the laptop
            \(second.uri)\r
            \(first.bytes.map { String(format: "%02x", $0) }.joined())
            """
        let keys = try AllowFile.parse(Array(text.utf8), path: "allowed")
        #expect(keys == [first, second])
        #expect(try AllowFile.parse([], path: "empty").isEmpty)
    }

    @Test func aBadLineIsOneErrorNamingTheFileAndLine() throws {
        let key = Ed25519.KeyPair.generate().publicKey.zBase32
        let text = "# keys\n\(key)\n\nnot-a-key\n\(key)\n"
        #expect(throws: AllowFileError.self) { try AllowFile.parse(Array(text.utf8), path: "/etc/keyway/allowed") }
        do {
            _ = try AllowFile.parse(Array(text.utf8), path: "/etc/keyway/allowed")
        } catch {
            guard case let .invalidKey(path, line, _) = error else { Issue.record("\(error)"); return }
            #expect(path == "/etc/keyway/allowed" && line == 4)
            #expect(error.description.hasPrefix("/etc/keyway/allowed:4: not a key: \"not-a-key\""), "\(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func aFileIsLoadedAndAMissingOneIsOneLine() throws {
        try Support.withTemporaryDirectory { directory in
            let key = Ed25519.KeyPair.generate().publicKey
            let path = directory + "/allowed"
            try Support.writeFile(path, Array("\(key.zBase32)\n".utf8), mode: 0o644)
            #expect(try AllowFile.load(fromFile: path) == [key])
            #expect(throws: AllowFileError.unreadable(path: directory + "/missing", code: ENOENT)) {
                try AllowFile.load(fromFile: directory + "/missing")
            }
        }
    }
}
