import Foundation
import Testing
import KeywayCrypto
@testable import KeywayCore

/// The BEP 44 test vectors from `shared/vectors/bep44.json`, beside the repository.
@Suite struct BEP44VectorTests {
    struct Vector {
        let name: String
        let value: String
        let sequence: Int64
        let salt: String
        let publicKey: [UInt8]
        let signedBuffer: String
        let signature: [UInt8]?
        let target: String
    }

    /// The repository root: the nearest folder above this file that holds `Package.swift`.
    static func repositoryRoot(from file: String = #filePath) -> URL? {
        var folder = URL(fileURLWithPath: file).deletingLastPathComponent()
        while folder.path != "/" {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) { return folder }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    static func loadVectors() throws -> [Vector] {
        let root = try #require(repositoryRoot(), "no Package.swift above \(#filePath)")
        let url = root.deletingLastPathComponent().appendingPathComponent("shared/vectors/bep44.json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try #require(json["mutable"] as? [[String: Any]])
        return try cases.map { c in
            func string(_ key: String) throws -> String { try #require(c[key] as? String, "missing \(key)") }
            return Vector(
                name: try string("name"),
                value: try string("value"),
                sequence: Int64(try #require(c["seq"] as? Int)),
                salt: try string("salt"),
                publicKey: try #require([UInt8](hex: try string("public_key"))),
                signedBuffer: try string("signed_buffer"),
                signature: (c["signature"] as? String).flatMap { [UInt8](hex: $0) },
                target: try string("target"))
        }
    }

    /// `v` as BEP 44 signs it: the value as a bencoded byte string.
    static func encodedValue(_ vector: Vector) -> [UInt8] {
        Array("\(vector.value.utf8.count):\(vector.value)".utf8)
    }

    @Test func bothCasesArePresent() throws {
        let vectors = try Self.loadVectors()
        #expect(vectors.map(\.name) == ["no salt", "with salt"])
        #expect(vectors.first?.signature != nil)
    }

    @Test func signableBufferMatches() throws {
        for vector in try Self.loadVectors() {
            let buffer = MutableItem.signableBuffer(
                salt: Array(vector.salt.utf8), sequence: vector.sequence, encodedValue: Self.encodedValue(vector))
            #expect(buffer == Array(vector.signedBuffer.utf8), "\(vector.name)")
        }
        #expect(Self.encodedValue(try #require(Self.loadVectors().first)) == Array("12:Hello World!".utf8))
    }

    @Test func targetMatches() throws {
        for vector in try Self.loadVectors() {
            let key = try Ed25519.PublicKey(bytes: vector.publicKey)
            #expect(MutableItem.target(publicKey: key, salt: Array(vector.salt.utf8)).description == vector.target, "\(vector.name)")
        }
    }

    @Test func signatureVerifiesAndAFlippedBitFails() throws {
        let vector = try #require(Self.loadVectors().first)
        let item = MutableItem(
            publicKey: try Ed25519.PublicKey(bytes: vector.publicKey), sequence: vector.sequence,
            encodedValue: Self.encodedValue(vector), signature: try #require(vector.signature))
        #expect(item.isValid)
        #expect(item.target.description == vector.target)

        var badSignature = item
        badSignature.signature[10] ^= 0x04
        #expect(!badSignature.isValid)
        var badValue = item
        badValue.encodedValue[5] ^= 0x01
        #expect(!badValue.isValid)
        var badSequence = item
        badSequence.sequence += 1
        #expect(!badSequence.isValid)
        var salted = item
        salted.salt = Array("foobar".utf8)
        #expect(!salted.isValid)
    }
}
