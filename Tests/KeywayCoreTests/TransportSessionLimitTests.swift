import Testing
import KeywayCrypto
@testable import KeywayCore

/// Sessions from throw-away keys (issue 12, attack 4): bounded in all, per source prefix and
/// while unconfirmed, with least-recently-used eviction; and timers that visit only the peers
/// that are due, however many sessions there are.
@Suite(.timeLimit(.minutes(1))) struct TransportSessionLimitTests {
    let victimEndpoint = TransportFixtures.endpoint(2)
    var victimKey: Ed25519.PublicKey { TransportFixtures.identity(1).publicKey }

    /// A victim that does Diffie-Hellman for every initiation (no cookies), with small limits.
    func victim(sessions: Int = 200, perPrefix: Int = 32, unconfirmed: Int = 16) -> SessionManager {
        var configuration = TransportFixtures.roomy
        configuration.handshakesPerSecond = 1e9
        configuration.handshakeBurst = 1e9
        configuration.maximumSessions = sessions
        configuration.maximumSessionsPerPrefix = perPrefix
        configuration.maximumUnconfirmedSessions = unconfirmed
        return SessionManager(identity: TransportFixtures.identity(1), configuration: configuration, seed: 2, now: .zero)
    }

    /// `10.<n / 256 % 256>.<n % 256>.7`: a different /24 for each `n` below 65,536.
    func spreadSource(_ n: Int) -> Endpoint {
        Endpoint(address: .v4(0x0a00_0007 | UInt32(n & 0xffff) << 8), port: 5000)
    }

    /// A throw-away key `number` handshakes with `victim` from `source`; with `confirm`, its
    /// first data packet confirms the keys, and with `stream` it opens a stream too. Returns
    /// the attacker's core.
    @discardableResult
    func handshake(
        _ victim: inout SessionManager, key number: Int, from source: Endpoint, now: Instant,
        confirm: Bool = true, stream: Bool = false
    ) -> SessionManager {
        var attacker = SessionManager(identity: TransportFixtures.identity(number), seed: UInt64(number), now: now)
        attacker.connect(to: victimKey, at: [victimEndpoint], now: now)
        while let datagram = attacker.pollTransmit() { victim.handleDatagram(datagram.payload, from: source, now: now) }
        while confirm, let datagram = victim.pollTransmit() {
            if datagram.endpoint == source { attacker.handleDatagram(datagram.payload, from: victimEndpoint, now: now) }
        }
        if stream {
            let id = attacker.openStream(to: victimKey, now: now)
            attacker.write([1, 2, 3], to: id, now: now)
        }
        while confirm, let datagram = attacker.pollTransmit() {
            victim.handleDatagram(datagram.payload, from: source, now: now)
        }
        while victim.pollTransmit() != nil {}
        while victim.pollEvent() != nil {}
        return attacker
    }

    /// Issue 12, attack 4: 1,111 sessions from throw-away keys at one address (each from
    /// another port) used to stay, 1,111 of them. Now one /24 holds at most its limit, and each
    /// newcomer gets in by evicting the least recently active.
    @Test func throwAwayKeysFromOneAddressAreBoundedByItsPrefix() {
        var victim = victim()
        var now = Instant.zero
        for n in 0..<1111 {
            now = now + .milliseconds(1)
            handshake(&victim, key: 1000 + n, from: Endpoint(address: .v4(0xc633_6407), port: UInt16(1024 + n)), now: now)
        }
        #expect(victim.peerCount <= 32)
        #expect(victim.isEstablished(with: TransportFixtures.identity(1000 + 1110).publicKey))
        #expect(!victim.isEstablished(with: TransportFixtures.identity(1000).publicKey))
        #expect(victim.statistics.sessionsEvicted >= 1111 - 32)
        #expect(victim.statistics.droppedSessionLimit == 0)
        // Another network still gets in.
        handshake(&victim, key: 9, from: spreadSource(9), now: now)
        #expect(victim.isEstablished(with: TransportFixtures.identity(9).publicKey))
    }

    /// A mesh on one host's loopback (every node at 127.0.0.1, one port each) or one LAN /24
    /// is not one attacker: with the local-network exemption (the default) all its sessions
    /// stay; without it they are bounded as one prefix, like a public /24.
    @Test(arguments: [true, false])
    func localNetworkSourcesAreExemptFromThePrefixLimit(exempt: Bool) {
        var victim = victim(sessions: 400, perPrefix: 32, unconfirmed: 400)
        var configuration = victim.configuration
        configuration.sessionPrefixLimitExemptLocalNetworks = exempt
        victim = SessionManager(identity: TransportFixtures.identity(1), configuration: configuration, seed: 2, now: .zero)
        let sources = (0..<150).map { Endpoint(address: .v4(0x7f00_0001), port: UInt16(20_000 + $0)) }
            + (0..<150).map { Endpoint(address: .v4(0xc0a8_0100 | UInt32($0 + 1)), port: 7000) }   // 192.168.1.x
        for (n, source) in sources.enumerated() {
            handshake(&victim, key: 7000 + n, from: source, now: .zero + .milliseconds(Int64(n)))
        }
        if exempt {
            #expect(victim.peerCount == 300)
            #expect(victim.statistics.sessionsEvicted == 0)
            #expect((0..<300).allSatisfy { victim.isEstablished(with: TransportFixtures.identity(7000 + $0).publicKey) })
        } else {
            #expect(victim.peerCount <= 64)
            #expect(victim.statistics.sessionsEvicted >= 300 - 64)
        }
        // The total still bounds them: a public source beyond it evicts the oldest idle one.
        var crowded = victim
        for n in 0..<150 {
            let source = Endpoint(address: .v4(0xc633_0007 | UInt32(n) << 8), port: 5000)   // 198.51.n.7
            handshake(&crowded, key: 9000 + n, from: source, now: .seconds(1) + .milliseconds(Int64(n)))
        }
        #expect(crowded.peerCount <= 400)
    }

    /// Unconfirmed handshakes (keys that never send a data packet) from many networks are
    /// bounded; the newest are kept.
    @Test func pendingHandshakesAreBounded() {
        var victim = victim()
        for n in 0..<150 {
            handshake(&victim, key: 2000 + n, from: spreadSource(n), now: .zero + .milliseconds(Int64(n)), confirm: false)
        }
        let unconfirmed = victim.peers.compactMap { $0 }.filter { !$0.established }.count
        #expect(unconfirmed <= 16)
        #expect(victim.slots[TransportFixtures.identity(2149).publicKey] != nil)
    }

    /// The whole table is bounded; sessions this node dialled and sessions carrying streams are
    /// never evicted to make room.
    @Test func theSessionTableIsBoundedAndKeepsWhatIsInUse() {
        var victim = victim(sessions: 64, perPrefix: 64, unconfirmed: 64)
        let dialled = TransportFixtures.identity(7).publicKey
        victim.connect(to: dialled, at: [TransportFixtures.endpoint(7)], now: .zero)
        var busy = handshake(&victim, key: 8, from: spreadSource(60_000), now: .zero, stream: true)
        _ = busy.pollTransmit()
        for n in 0..<300 {
            handshake(&victim, key: 3000 + n, from: spreadSource(n), now: .zero + .milliseconds(Int64(n + 1)))
        }
        #expect(victim.peerCount <= 64)
        #expect(victim.slots[dialled] != nil)
        #expect(victim.isEstablished(with: TransportFixtures.identity(8).publicKey))
        #expect(victim.isEstablished(with: TransportFixtures.identity(3299).publicKey))
    }

    /// A timeout visits only the peers whose deadline passed, and a data packet only its own
    /// peer: the work per event does not grow with idle sessions (it was a scan of every peer).
    @Test func timersVisitOnlyDuePeers() {
        var victim = victim(sessions: 4096, perPrefix: 4096, unconfirmed: 4096)
        for n in 0..<300 {
            handshake(&victim, key: 5000 + n, from: spreadSource(n), now: .zero)
        }
        #expect(victim.peerCount == 300)
        // One more session, later: its timers are the only ones due at first.
        var late = handshake(&victim, key: 4999, from: spreadSource(2000), now: .seconds(1))
        let due = victim.nextTimeout()
        #expect(due != nil)
        let before = victim.timerEvaluations
        victim.handleTimeout(now: .seconds(1))
        #expect(victim.timerEvaluations - before <= 4)
        // A keepalive from one peer evaluates that peer's timers only.
        let ping = late.craftedDataPacket(to: victimKey, frames: [.ping])
        let beforePing = victim.timerEvaluations
        victim.handleDatagram(ping, from: spreadSource(2000), now: .seconds(1))
        #expect(victim.timerEvaluations - beforePing <= 4)
        // The heap agrees with a scan of every peer, event after event.
        var now = Instant.seconds(1)
        for _ in 0..<200 {
            let scanned = victim.peers.compactMap { $0 }.flatMap { victim.timers(of: $0).map(\.1) }.min()
            #expect(victim.nextTimeout() == scanned)
            guard let next = victim.nextTimeout() else { break }
            now = max(now, next)
            victim.handleTimeout(now: now)
            while victim.pollTransmit() != nil {}
            while victim.pollEvent() != nil {}
        }
        #expect(victim.deadlines.count <= 2 * victim.peerCount + 64)
    }
}
