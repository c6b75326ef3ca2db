/// The constants keyway's transport wire format fixes (Docs/PROTOCOL.md, "Transport packets").
///
/// Changing any of these breaks compatibility with other nodes. Tunable limits live in
/// ``TransportConfiguration``.
public enum TransportSpec {
    // MARK: Packet types (first byte; never 0x64, which starts every KRPC message)

    /// Packet type of a handshake initiation (Noise message 1).
    public static let initiationType: UInt8 = 1
    /// Packet type of a handshake response (Noise message 2).
    public static let responseType: UInt8 = 2
    /// Packet type of a cookie reply (sent instead of a response under load).
    public static let cookieReplyType: UInt8 = 3
    /// Packet type of an encrypted transport data packet.
    public static let dataType: UInt8 = 4
    /// The packet types this transport owns, for demultiplexing a shared socket.
    public static let packetTypes: ClosedRange<UInt8> = initiationType...dataType

    // MARK: Lengths

    /// Bytes of every packet header before its type-specific fields: the type and 3 reserved
    /// zero bytes.
    public static let typeFieldLength = 4
    /// Bytes of a session index (little-endian `u32`).
    public static let indexLength = 4
    /// Bytes of a data packet's counter (little-endian `u64`, the AEAD nonce).
    public static let counterLength = 8
    /// Bytes of each handshake MAC (keyed BLAKE2b).
    public static let macLength = 16
    /// Bytes of a cookie.
    public static let cookieLength = 16
    /// Bytes of a cookie reply's nonce (a ChaCha20-Poly1305 IETF nonce).
    public static let cookieNonceLength = 12

    /// Bytes of the encrypted message-1 payload: the initiator's Ed25519 key (32), its state
    /// ID for the responder (8) and its TAI64N timestamp (12, see ``timestampLength``).
    public static let initiationPayloadLength = 32 + 8 + timestampLength
    /// Bytes of a handshake initiation's timestamp: TAI64N as in WireGuard (8 bytes of TAI64
    /// label, 4 of nanoseconds, both big-endian).
    public static let timestampLength = 12
    /// The TAI64 label of 1970-01-01 00:00:00 TAI-10 s, as WireGuard writes Unix time:
    /// `2^62 + 10`.
    public static let tai64Epoch: UInt64 = (1 << 62) + 10
    /// Bytes of the encrypted message-2 payload: the responder's state ID for the initiator.
    public static let responsePayloadLength = 8
    /// Bytes of Noise IK message 1 with keyway's payload: `e` (32), encrypted `s` (48) and the
    /// encrypted payload (52 + 16). IKpsk2 has the same length.
    public static let noiseInitiationLength = 32 + 48 + initiationPayloadLength + Noise.macLength
    /// Bytes of Noise IK message 2 with keyway's payload: `e` (32) and the encrypted payload.
    public static let noiseResponseLength = 32 + responsePayloadLength + Noise.macLength

    /// Total bytes of an initiation packet (fixed).
    public static let initiationLength = typeFieldLength + indexLength + noiseInitiationLength + 2 * macLength
    /// Total bytes of a response packet (fixed).
    public static let responseLength = typeFieldLength + 2 * indexLength + noiseResponseLength + 2 * macLength
    /// Total bytes of a cookie reply packet (fixed).
    public static let cookieReplyLength = typeFieldLength + indexLength + cookieNonceLength + cookieLength + Noise.macLength
    /// Bytes of a data packet's header, which is also its AEAD associated data.
    public static let dataHeaderLength = typeFieldLength + indexLength + counterLength
    /// The smallest data packet: a header and an AEAD tag around a packet number.
    public static let minimumDataLength = dataHeaderLength + packetNumberLength + Noise.macLength

    /// The Noise prologue of every keyway transport handshake: both sides MUST use it, so a
    /// handshake of another protocol version fails.
    public static let prologue: [UInt8] = Array("keyway transport 1".utf8)

    // MARK: MAC and cookie labels (as in WireGuard, with keyway's own strings)

    /// Label hashed with the receiver's Ed25519 key into the MAC1 key.
    public static let mac1Label: [UInt8] = Array("keyway-mac1----".utf8)
    /// Label hashed with the receiver's Ed25519 key into the cookie-encryption key.
    public static let cookieLabel: [UInt8] = Array("keyway-cookie--".utf8)

    // MARK: Plaintext of data packets

    /// Bytes of the packet number that starts every data packet's plaintext (little-endian `u64`).
    public static let packetNumberLength = 8

    /// Frame types inside a data packet's plaintext (QUIC-like; see ``TransportFrame``).
    public enum FrameType {
        /// One byte of padding; a run of them fills a size probe (QUIC's PADDING).
        public static let padding: UInt8 = 0x00
        /// Asks for an acknowledgement and carries nothing else.
        public static let ping: UInt8 = 0x01
        /// Acknowledges ranges of packet numbers.
        public static let ack: UInt8 = 0x02
        /// Aborts a stream in both directions.
        public static let resetStream: UInt8 = 0x04
        /// Stream data; ``streamFin`` also ends the stream.
        public static let stream: UInt8 = 0x08
        /// Stream data that ends the stream at its last byte.
        public static let streamFin: UInt8 = 0x09
        /// Raises the session-wide flow-control limit.
        public static let maxData: UInt8 = 0x10
        /// Raises one stream's flow-control limit.
        public static let maxStreamData: UInt8 = 0x11
    }

    // MARK: Flow control starting points

    /// The flow-control limit every stream starts with in each direction, before any
    /// MAX_STREAM_DATA frame raises it.
    public static let initialStreamWindow: UInt64 = 256 * 1024
    /// The session-wide flow-control limit each direction starts with, before any MAX_DATA.
    public static let initialSessionWindow: UInt64 = 1024 * 1024
    /// The largest value a QUIC variable-length integer can carry (`2^62 - 1`).
    public static let maximumVarint: UInt64 = (1 << 62) - 1
    /// The most bytes a STREAM frame's header takes: type and three 8-byte varints.
    public static let maximumStreamHeaderLength = 1 + 3 * 8
    /// The application error code of a RESET_STREAM refusing a stream over the receiver's limit.
    public static let streamRefusedCode: UInt64 = 0x5

    // MARK: Loss recovery (RFC 9002)

    /// Packets acknowledged after a packet that make it lost (RFC 9002 `kPacketThreshold`).
    public static let lossPacketThreshold: UInt64 = 3
    /// Timer granularity in nanoseconds, the least a probe timeout's variance term and a loss
    /// delay can be (RFC 9002 `kGranularity`: 1 ms).
    public static let timerGranularityNanoseconds: Int64 = 1_000_000
    /// Ack-eliciting packets sent when a probe timeout fires (RFC 9002 §6.2.4: up to two).
    public static let probePackets = 2
}
