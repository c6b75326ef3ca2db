import KeywayCore
import KeywayCrypto

/// What the simulator knows about one node besides its DHT core: identity, addresses, life.
struct SimulatedNode {
    /// The node's permanent identity.
    let keyPair: Ed25519.KeyPair
    /// SHA-1 of its key: its routing ID and its record's target.
    let id: NodeID
    /// Whether it is one of the seeds (seeds never churn).
    let isSeed: Bool
    /// Its hostile behaviour (`nil`: an honest node, the production core untouched).
    let hostile: HostileBehaviour?
    /// Its current IPv4 endpoint; `nil` while offline.
    var endpoint: Endpoint?
    /// Its IPv6 endpoint when dual-stack.
    var secondaryEndpoint: Endpoint?
    /// Bumped at every restart, so events meant for an earlier life are ignored.
    var incarnation: UInt32 = 0
    /// The deadline of the timer event in the queue, if any.
    var armedTimer: Instant?
    /// Bumped whenever a new timer event supersedes the queued one.
    var timerGeneration: UInt32 = 0
    /// When its current core started (its join or last rejoin), for failure diagnoses.
    var startedAt: Instant?
    /// Bootstrapped in this life (may start resolves).
    var isReady = false
    /// `seq` of the newest record whose put completed (-1: none yet).
    var publishedSequence: Int64 = -1
    /// `seq` of the newest record it started to publish (-1: none yet).
    var latestSequence: Int64 = -1
    /// Contacts saved at a graceful leave, restored at rejoin.
    var savedContacts: [NodeContact] = []
    /// The move whose freshness is being measured, if any.
    var openMove: Int32?

    /// Whether the node is online.
    var isAlive: Bool { endpoint != nil }

    /// The endpoints it publishes.
    var publishedEndpoints: [Endpoint] {
        guard let endpoint else { return [] }
        return secondaryEndpoint.map { [endpoint, $0] } ?? [endpoint]
    }

    init(keyPair: Ed25519.KeyPair, isSeed: Bool, hostile: HostileBehaviour? = nil) {
        self.keyPair = keyPair
        self.id = NodeID(publicKey: keyPair.publicKey)
        self.isSeed = isSeed
        self.hostile = hostile
    }
}
