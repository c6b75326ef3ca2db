import Foundation
import KeywayCore
import KeywayCrypto
import Testing
@testable import Keyway
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 12, item 6: identity, mesh-secret and allow files are checked as OpenSSH's
/// `StrictModes` checks key files: owned by the effective user or root, no group/other access
/// (allow files: no group/other write), every directory above owned by the user or root and not
/// writable by group or others unless sticky. Each refusal is one line naming the file and the fix.
///
/// The tests run as root, so another owner is a made-up uid given with `chown`.
@Suite struct FileSafetyTests {
    typealias Support = IdentityTestSupport

    /// A uid that is neither root nor the test's user.
    static let stranger: uid_t = 4321

    static let identity: [UInt8] = Array(
        ("keyway-identity v1\nseed \(IdentityTestSupport.rfc8032Seed)\n"
            + "public \(IdentityTestSupport.rfc8032PublicKey)\n").utf8)

    /// `path` with links and doubled slashes resolved, as the errors name directories.
    static func real(_ path: String) -> String { FileSafety.resolved(path) ?? path }

    static func makeDirectory(_ path: String, mode: mode_t, owner: uid_t? = nil) throws {
        guard mkdir(path, 0o700) == 0, chmod(path, mode) == 0 else { throw Support.Failure(description: "mkdir \(path): \(errno)") }
        if let owner, chown(path, owner, gid_t(owner)) != 0 { throw Support.Failure(description: "chown \(path): \(errno)") }
    }

    static func give(_ path: String, to owner: uid_t) throws {
        guard chown(path, owner, gid_t(owner)) == 0 else { throw Support.Failure(description: "chown \(path): \(errno)") }
    }

    /// The ``FileSafetyError`` inside `error` (any of the three files' error types).
    static func safetyError(_ error: any Error) -> FileSafetyError? {
        switch error {
        case let IdentityError.unsafeFile(inner): return inner
        case let MeshSecret.LoadError.unsafe(inner): return inner
        case let AllowFileError.unsafe(inner): return inner
        default: return nil
        }
    }

