import Testing
@testable import KeywayCore

/// The bytes of ASCII text, for writing bencode inputs legibly.
private func b(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The error decoding `text` throws, or `nil` if it decodes.
private func decodeError(_ text: String, limits: BencodeLimits = .default) -> BencodeError? {
    decodeError(b(text), limits: limits)
}

private func decodeError(_ input: [UInt8], limits: BencodeLimits = .default) -> BencodeError? {
    do {
        _ = try BencodeValue.decode(input, limits: limits)
        return nil
    } catch {
        return error
    }
}

@Suite struct BencodeDecodingTests {
    @Test func decodesEveryKind() throws {
        #expect(try BencodeValue.decode(b("i0e")) == .integer(0))
        #expect(try BencodeValue.decode(b("i-42e")) == .integer(-42))
        #expect(try BencodeValue.decode(b("i9223372036854775807e")) == .integer(.max))
        #expect(try BencodeValue.decode(b("i-9223372036854775808e")) == .integer(.min))
        #expect(try BencodeValue.decode(b("0:")) == .bytes([]))
        #expect(try BencodeValue.decode(b("4:spam")) == "spam")
        #expect(try BencodeValue.decode(b("le")) == .list([]))
        #expect(try BencodeValue.decode(b("l4:spami7ee")) == ["spam", 7])
        #expect(try BencodeValue.decode(b("de")) == .dictionary([]))
        let nested = try BencodeValue.decode(b("d3:cow3:moo4:spaml1:a1:bee"))
        #expect(nested == ["cow": "moo", "spam": ["a", "b"]])
        #expect(nested["spam"]?.list?.count == 2)
        #expect(nested["cow"]?.bytes == b("moo"))
        #expect(nested["none"] == nil)
    }

    @Test func decodesFromSlicesAndNonContiguousCollections() throws {
        let framed = b("xxi5eyy")
        #expect(try BencodeValue.decode(framed[2..<5]) == 5)
        #expect(try BencodeValue.decode(b("3:abc").lazy.map { $0 }) == "abc")
    }

    @Test func refusesNonCanonicalIntegers() {
        #expect(decodeError("i03e") == .invalidInteger(offset: 1))
        #expect(decodeError("i00e") == .invalidInteger(offset: 1))
        #expect(decodeError("i-0e") == .invalidInteger(offset: 2))
        #expect(decodeError("i-03e") == .invalidInteger(offset: 2))
        #expect(decodeError("i-e") == .invalidInteger(offset: 2))
        #expect(decodeError("ie") == .invalidInteger(offset: 1))
        #expect(decodeError("i+1e") == .invalidInteger(offset: 1))
        #expect(decodeError("i1xe") == .invalidInteger(offset: 2))
        #expect(decodeError("i--1e") == .invalidInteger(offset: 2))
        #expect(decodeError("i12") == .unexpectedEnd(offset: 3))
        #expect(decodeError("i") == .unexpectedEnd(offset: 1))
        #expect(decodeError("i-") == .unexpectedEnd(offset: 2))
    }

    @Test func refusesIntegersOutsideInt64() {
        #expect(decodeError("i9223372036854775808e") == .integerOutOfRange(offset: 0))
        #expect(decodeError("i-9223372036854775809e") == .integerOutOfRange(offset: 0))
        #expect(decodeError("i99999999999999999999999999999e") == .integerOutOfRange(offset: 0))
    }

    @Test func refusesBadStringLengths() {
        #expect(decodeError("01:a") == .invalidStringLength(offset: 0))
        #expect(decodeError("00:") == .invalidStringLength(offset: 0))
        #expect(decodeError("5:abc") == .stringBeyondInput(offset: 0))
        #expect(decodeError("1:") == .stringBeyondInput(offset: 0))
        // A length far beyond Int's range is refused without overflowing.
        #expect(decodeError("99999999999999999999999999999:a") == .stringBeyondInput(offset: 0))
        #expect(decodeError("3xabc") == .invalidStringLength(offset: 1))
        #expect(decodeError("3") == .stringBeyondInput(offset: 0))
        #expect(decodeError("1") == .unexpectedEnd(offset: 1))
        #expect(decodeError("-1:a") == .invalidValueStart(offset: 0))
    }

    @Test func refusesDuplicateKeysInSortedAndUnsortedDictionaries() {
        #expect(decodeError("d1:ai1e1:ai2ee") == .duplicateKey(offset: 9))
        // Out of order: b, a, b. The repeat is found by the unsorted path.
        #expect(decodeError("d1:bi1e1:ai2e1:bi3ee") == .duplicateKey(offset: 15))
        // The repeat is separated from the first by a nested dictionary that must be skipped.
        #expect(decodeError("d1:bd1:xi1e1:yi2ee1:ai1e1:bi0ee") == .duplicateKey(offset: 26))
        // Keys with a common prefix are distinct.
        #expect(decodeError("d2:abi1e1:ai2e3:abci3ee") == nil)
    }

    @Test func acceptsUnsortedKeysAndSortsTheEntries() throws {
        let value = try BencodeValue.decode(b("d1:bi1e1:ai2ee"))
        #expect(value.entries?.map(\.key) == [b("a"), b("b")])
        #expect(value.encoded() == b("d1:ai2e1:bi1ee"))
        // Nested unsorted dictionaries, each checked on its own.
        let nested = try BencodeValue.decode(b("d1:cd1:bi1e1:ai2ee1:bli1ee1:ai3ee"))
        #expect(nested.encoded() == b("d1:ai3e1:bli1ee1:cd1:ai2e1:bi1eee"))
        #expect(decodeError("d1:cd1:bi1e1:ai2ee1:bli1ee1:ai3e1:ci0ee") == .duplicateKey(offset: 34))
        // Outer unsorted first, then an unsorted nested one: each checks only its own keys.
        #expect(decodeError("d1:bi1e1:ad1:yi1e1:xi1ee1:ci1e1:bi2ee") == .duplicateKey(offset: 32))
        #expect(decodeError("d1:bi1e1:ad1:yi1e1:xi1e1:bi1ee1:ci1ee") == nil)
        // The same key may appear in different dictionaries.
        #expect(decodeError("d1:bd1:bi1e1:ai1ee1:ad1:bi1e1:ai1eee") == nil)
    }

    @Test func refusesNonStringKeys() {
        #expect(decodeError("di1ei2ee") == .nonStringKey(offset: 1))
        #expect(decodeError("dlei2ee") == .nonStringKey(offset: 1))
        #expect(decodeError("d1:ai1edei2ee") == .nonStringKey(offset: 7))
    }

    @Test func refusesTrailingBytes() {
        #expect(decodeError("i1ei2e") == .trailingBytes(offset: 3))
        #expect(decodeError("dee") == .trailingBytes(offset: 2))
        #expect(decodeError("4:spam ") == .trailingBytes(offset: 6))
    }

    @Test func refusesStructuralDamage() {
        #expect(decodeError("") == .unexpectedEnd(offset: 0))
        #expect(decodeError("e") == .invalidValueStart(offset: 0))
        #expect(decodeError("x") == .invalidValueStart(offset: 0))
        #expect(decodeError("l") == .unexpectedEnd(offset: 1))
        #expect(decodeError("d1:a") == .unexpectedEnd(offset: 4))
        #expect(decodeError("d1:ae") == .invalidValueStart(offset: 4))
        #expect(decodeError("li1e") == .unexpectedEnd(offset: 4))
    }

    @Test func enforcesTheDepthLimit() {
        func nested(_ depth: Int) -> [UInt8] {
            [UInt8](repeating: UInt8(ascii: "l"), count: depth) + [UInt8](repeating: UInt8(ascii: "e"), count: depth)
        }
        #expect(BencodeLimits.default.maxDepth == 32)
        #expect(decodeError(nested(32)) == nil)
        #expect(decodeError(nested(33)) == .nestingTooDeep(offset: 32))
        let shallow = BencodeLimits(maxDepth: 2, maxStringLength: 100, maxElementCount: 100, maxInputLength: 100)
        #expect(decodeError("d1:ali1eee", limits: shallow) == nil)
        #expect(decodeError("d1:alli1eeee", limits: shallow) == .nestingTooDeep(offset: 5))
        // A configured depth beyond the ceiling is held to the ceiling: no stack overflow.
        let reckless = BencodeLimits(maxDepth: 1_000_000, maxStringLength: 10, maxElementCount: 1_000_000, maxInputLength: 1_000_000)
        let ceiling = BencodeLimits.depthCeiling
        #expect(decodeError(nested(ceiling), limits: reckless) == nil)
        #expect(decodeError(nested(100_000), limits: reckless) == .nestingTooDeep(offset: ceiling))
    }

    @Test func enforcesTheSizeLimits() {
        let limits = BencodeLimits(maxDepth: 32, maxStringLength: 4, maxElementCount: 3, maxInputLength: 12)
        #expect(decodeError("4:spam", limits: limits) == nil)
        #expect(decodeError("5:spams", limits: limits) == .stringTooLong(offset: 0))
        #expect(decodeError("li1ei2ee", limits: limits) == nil)
        #expect(decodeError("li1ei2ei3ee", limits: limits) == .tooManyElements(offset: 7))
        #expect(decodeError("l4:spam4:eggse", limits: limits) == .inputTooLong(offset: 12))
    }

    @Test func reportsTheRawRangeOfAValue() throws {
        let input = b("d1:v3:abc1:wl1:xi-1eee")
        #expect(try BencodeValue.rangeOfValue(in: input) == 0..<input.count)
        #expect(try BencodeValue.rangeOfValue(in: input, at: 4) == 4..<9)
        #expect(try BencodeValue.rangeOfValue(in: input, at: 12) == 12..<21)
        #expect(Array(input[12..<21]) == b("l1:xi-1ee"))
        #expect(throws: BencodeError.invalidValueStart(offset: 3)) { try BencodeValue.rangeOfValue(in: input, at: 3) }
        #expect(throws: BencodeError.unexpectedEnd(offset: 99)) { try BencodeValue.rangeOfValue(in: input, at: 99) }
    }

    @Test func describesErrorsWithTheirOffset() {
        #expect(BencodeError.duplicateKey(offset: 7).description == "duplicate dictionary key at offset 7")
        #expect(BencodeError.trailingBytes(offset: 3).offset == 3)
    }
}

@Suite struct BencodeEncodingTests {
    @Test func encodesCanonically() {
        #expect(BencodeValue.integer(0).encoded() == b("i0e"))
        #expect(BencodeValue.integer(-7).encoded() == b("i-7e"))
        #expect(BencodeValue.integer(.min).encoded() == b("i-9223372036854775808e"))
        #expect(BencodeValue.integer(.max).encoded() == b("i9223372036854775807e"))
        #expect(BencodeValue.bytes([]).encoded() == b("0:"))
        #expect(BencodeValue.bytes([UInt8](repeating: 0x61, count: 12)).encoded() == b("12:aaaaaaaaaaaa"))
        // Keys are sorted by bytes, whatever order the value lists them in.
        let value: BencodeValue = ["zz": 1, "a": ["x", 2, [:]], "aa": "", "b": -1]
        #expect(value.encoded() == b("d1:al1:xi2edee2:aa0:1:bi-1e2:zzi1ee"))
    }

    @Test func writerRetriesWithMoreRoomWhenTheEstimateIsShort() {
        let value: BencodeValue = ["key": .bytes([UInt8](repeating: 7, count: 300)), "n": -1234567890]
        for estimate in [0, 1, 16, 17, 100, 320] {
            #expect(BencodeWriter.makeBytes(capacity: estimate) { $0.value(value) } == value.encoded())
        }
    }

    @Test func encodedLengthMatchesTheEncoding() {
        let values: [BencodeValue] = [0, -1, 10, .integer(.min), "", "hello", [], [[[1]]], ["k": ["v": "w"], "a": -100]]
        for value in values {
            #expect(value.encodedLength == value.encoded().count)
        }
    }

    @Test func roundTrips() throws {
        let value: BencodeValue = ["t": "aa", "y": "q", "a": ["id": .bytes(Array(0..<20)), "n": [1, -2, "three"]]]
        #expect(try BencodeValue.decode(value.encoded()) == value.sortedForComparison())
        let bytes = value.encoded()
        #expect(try BencodeValue.decode(bytes).encoded() == bytes)
    }
}

extension BencodeValue {
    /// This value with every dictionary's entries in key order, as the decoder returns them.
    func sortedForComparison() -> BencodeValue {
        switch self {
        case .integer, .bytes: return self
        case let .list(elements): return .list(elements.map { $0.sortedForComparison() })
        case let .dictionary(entries):
            return .dictionary(entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }
                .map { Entry(key: $0.key, value: $0.value.sortedForComparison()) })
        }
    }
}
