import Collections

/// One reliable, ordered byte stream in both directions: what the sender keeps until it is
/// acknowledged, and what the receiver reassembles until it is in order.
struct TransportStream: Sendable {
    /// The application's name for the stream.
    let id: StreamID
    /// The stream's number on the wire in the current session.
    var wireID: UInt64

    // MARK: Sending

    /// Bytes written and not yet acknowledged as a contiguous prefix; `sendBuffer[0]` is stream
    /// offset ``bufferBase``.
    var sendBuffer: [UInt8] = []
    /// The stream offset of `sendBuffer[0]`.
    var bufferBase: UInt64 = 0
    /// One past the highest byte ever sent: new data starts here.
    var sentOffset: UInt64 = 0
    /// Byte ranges the peer acknowledged.
    var acked = RangeSet()
    /// Byte ranges to send again (lost or probed), never acknowledged ones.
    var lost = RangeSet()
    /// The peer's flow-control limit for this stream.
    var peerMaximum = TransportSpec.initialStreamWindow
    /// The application finished its side: the stream ends at ``writeEnd``.
    var finRequested = false
    /// A frame with the end of the stream was sent and not yet found lost.
    var finSent = false
    /// The end of the stream was acknowledged.
    var finAcked = false
    /// ``TransportEvent/streamSendComplete(_:)`` was reported.
    var sendCompleteReported = false
    /// A write was refused for lack of buffer space; report when there is room again.
    var writeBlocked = false

    // MARK: Receiving

    /// Byte ranges received (delivered or waiting).
    var received = RangeSet()
    /// Out-of-order pieces waiting for the bytes before them, keyed by offset; disjoint.
    var pending: [UInt64: [UInt8]] = [:]
    /// What ``pending`` is charged: its bytes plus a fixed overhead per piece
    /// (``TransportConfiguration/reassemblyFragmentOverhead``), so that a flood of tiny
    /// fragments counts for the memory it really takes.
    var pendingCost: UInt64 = 0
    /// Bytes delivered in order to the application.
    var readOffset: UInt64 = 0
    /// Bytes the application consumed (flow-control credit given back).
    var consumedOffset: UInt64 = 0
    /// One past the highest byte received.
    var highestReceived: UInt64 = 0
    /// The stream's length, once the peer's end was received.
    var finalSize: UInt64?
    /// ``TransportEvent/streamFinished(_:)`` was reported.
    var finDelivered = false
    /// The flow-control limit this side granted.
    var advertisedMaximum = TransportSpec.initialStreamWindow
    /// A MAX_STREAM_DATA frame with ``advertisedMaximum`` must be sent.
    var needsMaxStreamData = false

    /// A fresh stream; `window` is this side's configured receive window.
    init(id: StreamID, wireID: UInt64, window: UInt64) {
        self.id = id
        self.wireID = wireID
        if window > advertisedMaximum {
            advertisedMaximum = window
            needsMaxStreamData = true
        }
    }

    /// One past the last byte written.
    var writeEnd: UInt64 { bufferBase + UInt64(sendBuffer.count) }

    /// The contiguous acknowledged prefix of the sent bytes.
    var ackedPrefix: UInt64 {
        guard let first = acked.first, first.lowerBound == 0 else { return 0 }
        return first.upperBound
    }

    /// Whether any byte or end of this stream was acknowledged or received: after a peer
    /// restart such a stream cannot carry on.
    var hasProgress: Bool {
        !acked.isEmpty || finAcked || highestReceived > 0 || finalSize != nil
    }

    /// Whether this side has nothing more to send or to wait for.
    var isSendDone: Bool { finRequested && finAcked && ackedPrefix >= writeEnd }

    /// Whether the peer's side ended and everything was delivered.
    var isReceiveDone: Bool { finDelivered }

    /// Bytes delivered in order and not yet consumed by the application (what
    /// ``TransportConfiguration/receiveBudget`` charges for this stream).
    var unconsumed: UInt64 { readOffset > consumedOffset ? readOffset - consumedOffset : 0 }

    /// Whether new bytes can be sent now, given the session's remaining credit.
    func newDataLimit(sessionCredit: UInt64) -> UInt64 {
        min(writeEnd, peerMaximum, sentOffset + sessionCredit)
    }

    /// Whether the end of the stream still has to be sent (first time or again).
    var needsFin: Bool { finRequested && !finAcked && !finSent && sentOffset >= writeEnd }

    // MARK: Send side

    /// Buffers as much of `bytes` as fits under `limit` unacknowledged bytes; returns how many.
    mutating func write(_ bytes: some Collection<UInt8>, limit: Int) -> Int {
        guard !finRequested else { return 0 }
        let buffered = Int(writeEnd - ackedPrefix)
        let room = max(0, limit - buffered)
        let accepted = min(room, bytes.count)
        if accepted < bytes.count { writeBlocked = true }
        sendBuffer.append(contentsOf: bytes.prefix(accepted))
        return accepted
    }

