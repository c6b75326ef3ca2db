import ArgumentParser
import KeywayCore

/// `keyway id`: prints the node's key, creating the identity on first use.
struct IdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "Print this node's key (52 characters of z-base-32), creating the identity on first use.")

    @OptionGroup var identity: IdentityOptions

    func run() throws {
        let (_, keyPair) = try identity.loadOrCreate()
        Console.out(keyPair.publicKey.zBase32)
    }
}
