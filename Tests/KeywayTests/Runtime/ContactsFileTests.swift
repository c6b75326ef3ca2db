import Foundation
import KeywayCore
import KeywayCrypto
import Testing
@testable import Keyway

/// The routing table on disk.
@Suite struct ContactsFileTests {
    typealias Support = IdentityTestSupport

    private func contacts(_ count: Int) -> [NodeContact] {
        (0..<count).map { index in
            NodeContact(id: NodeID(publicKey: Ed25519.KeyPair.generate().publicKey),
                        endpoint: index % 2 == 0 ? Endpoint("127.0.0.1:\(1000 + index)")! : Endpoint("[2001:db8::\(index + 1)]:\(2000 + index)")!)
        }
    }

    @Test func savedContactsLoadBackInOrder() throws {
        try Support.withTemporaryDirectory { root in
            let path = root + "/state/node.contacts"
            let saved = contacts(20)
            try ContactsFile.save(saved, to: path)
            let loaded = try ContactsFile.load(at: path, limit: 100)
            #expect(loaded == ContactsFile.Contents(contacts: saved, skippedLines: 0))
            #expect(try Support.permissions(of: path) == 0o600)
            #expect(try Support.entries(of: root + "/state") == ["node.contacts"])
            // Saving again replaces the file whole.
            try ContactsFile.save(Array(saved.prefix(3)), to: path)
            #expect(try ContactsFile.load(at: path, limit: 100).contacts == Array(saved.prefix(3)))
            #expect(try Support.entries(of: root + "/state") == ["node.contacts"])
        }
    }

    @Test func aMissingFileIsAnEmptyTable() throws {
        try Support.withTemporaryDirectory { root throws in
            #expect(try ContactsFile.load(at: root + "/none", limit: 10) == ContactsFile.Contents(contacts: [], skippedLines: 0))
        }
    }

    @Test func damagedLinesAreSkippedAndCounted() {
        let good = contacts(2)
        let text = ContactsFile.header + "\n\(good[0].id) \(good[0].endpoint)\ngarbage\n\(good[0].id) 127.0.0.1:9\n"
            + "00 127.0.0.1:1\n\(good[1].id) 0.0.0.0:5\n\(good[1].id) \(good[1].endpoint) extra\n\(good[1].id) \(good[1].endpoint)"
        let contents = ContactsFile.parse(ArraySlice(text.utf8), limit: 10, path: "x")
        #expect(contents.contacts == good)
        #expect(contents.skippedLines == 5)
    }

    @Test func theLimitIsObeyedAndAForeignFileIgnored() {
        let all = contacts(10)
        let text = String(decoding: ContactsFile.format(all), as: UTF8.self)
        let limited = ContactsFile.parse(ArraySlice(text.utf8), limit: 4, path: "x")
        #expect(limited.contacts == Array(all.prefix(4)))
        #expect(limited.skippedLines == 6)
        let foreign = ContactsFile.parse(ArraySlice("hello\nworld\n".utf8), limit: 4, path: "x")
        #expect(foreign.contacts.isEmpty)
        #expect(foreign.skippedLines == 2)
    }

    @Test func aDirectoryInTheWayIsAnError() throws {
        try Support.withTemporaryDirectory { root in
            try FileManager.default.createDirectory(atPath: root + "/dir", withIntermediateDirectories: false)
            #expect(throws: ContactsFileError.notRegularFile(path: root + "/dir")) { try ContactsFile.load(at: root + "/dir", limit: 1) }
            #expect(throws: ContactsFileError.self) { try ContactsFile.save([], to: root + "/dir") }
        }
    }
}
