import KeywayCrypto
@testable import KeywayCore

/// The virtual network with DHT cores on it: what the DHT's own tests drive.
typealias InMemoryNetwork = VirtualNetwork<DHTNode>

extension VirtualNetwork where Core == DHTNode {
    /// Adds a DHT core with a key derived from `number` at `10.a.b.c:6881`, where `a.b.c` are
    /// the low, middle and high bytes of `number + 1`: unique, and each of the first 65,535
    /// nodes in a /24 of its own, as on the internet (the DHT's per-source limits work per /24).
    /// Returns its index.
    @discardableResult
    mutating func addNode(number: Int, configuration: DHTConfiguration = InMemoryNetwork.fastConfiguration) -> Int {
        var seed = [UInt8](repeating: 0, count: 32)
        for i in 0..<8 { seed[i] = UInt8(truncatingIfNeeded: number >> (8 * i)) }
        seed[31] = 0x5a
        let keyPair = try! Ed25519.KeyPair(seed: seed)
        let host = UInt32(truncatingIfNeeded: number + 1) & 0xff_ffff
        let spread = (host & 0xff) << 16 | (host & 0xff00) | host >> 16
        let endpoint = Endpoint(address: .v4(0x0a00_0000 | spread), port: 6881)
        return add(DHTNode(keyPair: keyPair, configuration: configuration, seed: UInt64(number) &* 7919 &+ 1, now: now), at: endpoint)
    }

    /// Shorter timeouts than production, so tests cover many rounds quickly (virtual time anyway).
    static var fastConfiguration: DHTConfiguration {
        var configuration = DHTConfiguration()
        configuration.queryTimeout = .milliseconds(500)
        return configuration
    }
}
