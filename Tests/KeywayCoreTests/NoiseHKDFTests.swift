import KeywayCrypto
import Testing
@testable import KeywayCore

/// HMAC-BLAKE2b and Noise's HKDF against values from Python's `hmac` and `hashlib.blake2b`.
@Suite struct NoiseHKDFTests {
    static let message = Array("keyway noise hmac".utf8)

    @Test func hmacMatchesRFC2104() {
        let key = SecureBytes((0..<64).map { UInt8($0) })
        let mac = NoiseHKDF.hmac(key: key, data: SecureBytes(Self.message))
        #expect(mac.bytes.hexString == "833d89c3f4b7efc63ee6537177d7ce4b2c7dd2ae7c8d1f3af188ed502a9ad7d1"
            + "fd69960cc42d5fe4fd14ea4d5152714f166b4636895ccec9f7d95971ff81010a")
    }

    @Test func hmacHashesKeysLongerThanABlock() {
        let key = SecureBytes([UInt8](repeating: 0xaa, count: 200))
        let mac = NoiseHKDF.hmac(key: key, data: SecureBytes(Self.message))
        #expect(mac.bytes.hexString == "640d2c4d455c0f6db913a60ff3a15312df08eb4e5fb67f79423e4b9097733109"
            + "e18940d63490c0f66c596329ce078fa70ef0085a97277c662a25a5388acc62e7")
    }

    @Test func hkdfProducesChainedOutputs() {
        let chainingKey = SecureBytes((0..<64).map { UInt8($0) })
        let material = SecureBytes((0..<32).map { UInt8($0) })
        let three = NoiseHKDF.hkdf(chainingKey: chainingKey, inputKeyMaterial: material, outputCount: 3)
        #expect(three.map { $0.bytes.hexString } == [
            "b257cf2863e7aa7f84d41d31e58df6dfb1e0a6cf3172192cc35eba2625a21975db4475b2ef89316383acac6b2ac7cf03f7583e0ff20a64fb208fa5b1199f835f",
            "4f4d712feaff914e80db4d0d400a46056854134b5001018c4f1fe19bb477053c5a9b92f8c937b1328c0ae7e51895b8d68068bc84d59436cc3b75de5a2d6d0630",
            "c3e03a921f0f492329fe003e995b982fdd8c0596cc3575e01c2f24234e05e4778d233726d60ffe48a7d9ef235a6ff5fac555bafcfdd1272c4763ded2e01c0c3f",
        ])
        let two = NoiseHKDF.hkdf(chainingKey: chainingKey, inputKeyMaterial: material, outputCount: 2)
        #expect(two == Array(three.prefix(2)))
    }

    @Test func constantsMatchTheSuite() {
        #expect(Noise.dhLength == X25519.keyLength)
        #expect(Noise.hashLength == BLAKE2b.maximumOutputLength)
        #expect(Noise.blockLength == BLAKE2b.blockLength)
        #expect(Noise.keyLength == ChaChaPoly.keyLength)
        #expect(Noise.macLength == ChaChaPoly.tagLength)
        #expect(Noise.protocolNameIK == "Noise_IK_25519_ChaChaPoly_BLAKE2b")
        #expect(Noise.protocolNameIKpsk2 == "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b")
    }
}
