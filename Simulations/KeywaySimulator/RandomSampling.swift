import Foundation
import KeywayCore

/// Uniform and continuous draws on top of the core's ``SeededRandom`` (the only randomness).
extension SeededRandom {
    /// A uniform double in [0, 1), from the top 53 bits.
    @inline(__always)
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform double in (0, 1]: safe to take the logarithm of.
    @inline(__always)
    public mutating func openUnit() -> Double { 1 - unit() }

    /// `true` with probability `p` (never for `p <= 0`, always for `p >= 1`).
    @inline(__always)
    public mutating func chance(_ p: Double) -> Bool { p > 0 && unit() < p }

    /// A uniform integer in `0..<bound` (`bound` > 0).
    @inline(__always)
    public mutating func index(below bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = openUnit(), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
