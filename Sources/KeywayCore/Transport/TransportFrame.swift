/// The frames a data packet's plaintext carries after its packet number (QUIC-like, RFC 9000
/// section 19, with QUIC varints for every number). An empty list is a keepalive.
enum TransportFrame: Equatable {
    /// Asks for an acknowledgement.
    case ping
    /// A run of padding bytes (decoded as one frame); it asks for nothing.
    case padding(count: Int)
    /// Acknowledges the packet numbers in `ranges` (ascending); `delayMicroseconds` is how long
    /// the receiver held the acknowledgement of the largest one.
    case ack(ranges: [Range<UInt64>], delayMicroseconds: UInt64)
    /// Aborts stream `id` in both directions; `finalSize` is how many bytes its sender sent.
    case resetStream(id: UInt64, code: UInt64, finalSize: UInt64)
    /// Bytes of stream `id` starting at `offset`; `fin` when the stream ends after them.
    case stream(id: UInt64, offset: UInt64, data: ArraySlice<UInt8>, fin: Bool)
    /// The sender may send this many stream bytes in all (session flow control).
    case maxData(UInt64)
    /// The sender may send stream `id` up to this offset.
    case maxStreamData(id: UInt64, maximum: UInt64)

    /// Whether receiving this frame obliges the receiver to acknowledge its packet.
    var isAckEliciting: Bool {
        switch self {
        case .ack, .padding: return false
        default: return true
        }
    }

    /// Whether this is a STREAM frame that ends its stream.
    var isStreamEnd: Bool {
        if case .stream(_, _, _, true) = self { return true }
        return false
    }

    /// Appends this frame's encoding.
    func encode(to out: inout [UInt8]) {
        switch self {
        case .ping:
            out.append(TransportSpec.FrameType.ping)
        case let .padding(count):
            out.append(contentsOf: repeatElement(TransportSpec.FrameType.padding, count: count))
        case let .ack(ranges, delay):
            Self.encodeAck(ranges: ranges[...], delayMicroseconds: delay, to: &out)
        case let .resetStream(id, code, finalSize):
            out.append(TransportSpec.FrameType.resetStream)
            TransportBytes.appendVarint(id, to: &out)
            TransportBytes.appendVarint(code, to: &out)
            TransportBytes.appendVarint(finalSize, to: &out)
        case let .stream(id, offset, data, fin):
            Self.encodeStreamHeader(id: id, offset: offset, length: data.count, fin: fin, to: &out)
            out.append(contentsOf: data)
        case let .maxData(maximum):
            out.append(TransportSpec.FrameType.maxData)
            TransportBytes.appendVarint(maximum, to: &out)
        case let .maxStreamData(id, maximum):
            out.append(TransportSpec.FrameType.maxStreamData)
            TransportBytes.appendVarint(id, to: &out)
            TransportBytes.appendVarint(maximum, to: &out)
        }
    }

    /// Appends a STREAM frame's header; `length` bytes of data MUST follow.
    static func encodeStreamHeader(id: UInt64, offset: UInt64, length: Int, fin: Bool, to out: inout [UInt8]) {
        out.append(fin ? TransportSpec.FrameType.streamFin : TransportSpec.FrameType.stream)
        TransportBytes.appendVarint(id, to: &out)
        TransportBytes.appendVarint(offset, to: &out)
        TransportBytes.appendVarint(UInt64(length), to: &out)
    }

    /// Appends an ACK frame for `ranges` (ascending, disjoint, non-adjacent, not empty).
    static func encodeAck(ranges: ArraySlice<Range<UInt64>>, delayMicroseconds: UInt64, to out: inout [UInt8]) {
        guard let top = ranges.last else { return }
        out.append(TransportSpec.FrameType.ack)
        TransportBytes.appendVarint(top.upperBound - 1, to: &out)
        TransportBytes.appendVarint(min(delayMicroseconds, TransportSpec.maximumVarint), to: &out)
        TransportBytes.appendVarint(UInt64(ranges.count - 1), to: &out)
        TransportBytes.appendVarint(UInt64(top.count - 1), to: &out)
        var smallest = top.lowerBound
        for range in ranges.dropLast().reversed() {
            TransportBytes.appendVarint(smallest - range.upperBound - 1, to: &out)
            TransportBytes.appendVarint(UInt64(range.count - 1), to: &out)
            smallest = range.lowerBound
        }
    }

