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

/// Issue 12, item 6: a crash between writing a temporary file and renaming it left
/// `.identity.<hex>.tmp` behind for good. Writers now hold an `flock` on their temporary file;
/// the next start removes every such file nobody holds, and never a live writer's.
@Suite struct StaleTemporaryFileTests {
    typealias Support = IdentityTestSupport

    /// Creates `path` with `contents` and, with `locked`, returns a descriptor holding an
    /// exclusive lock on it, as a live writer does.
    static func leave(_ path: String, locked: Bool = false) throws -> Int32? {
        try Support.writeFile(path, Array("half a secret".utf8))
        guard locked else { return nil }
        let fd = open(path, O_RDONLY)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw Support.Failure(description: "lock \(path): \(errno)") }
        return fd
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func startingRemovesACrashedWritersTemporaryFileButNotALiveOne() throws {
        try Support.withTemporaryDirectory { directory in
            let path = directory + "/identity"
            let stale = directory + "/.identity.9f2c4e1a0b7d3e55.tmp"
            let live = directory + "/.identity.c0ffee.tmp"
            // Not of the pattern: someone else's files, left alone.
            let others = [directory + "/.identity.xyz.tmp", directory + "/.other.abc.tmp", directory + "/identity.abc.tmp"]
            _ = try Self.leave(stale)
            let holder = try #require(try Self.leave(live, locked: true))
            defer { close(holder) }
            for other in others { _ = try Self.leave(other) }

            let created = try IdentityStore.loadOrCreate(at: path)
            #expect(!Self.exists(stale), "the crashed writer's temporary file is still there")
            #expect(Self.exists(live), "a live writer's temporary file was removed")
            for other in others { #expect(Self.exists(other), "\(other) was removed") }
            // Also when the identity is already there (every later start).
            _ = try Self.leave(stale)
            #expect(try IdentityStore.loadOrCreate(at: path).publicKey == created.publicKey)
            #expect(!Self.exists(stale))
            #expect(Self.exists(live))
        }
    }

    @Test func theWritersOwnTemporaryFileSurvivesACleanerWhileItWrites() throws {
        try Support.withTemporaryDirectory { directory in
            let path = directory + "/identity"
            var removedMeanwhile: [String] = []
            var temporaries: [String] = []
            let keyPair = try IdentityStore.loadOrCreate(at: path, beforePublishing: {
                // Another process starting now, between write and publish, runs its cleaner.
                removedMeanwhile = LockedTemporaryFile.removeStale(beside: path)
                temporaries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".tmp") }
            })
            #expect(removedMeanwhile.isEmpty)
            #expect(temporaries.count == 1, "\(temporaries)")
            #expect(try IdentityStore.load(at: path).publicKey == keyPair.publicKey)
            // Published: no temporary file is left.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["identity"])
        }
    }

    @Test func loadingTheContactsRemovesACrashedSavesTemporaryFile() throws {
        try Support.withTemporaryDirectory { directory in
            let path = directory + "/identity.contacts"
            let stale = directory + "/.identity.contacts.1234abcd.tmp"
            let live = directory + "/.identity.contacts.beef.tmp"
            _ = try Self.leave(stale)
            let holder = try #require(try Self.leave(live, locked: true))
            defer { close(holder) }
            let contact = NodeContact(id: NodeID(bytes: Array(repeating: 7, count: 20))!, endpoint: Endpoint("192.0.2.1:4000")!)
            try ContactsFile.save([contact], to: path)
            #expect(Self.exists(stale), "saving is no start: nothing is cleaned")
            #expect(try ContactsFile.load(at: path, limit: 10).contacts == [contact])
            #expect(!Self.exists(stale))
            #expect(Self.exists(live))
        }
    }

    /// The same through the command line: `keyway run` starts, and the crashed writers'
    /// temporary files of its identity and its contacts are gone.
    @Test func keywayRunRemovesStaleTemporaryFilesAtStart() async throws {
        try await RuntimeTestSupport.withTemporaryDirectory { directory in
            let children = ChildProcesses(directory: directory)
            defer { children.killAll() }
            #expect(mkdir(directory + "/s", 0o700) == 0)
            let stale = [directory + "/s/.identity.5eed.tmp", directory + "/s/.identity.contacts.a11.tmp"]
            for path in stale { _ = try Self.leave(path) }
            let node = try children.start(["run", "--state-dir", "s", "--listen", "127.0.0.1:0"], name: "node")
            _ = try await node.value(after: "listening: ")
            for path in stale { #expect(!Self.exists(path), "\(path) is still there") }
            node.signal()
            #expect(try await node.exit() == 0, "\(node.stderr)")
        }
    }

    @Test func onlyHexTemporaryNamesOfTheFileMatch() {
        #expect(LockedTemporaryFile.isTemporaryName(".identity.0.tmp", for: "identity"))
        #expect(LockedTemporaryFile.isTemporaryName(".identity.ffffffffffffffff.tmp", for: "identity"))
        #expect(!LockedTemporaryFile.isTemporaryName(".identity.1ffffffffffffffff.tmp", for: "identity"))
        #expect(!LockedTemporaryFile.isTemporaryName(".identity..tmp", for: "identity"))
        #expect(!LockedTemporaryFile.isTemporaryName(".identity.ABC.tmp", for: "identity"))
        #expect(!LockedTemporaryFile.isTemporaryName(".identity.contacts.abc.tmp", for: "identity"))
        #expect(!LockedTemporaryFile.isTemporaryName(".identity.abc.tmp", for: ""))
    }
}
