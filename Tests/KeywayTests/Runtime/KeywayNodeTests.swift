import Foundation
import Keyway
import KeywayCore
import KeywayCrypto
import Testing

/// Real nodes with real UDP sockets on 127.0.0.1, in this process.
@Suite(.timeLimit(.minutes(1)))
struct KeywayNodeTests {
    typealias Support = RuntimeTestSupport

    @Test func aSmallMeshBootstrapsPublishesAndResolves() async throws {
        try await NodeBag.with { bag in
            let seed = try await bag.start(Support.configuration())
            var nodes = [seed]
            for _ in 0..<4 { nodes.append(try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))) }
            for node in nodes { #expect(try await node.waitUntilBootstrapped(timeout: Support.deadline)) }
            for node in nodes {
                let published = try await node.publish()
                #expect(published.record.endpoints == [node.localEndpoint])
                #expect(published.storedOn >= 1)
            }
            for (index, node) in nodes.enumerated() {
                let target = nodes[(index + 2) % nodes.count]
                let record = try #require(try await node.resolve(target.publicKey, timeout: Support.deadline))
                #expect(record.publicKey == target.publicKey)
                #expect(record.endpoints == [target.localEndpoint])
            }
        }
    }

    @Test func aLateSubscriberLearnsTheNodeHasJoined() async throws {
        try await NodeBag.with { bag in
            let seed = try await bag.start(Support.configuration())
            let node = try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))
            #expect(try await node.waitUntilBootstrapped(timeout: Support.deadline))
            // `keyway run` subscribes after start; a quick join must not be lost (its
            // `bootstrapped:` line was, sometimes).
            let events = await node.events()
            let event = try await Support.firstEvent(in: events) { if case .bootstrapped = $0 { true } else { false } }
            #expect(event == .bootstrapped(contacts: 1))
        }
    }

    @Test func aKeyNobodyPublishedResolvesToNil() async throws {
        try await NodeBag.with { bag in
            let seed = try await bag.start(Support.configuration())
            let node = try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))
            let clock = ContinuousClock()
            let started = clock.now
            #expect(try await node.resolve(Ed25519.KeyPair.generate().publicKey, timeout: Support.deadline) == nil)
            // The lookup ends when it has asked everyone, long before the timeout.
            #expect(clock.now - started < Support.deadline)
        }
    }

    @Test func aRestartedNodeRejoinsWithoutSeedsAndIsResolvedAtItsNewPort() async throws {
        try await Support.withTemporaryDirectory { directory in
            try await NodeBag.with { bag in
                let seed = try await bag.start(Support.configuration())
                var others = [KeywayNode]()
                for _ in 0..<3 { others.append(try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))) }
                let keyPair = Ed25519.KeyPair.generate()
                let contactsFile = directory + "/moving.contacts"
                let first = try await bag.start(Support.configuration(keyPair: keyPair, seeds: [Support.seed(of: seed)], contactsFile: contactsFile))
                #expect(try await first.waitUntilBootstrapped(timeout: Support.deadline))
                let old = try await first.publish()
                await first.stop()

                // Saved atomically with mode 0600, and nothing else left in the directory.
                let saved = try ContactsFile.load(at: contactsFile, limit: 100)
                #expect(saved.contacts.count >= 3)
                let attributes = try FileManager.default.attributesOfItem(atPath: contactsFile)
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
                #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["moving.contacts"])

                // Same key, new port, no seeds: it rejoins through the saved table and publishes by itself.
                let second = try await bag.start(Support.configuration(keyPair: keyPair, contactsFile: contactsFile, publishAutomatically: true))
                #expect(second.localEndpoint != first.localEndpoint)
                let events = await second.events()
                let published = try await Support.firstEvent(in: events) { event in
                    if case let .published(record, _) = event { return record.endpoints == [second.localEndpoint] }
                    return false
                }
                guard case let .published(record, storedOn) = published else { return }
                #expect(record.timestampMicroseconds > old.record.timestampMicroseconds)
                #expect(storedOn >= 2)
                let resolved = try #require(try await others[1].resolve(keyPair.publicKey, timeout: Support.deadline))
                #expect(resolved.endpoints == [second.localEndpoint])
                #expect(resolved.timestampMicroseconds == record.timestampMicroseconds)
            }
        }
    }

    @Test func aLoneSeedGetsItsRecordOntoNodesThatJoinLater() async throws {
        try await NodeBag.with { bag in
            var configuration = Support.configuration(publishAutomatically: true)
            configuration.replicationCheckInterval = .milliseconds(100)
            let seed = try await bag.start(configuration)
            let events = await seed.events()
            let joiner = try await bag.start(Support.configuration(seeds: [Support.seed(of: seed)]))
            #expect(try await joiner.waitUntilBootstrapped(timeout: Support.deadline))
            // The seed published alone (stored on itself); once it knows the joiner it puts again.
            _ = try await Support.firstEvent(in: events) { event in
                if case let .published(_, storedOn) = event { return storedOn >= 2 }
                return false
            }
        }
    }

    @Test func aPortInUseIsRefused() async throws {
        try await NodeBag.with { bag in
            let first = try await bag.start(Support.configuration())
            var configuration = Support.configuration()
            configuration.listen = first.localEndpoint
            await #expect(throws: KeywayNodeError.addressInUse(first.localEndpoint)) {
                _ = try await bag.start(configuration)
            }
        }
    }

    @Test func unreachableSeedsAreRetriedAndReported() async throws {
        try await NodeBag.with { bag in
            // A port that was free a moment ago: nothing answers there.
            let closed = try await bag.start(Support.configuration())
            let deadSeed = DHTSeed(endpoint: closed.localEndpoint)
            await closed.stop()
            var configuration = Support.configuration(seeds: [deadSeed])
            configuration.dht.queryTimeout = .milliseconds(200)
            configuration.dht.bootstrapRetryInitialDelay = .milliseconds(100)
            let node = try await bag.start(configuration)
            let events = await node.events()
            let event = try await Support.firstEvent(in: events) { event in
                if case let .seedsUnreachable(attempt, _) = event { return attempt >= 2 }
                return false
            }
            guard case let .seedsUnreachable(attempt, retryIn) = event else { return }
            #expect(attempt >= 2)
            #expect(retryIn > .zero)
            #expect(try await node.resolve(Ed25519.KeyPair.generate().publicKey, timeout: .milliseconds(300)) == nil)
        }
    }

    @Test func aSeedWithAnotherKeyIsRefused() async throws {
        try await NodeBag.with { bag in
            let seed = try await bag.start(Support.configuration())
            let wrong = DHTSeed(endpoint: seed.localEndpoint, expectedID: NodeID(publicKey: Ed25519.KeyPair.generate().publicKey))
            let node = try await bag.start(Support.configuration(seeds: [wrong]))
            let events = await node.events()
            let event = try await Support.firstEvent(in: events) { event in
                if case .seedKeyMismatch = event { return true }
                return false
            }
            #expect(event == .seedKeyMismatch(seed.localEndpoint))
            #expect(try await node.contacts().isEmpty)
        }
    }

    @Test func stopIsIdempotentAndEndsEverything() async throws {
        let node = try await KeywayNode.start(Support.configuration(seeds: [DHTSeed(endpoint: Endpoint("127.0.0.1:9")!)]))
        let events = await node.events()
        let pending = Task { try await node.resolve(Ed25519.KeyPair.generate().publicKey, timeout: .seconds(30)) }
        await node.stop()
        await node.stop()
        await #expect(throws: KeywayNodeError.stopped) { _ = try await pending.value }
        await #expect(throws: KeywayNodeError.stopped) { _ = try await node.publish() }
        for await _ in events {}  // the stream has ended
    }
}
