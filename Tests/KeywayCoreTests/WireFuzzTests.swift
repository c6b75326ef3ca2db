import Testing
@testable import KeywayCore

/// Hostile input for both decoders: a crash would kill the test process, and every input that
/// decodes must re-encode stably, with the two decoders agreeing on what is bencode.
@Suite struct WireFuzzTests {
    /// Inputs per run; reproducible from ``seed``.
    static let inputCount = 100_000
    static let seed: UInt64 = 0x6b65_7977_6179  // "keyway"

    @Test func randomMessagesRoundTrip() throws {
        var random = RandomWireValues(seed: 1)
        for _ in 0..<3_000 {
            let message = random.message()
            let bytes = message.encoded()
            let decoded = try KRPCMessage.decode(bytes)
            #expect(decoded == message)
            #expect(decoded.encoded() == bytes)
            #expect(try BencodeValue.decode(bytes).encoded() == bytes)
        }
    }

    @Test func randomBencodeRoundTrips() throws {
        var random = RandomWireValues(seed: 2)
        for _ in 0..<3_000 {
            let value = random.bencode(depth: 4)
            let bytes = value.encoded()
            #expect(bytes.count == value.encodedLength)
            #expect(try BencodeValue.decode(bytes) == value.sortedForComparison())
        }
    }

    @Test func hostileInputNeverBreaksTheDecoders() {
        var fuzzer = WireFuzzer(seed: Self.seed, captures: KRPCTestVectors.all().map(\.bytes))
        var tally = Tally()
        for index in 0..<Self.inputCount {
            let input = fuzzer.next()
            tally.inputs += 1
            if let failure = check(input, &tally), tally.failures.count < 5 {
                tally.failures.append("input #\(index) \(input.hexString): \(failure)")
            }
        }
        #expect(tally.failures.isEmpty, "\(tally.failures.joined(separator: "\n"))")
        // The run reached every outcome, so the checks above were exercised, not skipped
        // (seed 0x6b65_7977_6179 gives about 8,450 bencode and 7,430 KRPC successes, 460
        // malformed and 92,100 notKRPC).
        #expect(tally.inputs == Self.inputCount)
        #expect(tally.bencodeDecoded > Self.inputCount / 20)
        #expect(tally.krpcDecoded > Self.inputCount / 20)
        #expect(tally.malformed > Self.inputCount / 500)
        #expect(tally.notKRPC > Self.inputCount / 2)
    }

    /// What the run reached.
    private struct Tally {
        var inputs = 0, bencodeDecoded = 0, krpcDecoded = 0, malformed = 0, notKRPC = 0
        var failures: [String] = []
    }

    /// The first broken property for `input`, or `nil` when all hold; counts the outcomes.
    private func check(_ input: [UInt8], _ tally: inout Tally) -> String? {
        let tree = try? BencodeValue.decode(input)
        if let tree {
            tally.bencodeDecoded += 1
            let encoded = tree.encoded()
            guard encoded.count == tree.encodedLength else { return "encodedLength \(tree.encodedLength) != \(encoded.count)" }
            guard let again = try? BencodeValue.decode(encoded) else { return "re-encoded bencode does not decode" }
            guard again == tree else { return "re-encoded bencode decodes to another value" }
            guard again.encoded() == encoded else { return "bencode encoding is not stable" }
        }
        // What the tree says the KRPC decoder must conclude.
        let transactionID = tree?["t"]?.bytes
        let isKRPC = tree?.entries != nil && transactionID != nil
        do {
            let message = try KRPCMessage.decode(input)
            tally.krpcDecoded += 1
            guard isKRPC else { return "KRPC decoded what is not a bencoded dictionary with t" }
            guard message.transactionID == transactionID else { return "KRPC t differs from the tree's" }
            let encoded = message.encoded()
            guard let again = try? KRPCMessage.decode(encoded) else { return "re-encoded KRPC does not decode" }
            guard again == message else { return "re-encoded KRPC decodes to another message" }
            guard again.encoded() == encoded else { return "KRPC encoding is not stable" }
            guard (try? BencodeValue.decode(encoded))?.encoded() == encoded else { return "KRPC encoding is not canonical" }
        } catch {
            switch error {
            case .notKRPC:
                tally.notKRPC += 1
                guard !isKRPC else { return "notKRPC for a bencoded dictionary with t" }
            case let .malformed(malformedID, _, _):
                tally.malformed += 1
                guard isKRPC, malformedID == transactionID else { return "malformed without the tree's t" }
            }
        }
        return nil
    }
}

