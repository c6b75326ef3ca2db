import KeywayCore

/// A 64-bit running checksum of everything a simulation delivered, proving two runs identical.
///
/// Not cryptography: a word-at-a-time multiply-and-rotate mix (in the style of FNV-1a and
/// wyhash), folded over each delivered datagram's time, source, destination, length and payload.
/// Two runs with the same seed and options must end with the same value; any difference in any
/// delivered byte or in any delivery time changes it (with overwhelming probability).
public struct TraceHash: Sendable, Equatable, CustomStringConvertible {
    /// The current value.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    /// Datagrams folded in so far.
    public private(set) var count: UInt64 = 0

    /// The empty trace.
    public init() {}

    private static let prime: UInt64 = 0x0000_0100_0000_01b3
    private static let mixer: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Folds one 64-bit word into the running value.
    @inline(__always)
    mutating func mix(_ word: UInt64) {
        value = (value ^ word) &* TraceHash.prime
        value ^= value >> 29
        value &*= TraceHash.mixer
    }

    /// Folds in one delivered datagram.
    public mutating func record(at time: Instant, from source: Endpoint, to destination: Endpoint, payload: [UInt8]) {
        count += 1
        mix(time.nanoseconds)
        mix(TraceHash.word(source))
        mix(TraceHash.word(destination))
        mix(UInt64(payload.count))
        mix(TraceHash.payloadHash(payload))
    }

    /// A 64-bit hash of a payload, eight bytes at a time.
    public static func payloadHash(_ bytes: [UInt8]) -> UInt64 {
        var hash = TraceHash()
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset + 8 <= raw.count {
                hash.mix(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                offset += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < raw.count {
                tail |= UInt64(raw[offset]) << shift
                shift += 8
                offset += 1
            }
            hash.mix(tail ^ UInt64(raw.count) << 56)
        }
        return hash.value
    }

    private static func word(_ endpoint: Endpoint) -> UInt64 {
        switch endpoint.address {
        case let .v4(address): return UInt64(address) << 16 | UInt64(endpoint.port)
        case let .v6(high, low): return (high ^ (low &* TraceHash.mixer)) &+ UInt64(endpoint.port)
        }
    }

    /// Sixteen hexadecimal digits.
    public var description: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
