import KeywayCrypto

/// A BEP 44 mutable item: a value signed by an Ed25519 key, versioned by `seq`.
///
/// Definitions (BEP 44): the item's target is SHA-1(`k` ‖ `salt`); the signature covers the
/// bencoded form of the optional `salt`, then `seq`, then `v`, with no outer dictionary:
/// `4:salt<len>:<salt>3:seqi<seq>e1:v<bencoded v>`. `value` holds `v` *already bencoded*, byte
/// for byte as signed, so an item can be verified and forwarded without re-encoding it.
public struct MutableItem: Hashable, Sendable {
    /// The signer's public key (`k`).
    public var publicKey: Ed25519.PublicKey
    /// The optional salt (empty when absent); at most ``DHTSpec/maximumSaltLength`` bytes.
    public var salt: [UInt8]
    /// The sequence number (`seq`); keyway puts the publish time in microseconds here.
    public var sequence: Int64
    /// The bencoded value (`v`); its length is what BEP 44 limits to 1000 bytes.
    public var encodedValue: [UInt8]
    /// The 64-byte Ed25519 signature (`sig`).
    public var signature: [UInt8]

    /// An item from its wire fields; nothing is checked until ``isValid``.
    public init(publicKey: Ed25519.PublicKey, salt: [UInt8] = [], sequence: Int64, encodedValue: [UInt8], signature: [UInt8]) {
        self.publicKey = publicKey
        self.salt = salt
        self.sequence = sequence
        self.encodedValue = encodedValue
        self.signature = signature
    }

    /// A new item signed by `keyPair`.
    public static func signed(by keyPair: Ed25519.KeyPair, salt: [UInt8] = [], sequence: Int64, encodedValue: [UInt8]) -> MutableItem {
        let buffer = signableBuffer(salt: salt, sequence: sequence, encodedValue: encodedValue)
        return MutableItem(
            publicKey: keyPair.publicKey, salt: salt, sequence: sequence,
            encodedValue: encodedValue, signature: keyPair.signature(for: buffer))
    }

    /// The exact bytes BEP 44 signs.
    public static func signableBuffer(salt: [UInt8], sequence: Int64, encodedValue: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(salt.count + encodedValue.count + 40)
        if !salt.isEmpty {
            out += Array("4:salt\(salt.count):".utf8)
            out += salt
        }
        out += Array("3:seqi\(sequence)e1:v".utf8)
        out += encodedValue
        return out
    }

    /// The BEP 44 target: SHA-1(public key ‖ salt).
    public var target: NodeID { MutableItem.target(publicKey: publicKey, salt: salt) }

    /// The BEP 44 target of the item `publicKey` signs under `salt`.
    public static func target(publicKey: Ed25519.PublicKey, salt: [UInt8] = []) -> NodeID {
        NodeID(bytes: SHA1.hash(parts: [publicKey.bytes, salt]))!
    }

    /// Whether the item satisfies BEP 44: sizes within limits and a signature that verifies.
    public var isValid: Bool {
        encodedValue.count <= DHTSpec.maximumValueLength
            && salt.count <= DHTSpec.maximumSaltLength
            && signature.count == Ed25519.signatureLength
            && publicKey.isValidSignature(signature, for: MutableItem.signableBuffer(salt: salt, sequence: sequence, encodedValue: encodedValue))
    }
}