/// Makes fuzz inputs: random bytes, soups of bencode tokens, mutated captures and mutated
/// random messages.
private struct WireFuzzer {
    var random: RandomWireValues
    let captures: [[UInt8]]

    init(seed: UInt64, captures: [[UInt8]]) {
        random = RandomWireValues(seed: seed)
        self.captures = captures.filter { !$0.isEmpty }
    }

    private static let tokens: [[UInt8]] = [
        "d", "l", "e", "i", "-", "0", "1", "9", ":", "i0e", "i-1e", "i42e", "i99999999999999999999e", "0:", "1:a",
        "2:id", "1:t", "2:aa", "1:y", "1:q", "1:r", "1:e", "1:a", "1:v", "2:ip", "2:ro", "4:ping", "9:find_node",
        "3:get", "3:put", "9:get_peers", "13:announce_peer", "5:nodes", "6:nodes6", "6:values", "6:target", "5:token",
        "9:info_hash", "4:port", "12:implied_port", "3:seq", "3:sig", "1:k", "4:salt", "3:cas", "1:p", "le", "de",
    ].map { Array($0.utf8) }

    mutating func next() -> [UInt8] {
        switch random.int(0...99) {
        case 0..<15: return randomBytes()
        case 15..<35: return tokenSoup()
        case 35..<80: return mutate(captures.isEmpty ? randomBytes() : captures[random.int(0...(captures.count - 1))])
        default:
            let message = random.message().encoded()
            return random.chance(20) ? message : mutate(message)
        }
    }

    private mutating func randomBytes() -> [UInt8] {
        var bytes = random.bytes(0...96)
        if !bytes.isEmpty, random.bool() { bytes[0] = BencodeByte.d }
        return bytes
    }

    private mutating func tokenSoup() -> [UInt8] {
        var bytes: [UInt8] = [BencodeByte.d]
        for _ in 0..<random.int(1...40) {
            switch random.int(0...9) {
            case 0: bytes += [UInt8](Array("20:".utf8)) + random.bytes(20...20)
            case 1: bytes += Array("26:".utf8) + random.bytes(26...26)
            case 2: bytes.append(UInt8(truncatingIfNeeded: random.rng.next()))
            default: bytes += Self.tokens[random.int(0...(Self.tokens.count - 1))]
            }
        }
        if random.chance(70) { bytes.append(BencodeByte.e) }
        return bytes
    }

    /// One to four edits of `original`.
    private mutating func mutate(_ original: [UInt8]) -> [UInt8] {
        var bytes = original
        for _ in 0..<random.int(1...4) {
            let position = bytes.isEmpty ? 0 : random.int(0...(bytes.count - 1))
            switch random.int(0...8) {
            case 0 where !bytes.isEmpty:  // flip one bit
                bytes[position] ^= 1 << UInt8(random.int(0...7))
            case 1 where !bytes.isEmpty:  // replace one byte, often with bencode's own
                bytes[position] = random.chance(50) ? Array("dlei:-0123456789".utf8)[random.int(0...15)] : UInt8(truncatingIfNeeded: random.rng.next())
            case 2:  // truncate
                bytes.removeSubrange(min(position, bytes.count)...)
            case 3:  // insert random bytes
                bytes.insert(contentsOf: random.bytes(1...8), at: position)
            case 4 where !bytes.isEmpty:  // delete a run
                bytes.removeSubrange(position..<min(bytes.count, position + random.int(1...16)))
            case 5 where !bytes.isEmpty:  // duplicate a run
                let run = bytes[position..<min(bytes.count, position + random.int(1...32))]
                bytes.insert(contentsOf: run, at: random.int(0...bytes.count))
            case 6 where !captures.isEmpty:  // splice: our head, another capture's tail
                let other = captures[random.int(0...(captures.count - 1))]
                bytes = Array(bytes[..<position]) + other[random.int(0...(other.count - 1))...]
            case 7:  // a digit changed, which moves length prefixes
                if let digit = bytes.indices.filter({ BencodeByte.isDigit(bytes[$0]) }).randomElement(using: &random.rng) {
                    bytes[digit] = BencodeByte.zero + UInt8(random.int(0...9))
                }
            default:  // insert a token
                bytes.insert(contentsOf: Self.tokens[random.int(0...(Self.tokens.count - 1))], at: position)
            }
        }
        return bytes
    }
}
