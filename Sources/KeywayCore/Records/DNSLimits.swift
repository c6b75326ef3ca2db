/// Tunable limits of the DNS decoder; each refuses an input, none changes a result.
public struct DNSLimits: Hashable, Sendable {
    /// Longest packet the decoder reads, in bytes. The default is the BEP 44 cap on an item's
    /// value (``DHTSpec/maximumValueLength``, 1000 bytes), the size pkarr allows a packet.
    public var maximumPacketLength: Int

    /// The default cap: ``DHTSpec/maximumValueLength``.
    public static let defaultMaximumPacketLength = DHTSpec.maximumValueLength

    /// Limits with the given packet cap.
    public init(maximumPacketLength: Int = DNSLimits.defaultMaximumPacketLength) {
        self.maximumPacketLength = maximumPacketLength
    }
}
