import Testing
@testable import KeywayCore

@Suite struct NodeIDTests {
    @Test func bytesRoundTripAndDistance() {
        let bytes: [UInt8] = (0..<20).map { UInt8($0 * 13 & 0xff) }
        let id = NodeID(bytes: bytes)!
        #expect(id.bytes == bytes)
        #expect(NodeID(bytes: bytes.dropLast()) == nil)
        #expect(id.distance(to: id) == NodeID(high: 0, middle: 0, low: 0))
        #expect(id.commonPrefixLength(with: id) == 160)
        for bit in [0, 5, 63, 64, 100, 127, 128, 159] {
            let other = id.flippingBit(bit)
            #expect(id.commonPrefixLength(with: other) == bit)
            #expect(other.bit(bit) != id.bit(bit))
        }
    }

    @Test func hexRoundTrip() {
        let id = NodeID(bytes: [UInt8](repeating: 0xab, count: 20))!
        #expect(id.description == String(repeating: "ab", count: 20))
        #expect([UInt8](hex: id.description) == id.bytes)
        #expect([UInt8](hex: "abc") == nil)
        #expect([UInt8](hex: "zz") == nil)
    }

    @Test func seededRandomIsReproducible() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let xs = (0..<4).map { _ in a.next() }
        #expect(xs == (0..<4).map { _ in b.next() })
        #expect(xs != (0..<4).map { _ in c.next() })
    }

    @Test func instantArithmetic() {
        let t = Instant(nanoseconds: 5_000_000_000)
        #expect(t + .seconds(2) == Instant(nanoseconds: 7_000_000_000))
        #expect(t - .seconds(6) == .zero)
        #expect((t + .milliseconds(1500)) - t == .milliseconds(1500))
        #expect(t - (t + .seconds(1)) == .seconds(-1))
    }
}