    /// Runs `body` and returns the safety error it threw, recording an issue when it threw none.
    static func refusal(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> FileSafetyError? {
        do {
            try body()
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch {
            if let found = safetyError(error) {
                #expect(!found.description.contains("\n"), sourceLocation: sourceLocation)
                return found
            }
            Issue.record("wrong error: \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    // MARK: Identity

    @Test func anIdentityFileOfAnotherUserIsRefused() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let path = directory + "/identity"
            try Support.writeFile(path, Self.identity)
            try Self.give(path, to: Self.stranger)
            let error = Self.refusal { _ = try IdentityStore.loadOrCreate(at: path) }
            #expect(error?.problem == .fileOwner(owner: UInt32(Self.stranger), user: UInt32(geteuid())))
            #expect(error?.description.contains("identity file \(path) belongs to uid 4321") == true, "\(String(describing: error))")
            #expect(error?.description.contains("chown") == true)
            // Refused, not replaced.
            #expect(try Support.readFile(path) == Self.identity)
        }
    }

    @Test func anIdentityFileUnderAGroupWritableDirectoryIsRefused() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let shared = directory + "/shared"
            try Self.makeDirectory(shared, mode: 0o775)
            try Self.makeDirectory(shared + "/keyway", mode: 0o700)
            let path = shared + "/keyway/identity"
            try Support.writeFile(path, Self.identity)
            let error = Self.refusal { _ = try IdentityStore.load(at: path) }
            #expect(error?.problem == .directoryMode(directory: shared, mode: 0o775))
            #expect(error?.description.hasSuffix("run chmod go-w \(shared)") == true, "\(String(describing: error))")
            // Nor is a new identity created there.
            let fresh = shared + "/keyway/other"
            _ = Self.refusal { _ = try IdentityStore.loadOrCreate(at: fresh) }
            #expect(!FileManager.default.fileExists(atPath: fresh))
        }
    }

    @Test func anIdentityFileUnderAnotherUsersDirectoryIsRefused() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let theirs = directory + "/theirs"
            try Self.makeDirectory(theirs, mode: 0o755)
            let path = theirs + "/identity"
            try Support.writeFile(path, Self.identity)
            try Self.give(theirs, to: Self.stranger)
            let error = Self.refusal { _ = try IdentityStore.load(at: path) }
            #expect(error?.problem == .directoryOwner(directory: theirs, owner: UInt32(Self.stranger), user: UInt32(geteuid())))
        }
    }

    @Test func aStickyWorldWritableDirectoryIsAccepted() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let scratch = directory + "/scratch"
            try Self.makeDirectory(scratch, mode: 0o1777)
            let path = scratch + "/identity"
            try Support.writeFile(path, Self.identity)
            #expect(try IdentityStore.load(at: path).publicKey.bytes == Array(hex: IdentityTestSupport.rfc8032PublicKey))
            #expect(try IdentityStore.loadOrCreate(at: scratch + "/new").publicKey.bytes.count == 32)
        }
    }

    @Test func aLinkIntoAnOpenDirectoryIsRefused() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let open = directory + "/open"
            try Self.makeDirectory(open, mode: 0o777)
            try Support.writeFile(open + "/identity", Self.identity)
            let link = directory + "/identity"
            #expect(symlink(open + "/identity", link) == 0)
            let error = Self.refusal { _ = try IdentityStore.load(at: link) }
            #expect(error?.problem == .directoryMode(directory: open, mode: 0o777))
        }
    }

    // MARK: Mesh secret

    @Test func aMeshSecretMustBeTheUsersPrivateRegularFile() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let path = directory + "/secret"
            try Support.writeFile(path, Array("correct horse\n".utf8), mode: 0o600)
            #expect(try MeshSecret.load(fromFile: path).count == 32)

            #expect(chmod(path, 0o644) == 0)
            let loose = Self.refusal { _ = try MeshSecret.load(fromFile: path) }
            #expect(loose?.problem == .fileMode(mode: 0o644, forbidden: 0o077))
            #expect(loose?.description == "mesh secret file \(path) is accessible by group or others (mode 0644); run chmod 600 \(path)")

            #expect(chmod(path, 0o600) == 0)
            try Self.give(path, to: Self.stranger)
            #expect(Self.refusal { _ = try MeshSecret.load(fromFile: path) }?.problem
                == .fileOwner(owner: UInt32(Self.stranger), user: UInt32(geteuid())))

            // A link is refused even when what it points to would pass.
            try Support.writeFile(directory + "/real", Array("correct horse\n".utf8), mode: 0o600)
            #expect(symlink(directory + "/real", directory + "/link") == 0)
            #expect(throws: MeshSecret.LoadError.notRegularFile(path: directory + "/link")) {
                try MeshSecret.load(fromFile: directory + "/link")
            }
            #expect(throws: MeshSecret.LoadError.notRegularFile(path: directory)) { try MeshSecret.load(fromFile: directory) }
        }
    }

    @Test func aMeshSecretUnderAWorldWritableDirectoryIsRefused() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let open = directory + "/open"
            try Self.makeDirectory(open, mode: 0o777)
            try Support.writeFile(open + "/secret", Array("correct horse\n".utf8), mode: 0o600)
            #expect(Self.refusal { _ = try MeshSecret.load(fromFile: open + "/secret") }?.problem
                == .directoryMode(directory: open, mode: 0o777))
        }
    }

    // MARK: Allow file

    @Test func anAllowFileMayBeReadByOthersButNotChangedByThem() throws {
        try Support.withTemporaryDirectory { temporary in
            let directory = Self.real(temporary)
            let key = Ed25519.KeyPair.generate().publicKey
            let path = directory + "/allowed"
            try Support.writeFile(path, Array("\(key.zBase32)\n".utf8), mode: 0o644)
            #expect(try AllowFile.load(fromFile: path) == [key])

            #expect(chmod(path, 0o664) == 0)
            let writable = Self.refusal { _ = try AllowFile.load(fromFile: path) }
            #expect(writable?.problem == .fileMode(mode: 0o664, forbidden: 0o022))
            #expect(writable?.description == "allow file \(path) may be changed by group or others (mode 0664); run chmod go-w \(path)")

            #expect(chmod(path, 0o644) == 0)
            try Self.give(path, to: Self.stranger)
            #expect(Self.refusal { _ = try AllowFile.load(fromFile: path) }?.problem
                == .fileOwner(owner: UInt32(Self.stranger), user: UInt32(geteuid())))
        }
    }
}
