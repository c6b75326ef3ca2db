import Foundation
import KeywayCrypto
import Testing
@testable import KeywayCore

/// The cacophony Noise test vectors for keyway's two protocols, run from both sides.
@Suite struct NoiseVectorTests {
    /// One cacophony vector, reduced to what IK and IKpsk2 need.
    struct Vector {
        let name: String
        let initiatorPrologue: [UInt8], responderPrologue: [UInt8]
        let initiatorStatic: [UInt8], initiatorEphemeral: [UInt8], initiatorRemoteStatic: [UInt8]
        let responderStatic: [UInt8], responderEphemeral: [UInt8]
        let initiatorPSK: [UInt8]?, responderPSK: [UInt8]?
        let handshakeHash: [UInt8]
        let messages: [(payload: [UInt8], ciphertext: [UInt8])]
    }

    enum VectorError: Error { case missing(String), notHex(String) }

    /// `../shared/vectors/noise/cacophony.json`, beside the repository root found above this file.
    static func vectorFile(from filePath: String = #filePath) throws -> URL {
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
            let parent = directory.deletingLastPathComponent()
            guard parent.path != directory.path else { throw VectorError.missing("Package.swift above \(filePath)") }
            directory = parent
        }
        return directory.appendingPathComponent("../shared/vectors/noise/cacophony.json").standardizedFileURL
    }

    /// Every vector whose protocol is one of ours.
    static func loadVectors() throws -> [Vector] {
        let data = try Data(contentsOf: try vectorFile())
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let all = root["vectors"] as? [[String: Any]]
        else { throw VectorError.missing("vectors array") }
        let ours: Set = [Noise.protocolNameIK, Noise.protocolNameIKpsk2]
        return try all.filter { ($0["protocol_name"] as? String).map(ours.contains) ?? false }.map(parse)
    }

    static func parse(_ object: [String: Any]) throws -> Vector {
        func hex(_ key: String) throws -> [UInt8] {
            guard let text = object[key] as? String else { throw VectorError.missing(key) }
            guard let bytes = [UInt8](hex: text) else { throw VectorError.notHex(key) }
            return bytes
        }
        func psk(_ key: String) throws -> [UInt8]? {
            guard let list = object[key] as? [String] else { return nil }
            guard list.count == 1, let bytes = [UInt8](hex: list[0]) else { throw VectorError.notHex(key) }
            return bytes
        }
        guard let messages = object["messages"] as? [[String: String]] else { throw VectorError.missing("messages") }
        return Vector(
            name: object["protocol_name"] as? String ?? "",
            initiatorPrologue: try hex("init_prologue"), responderPrologue: try hex("resp_prologue"),
            initiatorStatic: try hex("init_static"), initiatorEphemeral: try hex("init_ephemeral"),
            initiatorRemoteStatic: try hex("init_remote_static"),
            responderStatic: try hex("resp_static"), responderEphemeral: try hex("resp_ephemeral"),
            initiatorPSK: try psk("init_psks"), responderPSK: try psk("resp_psks"),
            handshakeHash: try hex("handshake_hash"),
            messages: try messages.map { message in
                guard let payload = message["payload"].flatMap({ [UInt8](hex: $0) }),
                      let ciphertext = message["ciphertext"].flatMap({ [UInt8](hex: $0) })
                else { throw VectorError.notHex("message") }
                return (payload, ciphertext)
            })
    }

    @Test func cacophonyVectors() throws {
        let vectors = try Self.loadVectors()
        var ran = [String: Int]()
        for vector in vectors {
            try run(vector)
            ran[vector.name, default: 0] += 1
        }
        let total = ran.values.reduce(0, +)
        print("Noise cacophony vectors run: \(total) (\(ran.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")))")
        #expect(total > 0, "no Noise vector ran")
        #expect(ran[Noise.protocolNameIK, default: 0] > 0, "no IK vector ran")
        #expect(ran[Noise.protocolNameIKpsk2, default: 0] > 0, "no IKpsk2 vector ran")
    }

    /// Both sides of one vector: the handshake, then every transport message, each direction in
    /// turn, with each ciphertext compared byte for byte.
    func run(_ vector: Vector) throws {
        let context = Comment(rawValue: vector.name)
        var initiator = try NoiseHandshakeState.initiator(
            staticSecretKey: SecureBytes(vector.initiatorStatic), ephemeralSecretKey: SecureBytes(vector.initiatorEphemeral),
            responderStaticKey: vector.initiatorRemoteStatic, prologue: vector.initiatorPrologue,
            presharedKey: vector.initiatorPSK.map { SecureBytes($0) })
        var responder = try NoiseHandshakeState.responder(
            staticSecretKey: SecureBytes(vector.responderStatic), ephemeralSecretKey: SecureBytes(vector.responderEphemeral),
            prologue: vector.responderPrologue, presharedKey: vector.responderPSK.map { SecureBytes($0) })
        let expectedPattern: NoisePattern = vector.name == Noise.protocolNameIK ? .ik : .ikpsk2
        #expect(initiator.pattern == expectedPattern, context)
        #expect(responder.pattern == expectedPattern, context)
        try #require(vector.messages.count >= 2, context)

        // Message 1: initiator -> responder, revealing the initiator's static key.
        let first = vector.messages[0]
        let message1 = try initiator.writeMessage(payload: first.payload)
        #expect(message1 == first.ciphertext, context)
        let payload1 = try responder.readMessage(message1)
        #expect(payload1 == first.payload, context)
        #expect(responder.remoteStaticKey == (try X25519.publicKey(forSecretKey: SecureBytes(vector.initiatorStatic))), context)

        // Message 2: responder -> initiator.
        let second = vector.messages[1]
        let message2 = try responder.writeMessage(payload: second.payload)
        #expect(message2 == second.ciphertext, context)
        let payload2 = try initiator.readMessage(message2)
        #expect(payload2 == second.payload, context)

        #expect(initiator.isComplete && responder.isComplete, context)
        #expect(initiator.handshakeHash == vector.handshakeHash, context)
        #expect(responder.handshakeHash == vector.handshakeHash, context)
        var initiatorCiphers = try initiator.split()
        var responderCiphers = try responder.split()
        #expect(initiatorCiphers.handshakeHash == vector.handshakeHash, context)
        #expect(responderCiphers.handshakeHash == vector.handshakeHash, context)

        // Transport: the initiator sends the even messages, the responder the odd ones.
        for (index, message) in vector.messages.enumerated().dropFirst(2) {
            let initiatorSends = index % 2 == 0
            let nonce = initiatorSends ? initiatorCiphers.send.nonce : responderCiphers.send.nonce
            let receiveCipher = initiatorSends ? responderCiphers.receive : initiatorCiphers.receive
            let ciphertext = initiatorSends
                ? try initiatorCiphers.send.encryptWithAd(ad: [UInt8](), plaintext: message.payload)
                : try responderCiphers.send.encryptWithAd(ad: [UInt8](), plaintext: message.payload)
            #expect(ciphertext == message.ciphertext, context)
            // The explicit-nonce path gives the same bytes as the sequential one.
            let explicit = try receiveCipher.decrypt(nonce: nonce, ad: [UInt8](), ciphertext: ciphertext)
            #expect(explicit == message.payload, context)
            let plaintext = initiatorSends
                ? try responderCiphers.receive.decryptWithAd(ad: [UInt8](), ciphertext: ciphertext)
                : try initiatorCiphers.receive.decryptWithAd(ad: [UInt8](), ciphertext: ciphertext)
            #expect(plaintext == message.payload, context)
        }
    }

    @Test func vectorFileIsFoundBesideTheRepository() throws {
        let url = try Self.vectorFile()
        #expect(url.path.hasSuffix("shared/vectors/noise/cacophony.json"))
        #expect(FileManager.default.fileExists(atPath: url.path))
    }
}
