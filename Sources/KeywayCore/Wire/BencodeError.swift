/// Why bytes are not one valid bencoded value.
///
/// Every case carries `offset`: the position, counted from the start of the input, of the byte
/// where the problem was found (for a value or key, its first byte).
public enum BencodeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The input ended in the middle of a value.
    case unexpectedEnd(offset: Int)
    /// A byte that cannot start a value: not `i`, `l`, `d` or a digit. An `e` where a
    /// dictionary value must follow its key lands here too.
    case invalidValueStart(offset: Int)
    /// An integer that is not in canonical form: empty (`ie`), a bare sign (`i-e`), a leading
    /// zero (`i03e`), negative zero (`i-0e`), or a byte other than a digit before the `e`.
    case invalidInteger(offset: Int)
    /// A well-formed integer outside the range of `Int64`.
    case integerOutOfRange(offset: Int)
    /// A string's length prefix is not canonical decimal digits followed by `:` (for example
    /// `01:a`, or `3x`).
    case invalidStringLength(offset: Int)
    /// A string's length runs past the end of the input.
    case stringBeyondInput(offset: Int)
    /// A string longer than ``BencodeLimits/maxStringLength``.
    case stringTooLong(offset: Int)
    /// A dictionary key that is not a byte string.
    case nonStringKey(offset: Int)
    /// A key that appears twice in one dictionary; `offset` is the first byte of the repeated
    /// key's contents.
    case duplicateKey(offset: Int)
    /// Lists and dictionaries nested deeper than ``BencodeLimits/maxDepth``.
    case nestingTooDeep(offset: Int)
    /// More elements than ``BencodeLimits/maxElementCount``.
    case tooManyElements(offset: Int)
    /// An input longer than ``BencodeLimits/maxInputLength``; `offset` is that limit.
    case inputTooLong(offset: Int)
    /// Bytes after the end of the top-level value.
    case trailingBytes(offset: Int)

    /// Where in the input the problem was found.
    public var offset: Int {
        switch self {
        case let .unexpectedEnd(offset), let .invalidValueStart(offset), let .invalidInteger(offset),
             let .integerOutOfRange(offset), let .invalidStringLength(offset), let .stringBeyondInput(offset),
             let .stringTooLong(offset), let .nonStringKey(offset), let .duplicateKey(offset),
             let .nestingTooDeep(offset), let .tooManyElements(offset), let .inputTooLong(offset),
             let .trailingBytes(offset):
            return offset
        }
    }

    /// A one-line, human-readable description with the offset.
    public var description: String {
        let what: String
        switch self {
        case .unexpectedEnd: what = "input ends inside a value"
        case .invalidValueStart: what = "byte cannot start a value"
        case .invalidInteger: what = "integer not in canonical form"
        case .integerOutOfRange: what = "integer outside Int64"
        case .invalidStringLength: what = "invalid string length"
        case .stringBeyondInput: what = "string runs past the end of the input"
        case .stringTooLong: what = "string longer than the limit"
        case .nonStringKey: what = "dictionary key is not a string"
        case .duplicateKey: what = "duplicate dictionary key"
        case .nestingTooDeep: what = "nesting deeper than the limit"
        case .tooManyElements: what = "more elements than the limit"
        case .inputTooLong: what = "input longer than the limit"
        case .trailingBytes: what = "bytes after the value"
        }
        return "\(what) at offset \(offset)"
    }
}
