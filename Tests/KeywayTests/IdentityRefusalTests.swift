import Foundation
import KeywayCrypto
import Testing
@testable import Keyway
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files the store must refuse, with a one-line error, and leave exactly as they were.
@Suite struct IdentityRefusalTests {
    typealias Support = IdentityTestSupport

    /// A damaged file: how to damage a valid one, and the error expected for it at `path`.
    struct Damage: Sendable, CustomTestStringConvertible {
        let name: String
        let damage: @Sendable ([UInt8]) -> [UInt8]
        let expected: @Sendable (String) -> IdentityError
        var testDescription: String { name }
    }

    static let valid: [UInt8] = Array(
        ("keyway-identity v1\nseed \(IdentityTestSupport.rfc8032Seed)\n"
            + "public \(IdentityTestSupport.rfc8032PublicKey)\n").utf8)

    /// Offset of the first seed digit and of the first public key digit in ``valid``.
    static let seedStart = 24, publicKeyStart = 96

    static let damages: [Damage] = [
        Damage(name: "empty", damage: { _ in [] }, expected: { .truncated(path: $0) }),
        Damage(name: "header only", damage: { Array($0[..<19]) }, expected: { .truncated(path: $0) }),
        Damage(name: "cut in the seed", damage: { Array($0[..<50]) }, expected: { .truncated(path: $0) }),
        Damage(name: "last newline missing", damage: { Array($0.dropLast()) }, expected: { .truncated(path: $0) }),
        Damage(
            name: "another file", damage: { _ in Array("[core]\n\tbare = false\n".utf8) },
            expected: { .notIdentityFile(path: $0) }),
        Damage(
            name: "version 2", damage: { Array("keyway-identity v2".utf8) + $0[18...] },
            expected: { .unsupportedVersion(path: $0, found: "v2") }),
        Damage(
            name: "garbled version", damage: { Array("keyway-identity 1.0".utf8) + $0[18...] },
            expected: { .malformed(path: $0, line: 1, problem: "the version must be \"v\" followed by digits") }),
        Damage(
            name: "CR LF line ends",
            damage: { Array(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8) },
            expected: { .malformed(path: $0, line: 1, problem: "lines must end with a line feed alone, not CR LF") }),
        Damage(
            name: "bad hex in seed", damage: { replacing($0, at: seedStart + 7, with: "g") },
            expected: {
                .malformed(path: $0, line: 2, problem: "the seed contains a character that is not a hex digit")
            }),
        Damage(
            name: "bad hex in public key", damage: { replacing($0, at: publicKeyStart, with: " ") },
            expected: {
                .malformed(path: $0, line: 3, problem: "the public key contains a character that is not a hex digit")
            }),
        Damage(
            name: "short seed", damage: { Array($0[..<(seedStart + 62)] + $0[(seedStart + 64)...]) },
            expected: { .malformed(path: $0, line: 2, problem: "the seed has 62 hex digits, expected 64") }),
        Damage(
            name: "long public key", damage: { Array($0.dropLast()) + Array("0\n".utf8) },
            expected: { .malformed(path: $0, line: 3, problem: "the public key has more than 64 hex digits") }),
        Damage(
            name: "labels swapped",
            damage: { Array(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "seed ", with: "SEED ").utf8) },
            expected: { .malformed(path: $0, line: 2, problem: "the line must start with \"seed \"") }),
        Damage(
            name: "trailing data", damage: { $0 + Array("# note\n".utf8) },
            expected: { .malformed(path: $0, line: 4, problem: "unexpected data after the public key") }),
        Damage(
            name: "mismatched public key",
            damage: { replacing($0, at: publicKeyStart + 63, with: $0[publicKeyStart + 63] == UInt8(ascii: "a") ? "b" : "a") },
            expected: { .publicKeyMismatch(path: $0) }),
        Damage(
            name: "larger than any identity file", damage: { $0 + [UInt8](repeating: 0x41, count: 1 << 16) },
            expected: { .malformed(path: $0, line: 4, problem: "unexpected data after the public key") }),
    ]

    @Test(arguments: damages)
    func damagedFilesAreRefusedAndLeftUntouched(_ damage: Damage) throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            let contents = damage.damage(Self.valid)
            try Support.writeFile(path, contents)
            try expectRefusal(at: path, damage.expected(path), in: root)
            #expect(try Support.readFile(path) == contents)
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o620, 0o602, 0o666, 0o610] as [mode_t])
    func filesOthersCanAccessAreRefusedWithAChmodHint(_ mode: mode_t) throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            try Support.writeFile(path, Self.valid, mode: mode)
            let error = IdentityError.insecurePermissions(path: path, mode: UInt32(mode))
            try expectRefusal(at: path, error, in: root)
            #expect(error.description.contains("run chmod 600 \(path)"))
            #expect(try Support.permissions(of: path) == mode)
            #expect(try Support.readFile(path) == Self.valid)
        }
    }

    @Test func directoryAtThePathIsRefused() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            #expect(mkdir(path, 0o700) == 0)
            try expectRefusal(at: path, .notRegularFile(path: path, kind: .directory), in: root)
            #expect(try Support.entries(of: path).isEmpty)
        }
    }

    /// A named pipe is refused at once, not waited on.
    @Test func namedPipeAtThePathIsRefused() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            #expect(mkfifo(path, 0o600) == 0)
            try expectRefusal(at: path, .notRegularFile(path: path, kind: .fifo), in: root)
        }
    }

    /// A dangling link is not created through: the link stays dangling, its target stays missing.
    @Test func danglingSymbolicLinkIsRefused() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            #expect(symlink(root + "/elsewhere", path) == 0)
            try expectRefusal(at: path, .notRegularFile(path: path, kind: .danglingSymbolicLink), in: root)
        }
    }

    /// The parent "directory" is a regular file, so it cannot be created; this holds even for root.
    @Test func uncreatableParentIsReported() throws {
        try Support.withTemporaryDirectory { root in
            let blocker = root + "/data"
            try Support.writeFile(blocker, Array("not a directory".utf8))
            let path = blocker + "/keyway/identity"
            #expect(throws: IdentityError.cannotCreateDirectory(path: blocker, code: ENOTDIR)) {
                try IdentityStore.loadOrCreate(at: path)
            }
            #expect(try Support.entries(of: root) == ["data"])
            #expect(try Support.readFile(blocker) == Array("not a directory".utf8))
        }
    }

    /// Under root the mode bits do not stop a write, so this runs only for ordinary users.
    @Test(.enabled(if: !IdentityTestSupport.bypassesFilePermissions, "root writes whatever the mode"))
    func unwritableDirectoriesAreReported() throws {
        try Support.withTemporaryDirectory { root in
            let locked = root + "/locked"
            #expect(mkdir(locked, 0o500) == 0)
            defer { _ = chmod(locked, 0o700) }
            #expect(throws: IdentityError.cannotCreateDirectory(path: locked + "/keyway", code: EACCES)) {
                try IdentityStore.loadOrCreate(at: locked + "/keyway/identity")
            }
            let error = #expect(throws: IdentityError.self) { try IdentityStore.loadOrCreate(at: locked + "/identity") }
            guard case let .systemError(path, operation, code) = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(path.hasPrefix(locked + "/.identity."))
            #expect(operation == "create")
            #expect(code == EACCES)
            let entries = try Support.entries(of: locked)
            #expect(entries.isEmpty)
        }
    }

    @Test func everyDescriptionIsOneLineNamingThePath() {
        let path = "/srv/node/identity"
        let errors: [IdentityError] = [
            .notFound(path: path), .invalidPath(path: path),
            .notRegularFile(path: path, kind: .directory), .insecurePermissions(path: path, mode: 0o644),
            .permissionDenied(path: path), .truncated(path: path), .notIdentityFile(path: path),
            .unsupportedVersion(path: path, found: "v2"), .malformed(path: path, line: 2, problem: "bad"),
            .publicKeyMismatch(path: path), .cannotCreateDirectory(path: path, code: EACCES),
            .systemError(path: path, operation: "write", code: ENOSPC),
        ]
        for error in errors {
            #expect(error.description.contains(path), "\(error)")
            #expect(!error.description.contains("\n"), "\(error)")
        }
        #expect(!IdentityError.noHomeDirectory.description.contains("\n"))
        #expect(IdentityError.insecurePermissions(path: path, mode: 0o644).description.contains("mode 0644"))
        #expect(IdentityError.systemError(path: path, operation: "write", code: ENOSPC).description
            .contains("No space left on device"))
    }

    /// Both entry points throw `expected` for `path`, and nothing is added to `directory`.
    private func expectRefusal(at path: String, _ expected: IdentityError, in directory: String) throws {
        let before = try Support.entries(of: directory)
        #expect(throws: expected) { try IdentityStore.loadOrCreate(at: path) }
        #expect(throws: expected) { try IdentityStore.load(at: path) }
        #expect(try Support.entries(of: directory) == before)
    }

    private static func replacing(_ bytes: [UInt8], at index: Int, with character: Character) -> [UInt8] {
        replacing(bytes, at: index, with: character.asciiValue ?? 0)
    }

    private static func replacing(_ bytes: [UInt8], at index: Int, with byte: UInt8) -> [UInt8] {
        var copy = bytes
        copy[index] = byte
        return copy
    }
}
