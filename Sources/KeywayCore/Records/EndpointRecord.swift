import KeywayCrypto

/// A node's signed statement of where it can be reached: its keyway endpoint record.
///
/// ## On the DHT
/// A record is a pkarr SignedPacket carried as a BEP 44 mutable item (pkarr `design/base.md`):
/// - `k` is the node's Ed25519 public key, and the target is SHA-1(`k`) with no salt;
/// - `seq` is the publish time in microseconds since the Unix epoch, so newer records win;
/// - `v` is the compressed DNS packet as a bencoded byte string, so the item's
///   ``MutableItem/encodedValue`` is `<length>:<packet>` and BEP 44's 1000-byte cap applies to
///   that whole string (the packet itself is at most 996 bytes).
///
/// ## The DNS packet
/// As pkarr writes one: a response (flags `0x8000`), ID 0, no questions, every record in the
/// answer section, class IN, and every name ending with the key's 52-character z-base-32 text
/// as its last label (the "TLD"). With `<key>` for that text, the records are:
/// - one `A` or `AAAA` record at `<key>` for each distinct IP address among the endpoints, in
///   order of first appearance, so plain pkarr resolvers see the addresses;
/// - one `TXT` record at `_keyway.<key>` for each endpoint, in order, holding the single string
///   `ep=` followed by the endpoint's text (``Endpoint/description``): `ep=192.0.2.1:4000`,
///   `ep=[2001:db8::1]:4000`. DNS has no port in A/AAAA records, so these strings are what
///   keyway reads: they are authoritative, and the address records are a courtesy.
///
/// Every record carries the record's ``ttl``.
///
/// ## Reading a record
/// ``init(item:limits:)`` takes the endpoints from the `ep=` strings of every TXT record at
/// `_keyway.<key>` (the name compared without regard to ASCII case) in the answer section, in
/// order, and the TTL as the smallest TTL of those records. It ignores every other record and
/// every TXT string without the `ep=` prefix, so later versions can add records and fields. A
/// string with the prefix must hold a valid endpoint. The result obeys the same rules as a
/// record built here: at least one endpoint, no duplicates, none unspecified or on port 0, at
/// most ``EndpointRecordLimits/maximumEndpoints``.
///
/// The signature is not checked here: ``MutableItem/isValid`` does that.
public struct EndpointRecord: Hashable, Sendable {
    /// The node's key, whose holder signs the record.
    public let publicKey: Ed25519.PublicKey
    /// The publish time in microseconds since the Unix epoch: the item's `seq`.
    public let timestampMicroseconds: Int64
    /// Where the node can be reached, most preferred first.
    public let endpoints: [Endpoint]
    /// Seconds a resolver may cache the record.
    public let ttl: UInt32
    /// The compressed DNS packet, built once by the initialiser that checks its size.
    private let packet: [UInt8]

    /// The TTL a record gets unless told otherwise: 300 s, pkarr's default minimum TTL.
    public static let defaultTTL: UInt32 = 300

    /// A record from its parts; throws when the endpoints break a rule (see the type's
    /// documentation) or the packet would not fit in a BEP 44 value.
    public init(
        publicKey: Ed25519.PublicKey, timestampMicroseconds: Int64, endpoints: [Endpoint],
        ttl: UInt32 = EndpointRecord.defaultTTL, limits: EndpointRecordLimits = EndpointRecordLimits()
    ) throws(EndpointRecordError) {
        guard timestampMicroseconds >= 0 else { throw .negativeTimestamp(timestampMicroseconds) }
        guard !endpoints.isEmpty else { throw .noEndpoints }
        guard endpoints.count <= limits.maximumEndpoints else {
            throw .tooManyEndpoints(count: endpoints.count, limit: limits.maximumEndpoints)
        }
        var seen = Set<Endpoint>()
        for endpoint in endpoints {
            guard !endpoint.address.isUnspecified, endpoint.port != 0 else { throw .unpublishableEndpoint(endpoint) }
            guard seen.insert(endpoint).inserted else { throw .duplicateEndpoint(endpoint) }
        }
        let packet: [UInt8]
        do {
            packet = try EndpointRecord.packetModel(publicKey: publicKey, endpoints: endpoints, ttl: ttl).encoded()
        } catch {
            throw .encoding(error)
        }
        let valueLength = BencodedByteString.encode(packet).count
        guard valueLength <= EndpointRecordSpec.maximumEncodedValueLength else {
            throw .valueTooLarge(length: valueLength, limit: EndpointRecordSpec.maximumEncodedValueLength)
        }
        self.publicKey = publicKey
        self.timestampMicroseconds = timestampMicroseconds
        self.endpoints = endpoints
        self.ttl = ttl
        self.packet = packet
    }

