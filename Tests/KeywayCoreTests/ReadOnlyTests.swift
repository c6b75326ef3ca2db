import KeywayCrypto
import Testing
@testable import KeywayCore

/// BEP 43: a read-only node marks its queries `ro: 1` and is not added to anyone's table.
@Suite struct ReadOnlyTests {
    @Test func aReadOnlyNodeIsNeverAddedToRoutingTables() {
        var network = InMemoryNetwork()
        for n in 0..<6 { network.addNode(number: n) }
        var readOnly = InMemoryNetwork.fastConfiguration
        readOnly.readOnly = true
        let client = network.addNode(number: 6, configuration: readOnly)
        let seed = DHTSeed(endpoint: network.endpoints[0])
        for n in 1..<6 { network.with(n) { node, now in node.bootstrap(seeds: [seed], now: now) } }
        network.run(for: .seconds(5))
        network.with(client) { node, now in node.bootstrap(seeds: [seed], now: now) }
        network.run(for: .seconds(5))

        #expect(network.nodes[client].isBootstrapped)
        #expect(network.nodes[client].routingTable.count >= 5)
        let clientID = network.nodes[client].id
        for n in 0..<6 {
            #expect(network.nodes[n].routingTable.contact(for: clientID) == nil, "node \(n) added the read-only client")
        }
    }

    @Test func queriesCarryTheFlagOnlyWhenReadOnly() throws {
        var configuration = DHTConfiguration()
        let keyPair = Ed25519.KeyPair.generate()
        let seed = DHTSeed(endpoint: Endpoint("127.0.0.1:1")!)
        var normal = DHTNode(keyPair: keyPair, configuration: configuration, seed: 1, now: .zero)
        normal.bootstrap(seeds: [seed], now: .zero)
        let plain = normal.pollTransmit()
        let plainMessage = try KRPCMessage.decode(try #require(plain).payload)
        #expect(plainMessage.readOnly == false)
        configuration.readOnly = true
        var client = DHTNode(keyPair: keyPair, configuration: configuration, seed: 1, now: .zero)
        client.bootstrap(seeds: [seed], now: .zero)
        let marked = client.pollTransmit()
        let markedMessage = try KRPCMessage.decode(try #require(marked).payload)
        #expect(markedMessage.readOnly == true)
    }
}
