/// A DNS message (RFC 1035 section 4), as small as pkarr needs: the header, questions and three
/// sections of resource records.
///
/// A pkarr packet is a response (``DNSSpec/responseFlag``) with ID 0, no questions and its
/// records in the answer section. Records of type A, AAAA and TXT are interpreted; every other
/// type keeps its type code and data bytes so it re-encodes unchanged.
///
/// Encoding is in `DNSPacketEncoder.swift`, decoding in `DNSPacketDecoder.swift`.
public struct DNSPacket: Hashable, Sendable {
    /// The 16-bit message ID; 0 in pkarr packets.
    public var id: UInt16
    /// The 16 flag bits after the ID: QR, opcode, AA, TC, RD, RA, Z, AD, CD and RCODE.
    public var flags: UInt16
    /// The question section; empty in pkarr packets.
    public var questions: [DNSQuestion]
    /// The answer section, where pkarr puts every record.
    public var answers: [DNSResourceRecord]
    /// The authority section.
    public var authorities: [DNSResourceRecord]
    /// The additional section.
    public var additionals: [DNSResourceRecord]

    /// A packet from its parts; by default an empty response with ID 0, as pkarr writes one.
    public init(
        id: UInt16 = 0, flags: UInt16 = DNSSpec.responseFlag, questions: [DNSQuestion] = [],
        answers: [DNSResourceRecord] = [], authorities: [DNSResourceRecord] = [],
        additionals: [DNSResourceRecord] = []
    ) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }
}

/// The four sections of a message, in wire order; errors use it to say where they happened.
public enum DNSSection: String, Hashable, Sendable, CaseIterable {
    /// Questions.
    case question
    /// Answers.
    case answer
    /// Authority records.
    case authority
    /// Additional records.
    case additional
}

/// An entry of the question section: a name, a type and a class.
public struct DNSQuestion: Hashable, Sendable {
    /// The name asked about.
    public var name: DNSName
    /// The record type asked for.
    public var type: UInt16
    /// The class asked for (``DNSSpec/classInternet`` in practice).
    public var recordClass: UInt16

    /// A question from its parts.
    public init(name: DNSName, type: UInt16, recordClass: UInt16 = DNSSpec.classInternet) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
    }
}

/// A resource record: owner name, class, TTL and typed data (the type comes from the data).
public struct DNSResourceRecord: Hashable, Sendable {
    /// The owner name; in pkarr, the signer's z-base-32 key or a name ending with it.
    public var name: DNSName
    /// The class (``DNSSpec/classInternet`` in practice).
    public var recordClass: UInt16
    /// Seconds the record may be cached.
    public var ttl: UInt32
    /// The data, which also decides the type code.
    public var data: DNSRecordData

    /// A record from its parts.
    public init(name: DNSName, recordClass: UInt16 = DNSSpec.classInternet, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }

    /// The type code, from the data.
    public var type: UInt16 { data.type }
}

/// The data of a resource record.
public enum DNSRecordData: Hashable, Sendable {
    /// An `A` record for an IPv4 address, an `AAAA` record for an IPv6 one.
    case address(IPAddress)
    /// A `TXT` record: its character-strings, each at most
    /// ``DNSSpec/maximumCharacterStringLength`` bytes.
    case text([[UInt8]])
    /// Any other type, with its data bytes as they are on the wire. The decoder stores names
    /// inside `NS`, `CNAME`, `PTR`, `MX` and `SOA` data uncompressed, so the bytes stand alone.
    /// Use ``address(_:)`` and ``text(_:)`` for A, AAAA and TXT: the decoder always does.
    case other(type: UInt16, data: [UInt8])

    /// The record type code.
    public var type: UInt16 {
        switch self {
        case .address(.v4): return DNSSpec.RecordType.a
        case .address(.v6): return DNSSpec.RecordType.aaaa
        case .text: return DNSSpec.RecordType.txt
        case let .other(type, _): return type
        }
    }
}