    /// Reads the record a mutable item carries (see "Reading a record" above); does not check
    /// the signature.
    public init(item: MutableItem, limits: EndpointRecordLimits = EndpointRecordLimits()) throws(EndpointRecordError) {
        guard item.salt.isEmpty else { throw .saltNotAllowed(length: item.salt.count) }
        guard let packetBytes = BencodedByteString.decode(item.encodedValue) else { throw .valueNotByteString }
        let packet: DNSPacket
        do {
            packet = try DNSPacket(decoding: packetBytes)
        } catch {
            throw .dns(error)
        }
        let service = EndpointRecord.serviceName(publicKey: item.publicKey)
        let prefix = Array(EndpointRecordSpec.endpointPrefix.utf8)
        var endpoints = [Endpoint]()
        var ttl: UInt32? = nil
        for record in packet.answers where record.recordClass == DNSSpec.classInternet && record.name.isEquivalent(to: service) {
            guard case let .text(strings) = record.data else { continue }
            for string in strings where string.starts(with: prefix) {
                let text = String(decoding: string[prefix.count...], as: UTF8.self)
                guard let endpoint = Endpoint(text) else { throw .malformedEndpoint(text) }
                endpoints.append(endpoint)
                ttl = min(ttl ?? record.ttl, record.ttl)
            }
        }
        try self.init(
            publicKey: item.publicKey, timestampMicroseconds: item.sequence, endpoints: endpoints,
            ttl: ttl ?? EndpointRecord.defaultTTL, limits: limits)
    }

    /// The compressed DNS packet: the bytes inside `v`.
    public func dnsPacket() -> [UInt8] { packet }

    /// The bencoded `v`: `<length>:<packet>`, what the signature covers after `seq`.
    public var encodedValue: [UInt8] { BencodedByteString.encode(packet) }

    /// The DHT key the record is stored under: SHA-1 of the public key (no salt).
    public var target: NodeID { MutableItem.target(publicKey: publicKey) }

    /// The record as a BEP 44 mutable item signed by `keyPair`, which must hold ``publicKey``.
    public func signed(by keyPair: Ed25519.KeyPair) -> MutableItem {
        precondition(keyPair.publicKey == publicKey, "an endpoint record must be signed by its own key")
        return MutableItem.signed(by: keyPair, sequence: timestampMicroseconds, encodedValue: encodedValue)
    }

    /// The name every record of `publicKey` ends with: its z-base-32 text as one label.
    public static func originName(publicKey: Ed25519.PublicKey) -> DNSName {
        // 52 bytes: within the 63-byte label and 255-byte name limits.
        DNSName(validatedLabels: [Array(publicKey.zBase32.utf8)])
    }

    /// `_keyway.<key>`, the name of keyway's TXT records.
    public static func serviceName(publicKey: Ed25519.PublicKey) -> DNSName {
        DNSName(validatedLabels: [Array(EndpointRecordSpec.serviceLabel.utf8)] + originName(publicKey: publicKey).labels)
    }

    /// The DNS packet, before encoding, of a record with these parts.
    static func packetModel(publicKey: Ed25519.PublicKey, endpoints: [Endpoint], ttl: UInt32) -> DNSPacket {
        let origin = originName(publicKey: publicKey), service = serviceName(publicKey: publicKey)
        var answers = [DNSResourceRecord]()
        var addresses = Set<IPAddress>()
        for endpoint in endpoints where addresses.insert(endpoint.address).inserted {
            answers.append(DNSResourceRecord(name: origin, ttl: ttl, data: .address(endpoint.address)))
        }
        for endpoint in endpoints {
            let text = Array((EndpointRecordSpec.endpointPrefix + endpoint.description).utf8)
            answers.append(DNSResourceRecord(name: service, ttl: ttl, data: .text([text])))
        }
        return DNSPacket(answers: answers)
    }
}