    /// The frames of `plaintext` from `offset`, or `nil` if any is malformed or unknown or an
    /// ACK frame names more than `maximumAckRanges` ranges
    /// (``TransportConfiguration/maximumDecodedAckRanges``).
    static func decodeAll(_ plaintext: [UInt8], from offset: Int, maximumAckRanges: Int) -> [TransportFrame]? {
        var frames: [TransportFrame] = []
        var cursor = offset
        while cursor < plaintext.count {
            guard let frame = decode(plaintext, at: &cursor, maximumAckRanges: maximumAckRanges) else { return nil }
            frames.append(frame)
        }
        return frames
    }

    /// One frame at `offset`, advancing it; `nil` if malformed or unknown.
    static func decode(_ bytes: [UInt8], at offset: inout Int, maximumAckRanges: Int) -> TransportFrame? {
        let type = bytes[offset]
        offset += 1
        func varint() -> UInt64? { TransportBytes.readVarint(bytes, at: &offset) }
        switch type {
        case TransportSpec.FrameType.ping:
            return .ping
        case TransportSpec.FrameType.padding:
            var count = 1
            while offset < bytes.count, bytes[offset] == TransportSpec.FrameType.padding {
                offset += 1
                count += 1
            }
            return .padding(count: count)
        case TransportSpec.FrameType.ack:
            return decodeAck(bytes, at: &offset, maximumRanges: maximumAckRanges)
        case TransportSpec.FrameType.resetStream:
            guard let id = varint(), let code = varint(), let finalSize = varint() else { return nil }
            return .resetStream(id: id, code: code, finalSize: finalSize)
        case TransportSpec.FrameType.stream, TransportSpec.FrameType.streamFin:
            guard let id = varint(), let start = varint(), let length = varint(),
                  length <= UInt64(bytes.count - offset), start + length <= TransportSpec.maximumVarint else { return nil }
            let data = bytes[offset..<offset + Int(length)]
            offset += Int(length)
            return .stream(id: id, offset: start, data: data, fin: type == TransportSpec.FrameType.streamFin)
        case TransportSpec.FrameType.maxData:
            guard let maximum = varint() else { return nil }
            return .maxData(maximum)
        case TransportSpec.FrameType.maxStreamData:
            guard let id = varint(), let maximum = varint() else { return nil }
            return .maxStreamData(id: id, maximum: maximum)
        default:
            return nil
        }
    }

    /// The body of an ACK frame; `nil` if malformed (a range below zero, too many ranges).
    private static func decodeAck(_ bytes: [UInt8], at offset: inout Int, maximumRanges: Int) -> TransportFrame? {
        guard let largest = TransportBytes.readVarint(bytes, at: &offset),
              let delay = TransportBytes.readVarint(bytes, at: &offset),
              let count = TransportBytes.readVarint(bytes, at: &offset),
              count < UInt64(max(1, maximumRanges)),
              let first = TransportBytes.readVarint(bytes, at: &offset),
              first <= largest else { return nil }
        var descending: [Range<UInt64>] = [(largest - first)..<(largest + 1)]
        var smallest = largest - first
        for _ in 0..<count {
            guard let gap = TransportBytes.readVarint(bytes, at: &offset),
                  let length = TransportBytes.readVarint(bytes, at: &offset),
                  smallest >= gap + 2 else { return nil }
            let high = smallest - gap - 2
            guard high >= length else { return nil }
            descending.append((high - length)..<(high + 1))
            smallest = high - length
        }
        return .ack(ranges: descending.reversed(), delayMicroseconds: delay)
    }
}
