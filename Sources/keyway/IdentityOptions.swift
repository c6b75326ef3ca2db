import ArgumentParser
import Keyway
import KeywayCrypto

/// Where a node keeps its identity and its state, shared by `id` and `run`.
struct IdentityOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The identity file (created on first use).",
        discussion: "Default: <state-dir>/identity with --state-dir, else $XDG_DATA_HOME/keyway/identity or ~/.local/share/keyway/identity.",
        valueName: "file"))
    var identity: String?

    @Option(name: .long, help: ArgumentHelp(
        "A directory for this node's identity and saved routing table (isolates one node from another).",
        valueName: "dir"))
    var stateDir: String?

    /// The identity file's path.
    func identityPath() throws -> String {
        if let identity { return identity }
        if let stateDir { return stateDir + (stateDir.hasSuffix("/") ? "" : "/") + IdentityLocation.fileName }
        do {
            return try IdentityLocation.resolve()
        } catch {
            throw CommandFailure.error("\(error)")
        }
    }

    /// The key pair at ``identityPath()``, created there on first use.
    func loadOrCreate() throws -> (path: String, keyPair: Ed25519.KeyPair) {
        let path = try identityPath()
        do {
            return (path, try IdentityStore.loadOrCreate(at: path))
        } catch {
            throw CommandFailure.error("\(error)")
        }
    }
}
