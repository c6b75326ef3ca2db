/// How much a bencode decoder accepts before it refuses an input.
///
/// These are implementation limits, not part of any specification (bencode itself has none);
/// they bound the work and memory one hostile datagram can cost. Specification constants, such
/// as BEP 44's 1000-byte `v`, live in ``DHTSpec`` and are checked by the DHT core, not here.
public struct BencodeLimits: Hashable, Sendable {
    /// The deepest nesting of lists and dictionaries accepted: a top-level list or dictionary is
    /// depth 1, a list inside it depth 2, and so on. Integers and strings add no depth.
    ///
    /// Decoding recurses once per level, so the limit is what keeps hostile input from blowing
    /// the stack. Values above ``depthCeiling`` are treated as ``depthCeiling``.
    public var maxDepth: Int
    /// The longest byte string accepted, in bytes.
    public var maxStringLength: Int
    /// The most elements one input may hold: every integer, byte string (dictionary keys
    /// included), list and dictionary counts as one. This bounds the memory a decoded tree takes,
    /// which for inputs like `lelelele…` would otherwise be many times the input's size.
    public var maxElementCount: Int
    /// The longest input accepted, in bytes; checked before anything is parsed.
    public var maxInputLength: Int

    /// The hard ceiling on ``maxDepth``, whatever is configured: deep enough for any real
    /// message, shallow enough that the recursive decoder stays far inside a thread's stack.
    public static let depthCeiling = 256

    /// Limits from their parts.
    public init(maxDepth: Int, maxStringLength: Int, maxElementCount: Int, maxInputLength: Int) {
        self.maxDepth = maxDepth
        self.maxStringLength = maxStringLength
        self.maxElementCount = maxElementCount
        self.maxInputLength = maxInputLength
    }

    /// Limits for KRPC datagrams and BEP 44 values:
    /// - depth 32: a KRPC message nests 3 levels plus whatever `v` holds; 32 is generous.
    /// - strings and input 65,536 bytes: a UDP payload is at most 65,507 bytes, so nothing
    ///   that arrives in one datagram is refused for its size.
    /// - 4,096 elements: a real message holds well under 300 (a full `get_peers` reply with
    ///   100 peers is about 110).
    public static let `default` = BencodeLimits(
        maxDepth: 32, maxStringLength: 65_536, maxElementCount: 4_096, maxInputLength: 65_536)
}
