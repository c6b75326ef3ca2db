import Foundation
import Synchronization
import KeywayCrypto
import Testing
@testable import Keyway
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creating and loading identity files that are fine.
@Suite struct IdentityStoreTests {
    typealias Support = IdentityTestSupport

    @Test func firstUseCreatesA0600FileInNew0700Directories() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/data/keyway/identity"
            let created = try IdentityStore.loadOrCreate(at: path)
            #expect(try Support.permissions(of: path) == 0o600)
            #expect(try Support.permissions(of: root + "/data/keyway") == 0o700)
            #expect(try Support.permissions(of: root + "/data") == 0o700)
            #expect(try Support.readFile(path) == Support.fileContents(for: created))
            // No temporary file is left behind.
            #expect(try Support.entries(of: root + "/data/keyway") == ["identity"])
        }
    }

    @Test func laterLoadsReturnTheSameIdentity() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            let created = try IdentityStore.loadOrCreate(at: path)
            let before = try Support.readFile(path)
            let again = try IdentityStore.loadOrCreate(at: path)
            let loaded = try IdentityStore.load(at: path)
            #expect(again.publicKey == created.publicKey)
            #expect(loaded.publicKey == created.publicKey)
            #expect(loaded.seed == created.seed)
            #expect(try Support.readFile(path) == before)
        }
    }

    @Test func loadsAFileWrittenElsewhere() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            let keyPair = try Support.rfc8032KeyPair()
            try Support.writeFile(path, Support.fileContents(for: keyPair))
            #expect(try IdentityStore.loadOrCreate(at: path).publicKey == keyPair.publicKey)
        }
    }

    @Test func existingDirectoriesKeepTheirMode() throws {
        try Support.withTemporaryDirectory { root in
            let directory = root + "/shared"
            #expect(mkdir(directory, 0o755) == 0)
            #expect(chmod(directory, 0o755) == 0)
            _ = try IdentityStore.loadOrCreate(at: directory + "/identity")
            #expect(try Support.permissions(of: directory) == 0o755)
        }
    }

    @Test func loadNeverCreates() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/missing/identity"
            #expect(throws: IdentityError.notFound(path: path)) { try IdentityStore.load(at: path) }
            let entries = try Support.entries(of: root)
            #expect(entries.isEmpty)
        }
    }

    @Test func readOnlyFileIsAccepted() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            let keyPair = try Support.rfc8032KeyPair()
            try Support.writeFile(path, Support.fileContents(for: keyPair), mode: 0o400)
            #expect(try IdentityStore.load(at: path).publicKey == keyPair.publicKey)
        }
    }

    /// A symbolic link to a good file is followed (how Kubernetes mounts secrets).
    @Test func followsSymbolicLinkToAFile() throws {
        try Support.withTemporaryDirectory { root in
            let target = root + "/real-identity"
            let keyPair = try Support.rfc8032KeyPair()
            try Support.writeFile(target, Support.fileContents(for: keyPair))
            #expect(symlink(target, root + "/identity") == 0)
            #expect(try IdentityStore.loadOrCreate(at: root + "/identity").publicKey == keyPair.publicKey)
        }
    }

    @Test func pathsThatNameNoFileAreRefused() {
        for path in ["", "dir/", "/"] {
            #expect(throws: IdentityError.invalidPath(path: path)) { try IdentityStore.loadOrCreate(at: path) }
            #expect(throws: IdentityError.invalidPath(path: path)) { try IdentityStore.load(at: path) }
        }
    }

    @Test func directoryNamesOfRelativeAndAbsolutePaths() {
        let cases = [
            "identity": ".", "a/identity": "a", "a//b/identity": "a//b", "/identity": "/",
            "/a/b/identity": "/a/b", "a/b//": "a", "/": "/",
        ]
        for (path, directory) in cases {
            #expect(FileSystem.directoryName(of: path) == directory, "\(path)")
        }
        #expect(FileSystem.baseName(of: "/a/identity") == "identity")
        #expect(FileSystem.baseName(of: "identity") == "identity")
    }

    /// Many threads creating the same identity at once all get the one that is on disk.
    @Test func concurrentCreatorsAgreeOnOneIdentity() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/keyway/identity"
            let results = Mutex<[Result<[UInt8], IdentityError>]>([])
            DispatchQueue.concurrentPerform(iterations: 16) { _ in
                let result = Result { () throws(IdentityError) in try IdentityStore.loadOrCreate(at: path).publicKey.bytes }
                results.withLock { $0.append(result) }
            }
            let keys = try results.withLock { try $0.map { try $0.get() } }
            #expect(keys.count == 16)
            #expect(Set(keys).count == 1)
            #expect(try IdentityStore.load(at: path).publicKey.bytes == keys.first)
            #expect(try Support.entries(of: root + "/keyway") == ["identity"])
        }
    }

    /// The creator that loses the race discards its key and returns the winner's.
    @Test func losingTheCreationRaceReturnsTheWinnersIdentity() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            let winner = try Support.rfc8032KeyPair()
            let loser = try IdentityStore.loadOrCreate(at: path) {
                do { try Support.writeFile(path, Support.fileContents(for: winner)) } catch { Issue.record("\(error)") }
            }
            #expect(loser.publicKey == winner.publicKey)
            #expect(try Support.readFile(path) == Support.fileContents(for: winner))
            #expect(try Support.entries(of: root) == ["identity"])
        }
    }

    /// Under root the mode bits do not stop a read, so this runs only for ordinary users.
    @Test(.enabled(if: !IdentityTestSupport.bypassesFilePermissions, "root reads files whatever their mode"))
    func unreadableFileIsReportedAsPermissionDenied() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/identity"
            let contents = Support.fileContents(for: Ed25519.KeyPair.generate())
            try Support.writeFile(path, contents, mode: 0o000)
            #expect(throws: IdentityError.permissionDenied(path: path)) { try IdentityStore.loadOrCreate(at: path) }
            #expect(chmod(path, 0o600) == 0)
            #expect(try Support.readFile(path) == contents)
        }
    }
}
