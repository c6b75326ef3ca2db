/// The four transport packets (Docs/PROTOCOL.md, "Transport packets"): their layouts, and
/// parsers that check the fixed sizes, the type and the reserved bytes before anything else.
///
/// Every parser returns `nil` for a malformed datagram; none of them traps on any input.
enum TransportPacket {
    /// The packet type of `datagram` if it is a transport packet at all (first byte 1...4).
    static func type(of datagram: [UInt8]) -> UInt8? {
        guard let first = datagram.first, TransportSpec.packetTypes.contains(first) else { return nil }
        return first
    }

    /// Whether the type byte is followed by three zero bytes.
    static func hasValidTypeField(_ datagram: [UInt8], type: UInt8) -> Bool {
        datagram.count >= TransportSpec.typeFieldLength && datagram[0] == type
            && datagram[1] == 0 && datagram[2] == 0 && datagram[3] == 0
    }

    /// The type field of a packet: the type and three zero bytes.
    static func typeField(_ type: UInt8) -> [UInt8] { [type, 0, 0, 0] }

    /// Offset of MAC1 in an initiation.
    static let initiationMACOffset = TransportSpec.initiationLength - 2 * TransportSpec.macLength
    /// Offset of MAC1 in a response.
    static let responseMACOffset = TransportSpec.responseLength - 2 * TransportSpec.macLength
}

/// `[1, 0, 0, 0][sender index u32][Noise message 1][mac1][mac2]`.
struct InitiationPacket {
    /// The initiator's index for the session being made.
    let senderIndex: UInt32
    /// Noise message 1.
    let noiseMessage: ArraySlice<UInt8>

    /// Parses an initiation, or `nil` when its length, type or reserved bytes are wrong.
    init?(_ datagram: [UInt8]) {
        guard datagram.count == TransportSpec.initiationLength,
              TransportPacket.hasValidTypeField(datagram, type: TransportSpec.initiationType) else { return nil }
        senderIndex = TransportBytes.readLittleEndian(UInt32.self, datagram, at: TransportSpec.typeFieldLength)
        let start = TransportSpec.typeFieldLength + TransportSpec.indexLength
        noiseMessage = datagram[start..<TransportPacket.initiationMACOffset]
    }

    /// The packet without its MACs, which the caller completes with ``HandshakeMACs/seal(_:receiver:cookie:)``.
    static func unsealed(senderIndex: UInt32, noiseMessage: [UInt8]) -> [UInt8] {
        var out = TransportPacket.typeField(TransportSpec.initiationType)
        out.reserveCapacity(TransportSpec.initiationLength)
        TransportBytes.appendLittleEndian(senderIndex, to: &out)
        out += noiseMessage
        return out
    }
}

/// `[2, 0, 0, 0][sender index u32][receiver index u32][Noise message 2][mac1][mac2]`.
struct ResponsePacket {
    /// The responder's index for the new session.
    let senderIndex: UInt32
    /// The initiator's index, from the initiation this answers.
    let receiverIndex: UInt32
    /// Noise message 2.
    let noiseMessage: ArraySlice<UInt8>

    /// Parses a response, or `nil` when its length, type or reserved bytes are wrong.
    init?(_ datagram: [UInt8]) {
        guard datagram.count == TransportSpec.responseLength,
              TransportPacket.hasValidTypeField(datagram, type: TransportSpec.responseType) else { return nil }
        senderIndex = TransportBytes.readLittleEndian(UInt32.self, datagram, at: TransportSpec.typeFieldLength)
        receiverIndex = TransportBytes.readLittleEndian(
            UInt32.self, datagram, at: TransportSpec.typeFieldLength + TransportSpec.indexLength)
        let start = TransportSpec.typeFieldLength + 2 * TransportSpec.indexLength
        noiseMessage = datagram[start..<TransportPacket.responseMACOffset]
    }

    /// The packet without its MACs.
    static func unsealed(senderIndex: UInt32, receiverIndex: UInt32, noiseMessage: [UInt8]) -> [UInt8] {
        var out = TransportPacket.typeField(TransportSpec.responseType)
        out.reserveCapacity(TransportSpec.responseLength)
        TransportBytes.appendLittleEndian(senderIndex, to: &out)
        TransportBytes.appendLittleEndian(receiverIndex, to: &out)
        out += noiseMessage
        return out
    }
}

/// `[3, 0, 0, 0][receiver index u32][nonce 12][encrypted cookie 16 + tag 16]`.
struct CookieReplyPacket {
    /// The initiator's index, from the initiation this answers.
    let receiverIndex: UInt32
    /// The ChaCha20-Poly1305 nonce.
    let nonce: ArraySlice<UInt8>
    /// The sealed cookie.
    let sealedCookie: ArraySlice<UInt8>

    /// Parses a cookie reply, or `nil` when its length, type or reserved bytes are wrong.
    init?(_ datagram: [UInt8]) {
        guard datagram.count == TransportSpec.cookieReplyLength,
              TransportPacket.hasValidTypeField(datagram, type: TransportSpec.cookieReplyType) else { return nil }
        receiverIndex = TransportBytes.readLittleEndian(UInt32.self, datagram, at: TransportSpec.typeFieldLength)
        let nonceStart = TransportSpec.typeFieldLength + TransportSpec.indexLength
        nonce = datagram[nonceStart..<nonceStart + TransportSpec.cookieNonceLength]
        sealedCookie = datagram[(nonceStart + TransportSpec.cookieNonceLength)...]
    }

    /// A whole cookie reply.
    static func encode(receiverIndex: UInt32, nonce: [UInt8], sealedCookie: [UInt8]) -> [UInt8] {
        var out = TransportPacket.typeField(TransportSpec.cookieReplyType)
        out.reserveCapacity(TransportSpec.cookieReplyLength)
        TransportBytes.appendLittleEndian(receiverIndex, to: &out)
        out += nonce
        out += sealedCookie
        return out
    }
}

/// `[4, 0, 0, 0][receiver index u32][counter u64][ciphertext]`; the 16-byte header is the
/// AEAD associated data and the counter its nonce.
struct DataPacket {
    /// The receiver's index of the session.
    let receiverIndex: UInt32
    /// The packet's counter: the AEAD nonce, checked against the replay window.
    let counter: UInt64

    /// Parses a data packet's header, or `nil` when the packet is too short or too long, or its
    /// type or reserved bytes are wrong.
    init?(_ datagram: [UInt8]) {
        guard datagram.count >= TransportSpec.minimumDataLength,
              datagram.count <= TransportSpec.dataHeaderLength + Noise.maxMessageLength,
              TransportPacket.hasValidTypeField(datagram, type: TransportSpec.dataType) else { return nil }
        receiverIndex = TransportBytes.readLittleEndian(UInt32.self, datagram, at: TransportSpec.typeFieldLength)
        counter = TransportBytes.readLittleEndian(
            UInt64.self, datagram, at: TransportSpec.typeFieldLength + TransportSpec.indexLength)
    }

    /// The header of a data packet.
    static func header(receiverIndex: UInt32, counter: UInt64) -> [UInt8] {
        var out = TransportPacket.typeField(TransportSpec.dataType)
        out.reserveCapacity(TransportSpec.dataHeaderLength)
        TransportBytes.appendLittleEndian(receiverIndex, to: &out)
        TransportBytes.appendLittleEndian(counter, to: &out)
        return out
    }
}
