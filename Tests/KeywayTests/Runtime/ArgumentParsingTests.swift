import Keyway
import KeywayCore
import KeywayCrypto
import Testing

/// `HOST:PORT` and seed texts.
@Suite struct ArgumentParsingTests {
    @Test(arguments: [
        ("127.0.0.1:4000", "127.0.0.1:4000"), ("[::1]:53", "[::1]:53"), ("localhost:7", "127.0.0.1:7"),
        ("LOCALHOST:7", "127.0.0.1:7"), ("0.0.0.0:0", "0.0.0.0:0"), ("[::]:6881", "[::]:6881"),
    ])
    func listenAddressesParse(text: String, expected: String) throws {
        #expect(try EndpointArgument.parse(text, for: .listen) == Endpoint(expected))
    }

    @Test(arguments: ["", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "localhost", "localhost:x", "example.com:80",
                      "::1:53", "[::1]", "1.2.3:4", " 127.0.0.1:4", "127.0.0.1:04", "localhost:-1"])
    func malformedAddressesAreRefused(text: String) {
        #expect(throws: EndpointArgumentError.malformed(text)) { try EndpointArgument.parse(text, for: .listen) }
    }

    @Test func contactAddressesNeedAHostAndAPort() {
        #expect(throws: EndpointArgumentError.unspecifiedAddress("0.0.0.0:5")) { try EndpointArgument.parse("0.0.0.0:5", for: .contact) }
        #expect(throws: EndpointArgumentError.zeroPort("127.0.0.1:0")) { try EndpointArgument.parse("127.0.0.1:0", for: .contact) }
    }

    @Test func errorsAreOneLine() {
        let errors: [any Error & CustomStringConvertible] = [
            EndpointArgumentError.malformed("x"), EndpointArgumentError.zeroPort("x"),
            SeedArgumentError.key(seed: "k@1.2.3.4:5", .empty),
        ]
        for error in errors { #expect(!error.description.contains("\n")) }
    }

    @Test func seedsWithAKeyCarryItsID() throws {
        let key = Ed25519.KeyPair.generate().publicKey
        let seed = try SeedArgument.parse("\(key.zBase32)@127.0.0.1:6881")
        #expect(seed == DHTSeed(endpoint: Endpoint("127.0.0.1:6881")!, expectedID: NodeID(publicKey: key)))
        let prefixed = try SeedArgument.parse("pk:\(key.zBase32)@[::1]:6881")
        #expect(prefixed.expectedID == NodeID(publicKey: key))
        #expect(try SeedArgument.parse("localhost:1") == DHTSeed(endpoint: Endpoint("127.0.0.1:1")!))
    }

    @Test func badSeedsAreRefused() {
        #expect(throws: SeedArgumentError.self) { try SeedArgument.parse("nokey@127.0.0.1:1") }
        #expect(throws: SeedArgumentError.self) { try SeedArgument.parse("127.0.0.1:0") }
        #expect(throws: SeedArgumentError.self) { try SeedArgument.parse("seed.example:1") }
    }

    @Test func seedListsAreCommaSeparated() throws {
        let seeds = try SeedArgument.parseList(" 127.0.0.1:1, localhost:2,,[::1]:3 ")
        #expect(seeds.map(\.endpoint) == [Endpoint("127.0.0.1:1")!, Endpoint("127.0.0.1:2")!, Endpoint("[::1]:3")!])
        #expect(try SeedArgument.parseList("").isEmpty)
    }
}