    /// Records that `range` (and the end, with `fin`) was acknowledged, and frees the buffer
    /// below the acknowledged prefix.
    mutating func acknowledge(_ range: Range<UInt64>, fin: Bool) {
        acked.insert(range)
        lost.remove(range)
        if fin {
            finAcked = true
        }
        let prefix = ackedPrefix
        let releasable = Int(prefix - bufferBase)
        // Release in large steps, so the copy it costs is amortised.
        if releasable >= 65536 && releasable * 2 >= sendBuffer.count {
            sendBuffer.removeFirst(releasable)
            bufferBase = prefix
        }
    }

    /// Records that `range` (and the end, with `fin`) must be sent again.
    mutating func markLost(_ range: Range<UInt64>, fin: Bool) {
        for gap in acked.gaps(in: range) { lost.insert(gap) }
        if fin && !finAcked { finSent = false }
    }

    /// The bytes `range` of the send buffer; the range MUST be at or above ``bufferBase``.
    func bytes(_ range: Range<UInt64>) -> ArraySlice<UInt8> {
        sendBuffer[Int(range.lowerBound - bufferBase)..<Int(range.upperBound - bufferBase)]
    }

    // MARK: Receive side

    /// What a STREAM frame did.
    enum ReceiveOutcome {
        /// Accepted; the highest received offset grew by this many bytes.
        case accepted(growth: UInt64)
        /// It broke flow control or contradicted the stream's end (RFC 9000 section 4.5).
        case violation(TransportViolation)
    }

    /// Takes bytes at `offset` (the end of the stream after them with `fin`), delivering
    /// whatever is now in order to `events`. The frame decoder guarantees that
    /// `offset + data.count` is at most ``TransportSpec/maximumVarint``.
    mutating func receive(
        offset: UInt64, data: ArraySlice<UInt8>, fin: Bool, fragmentOverhead: UInt64, events: inout Deque<TransportEvent>
    ) -> ReceiveOutcome {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(data.count))
        guard !overflow else { return .violation(.flowControl) }
        if let finalSize, end > finalSize || (fin && end != finalSize) { return .violation(.finalSize) }
        if fin && end < highestReceived { return .violation(.finalSize) }
        guard end <= advertisedMaximum else { return .violation(.flowControl) }
        if fin { finalSize = end }
        let growth = end > highestReceived ? end - highestReceived : 0
        highestReceived = max(highestReceived, end)
        if end > readOffset {
            for gap in received.gaps(in: max(offset, readOffset)..<end) {
                let start = data.startIndex
                let piece = data[(start + Int(gap.lowerBound - offset))..<(start + Int(gap.upperBound - offset))]
                if gap.lowerBound == readOffset {
                    events.append(.streamData(id, Array(piece)))
                    readOffset = gap.upperBound
                    deliverPending(fragmentOverhead: fragmentOverhead, events: &events)
                } else {
                    pending[gap.lowerBound] = Array(piece)
                    pendingCost += UInt64(piece.count) + fragmentOverhead
                }
            }
            received.insert(offset..<end)
        }
        if let finalSize, readOffset == finalSize, !finDelivered {
            finDelivered = true
            events.append(.streamFinished(id))
        }
        return .accepted(growth: growth)
    }

    /// Delivers the pieces that follow ``readOffset`` without a gap.
    private mutating func deliverPending(fragmentOverhead: UInt64, events: inout Deque<TransportEvent>) {
        while let piece = pending.removeValue(forKey: readOffset) {
            events.append(.streamData(id, piece))
            readOffset += UInt64(piece.count)
            pendingCost -= UInt64(piece.count) + fragmentOverhead
        }
    }

    /// What taking bytes `offset..<end` would add to the reassembly: the cost of the pieces it
    /// would leave waiting (0 when it fills the gap at ``readOffset``, which delivers it and
    /// everything after it), and whether it would add a disjoint range to ``received``.
    /// O(log n + k) for n ranges, k of them overlapped.
    func reassemblyGrowth(offset: UInt64, end: UInt64, fragmentOverhead: UInt64) -> (cost: UInt64, newRange: Bool) {
        guard end > readOffset else { return (0, false) }
        let gaps = received.gaps(in: max(offset, readOffset)..<end)
        guard let first = gaps.first, first.lowerBound != readOffset else { return (0, false) }
        var cost: UInt64 = 0
        for gap in gaps { cost += UInt64(gap.count) + fragmentOverhead }
        return (cost, !received.touches(offset..<end))
    }

    /// The application consumed bytes up to `offset`: returns how many bytes of session credit
    /// that frees, and raises this stream's limit when half its window is used.
    mutating func consume(upTo offset: UInt64, window: UInt64) -> UInt64 {
        let target = min(offset, readOffset)
        guard target > consumedOffset else { return 0 }
        let freed = target - consumedOffset
        consumedOffset = target
        if finalSize == nil, advertisedMaximum - consumedOffset < window / 2 {
            advertisedMaximum = consumedOffset + window
            needsMaxStreamData = true
        }
        return freed
    }
}
