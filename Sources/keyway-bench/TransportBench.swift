import Keyway
import KeywayCore
import KeywayCrypto
import Logging
import Foundation

/// The transport's figures: libsodium's raw ChaCha20-Poly1305 on 1,400-byte packets, Noise IK
/// handshakes per second between two pure cores, one stream between two pure cores in memory,
/// and one stream between two real nodes on 127.0.0.1 (the ratio to raw AEAD is the figure).
enum TransportBench {
    static let packetSize = 1400

    /// Raw AEAD: in-place encryption of `packetSize`-byte packets, bytes per second.
    static func rawAEAD(seconds: Double = 1) -> Double {
        let key = SecureBytes([UInt8](repeating: 7, count: ChaChaPoly.keyLength))
        var packet = [UInt8](repeating: 1, count: packetSize + ChaChaPoly.tagLength)
        let clock = ContinuousClock()
        let start = clock.now
        var bytes = 0
        var counter: UInt64 = 0
        while (clock.now - start).secondsDouble < seconds {
            for _ in 0..<1000 {
                counter += 1
                try! ChaChaPoly.sealInPlace(&packet, plaintextLength: packetSize, key: key, nonce: ChaChaPoly.noiseNonce(counter))
                bytes += packetSize
            }
        }
        return Double(bytes) / (clock.now - start).secondsDouble
    }

    /// Two pure cores handing each other datagrams directly.
    struct Pair {
        var a: SessionManager
        var b: SessionManager
        let endpointA = Endpoint("10.0.0.1:1")!
        let endpointB = Endpoint("10.0.0.2:1")!
        var now = Instant.zero

        init(seed: UInt64, configuration: TransportConfiguration = TransportConfiguration()) {
            var rng = SeededRandom(seed: seed)
            a = SessionManager(identity: try! .init(seed: rng.bytes(count: 32)), configuration: configuration, seed: rng.next(), now: .zero)
            b = SessionManager(identity: try! .init(seed: rng.bytes(count: 32)), configuration: configuration, seed: rng.next(), now: .zero)
        }

        /// Delivers every queued datagram both ways until none is left; returns b's stream bytes.
        mutating func exchange() -> Int {
            var delivered = 0
            var moved = true
            while moved {
                moved = false
                while let datagram = a.pollTransmit() {
                    b.handleDatagram(datagram.payload, from: endpointA, now: now)
                    moved = true
                }
                while let datagram = b.pollTransmit() {
                    a.handleDatagram(datagram.payload, from: endpointB, now: now)
                    moved = true
                }
                while let event = b.pollEvent() { if case let .streamData(_, bytes) = event { delivered += bytes.count } }
                while a.pollEvent() != nil {}
            }
            return delivered
        }
    }

    /// What one side of the handshake costs, measured for each side on its own (as on two
    /// cores): handshakes per second for the initiator (initiation, then the response and the
    /// first data packet) and for the responder (reading the initiation and answering, then the
    /// confirming data packet). Each round is `batch` fresh initiators, made beforehand, dialling
    /// one responder; key generation and core set-up are outside the clock.
    static func handshakes(seconds: Double = 1, batch: Int = 200) -> (initiator: Double, responder: Double) {
        var configuration = TransportConfiguration()
        configuration.handshakesPerSecond = 1e9
        configuration.handshakeBurst = 1e9
        var rng = SeededRandom(seed: 7)
        let clock = ContinuousClock()
        var initiatorTime = Duration.zero, responderTime = Duration.zero
        var count = 0
        let endpointB = Endpoint("10.0.0.2:1")!
        while (initiatorTime + responderTime).secondsDouble < seconds {
            var b = SessionManager(identity: try! .init(seed: rng.bytes(count: 32)), configuration: configuration, seed: rng.next(), now: .zero)
            let key = b.identity.publicKey
            var initiators = (0..<batch).map { _ in
                SessionManager(identity: try! .init(seed: rng.bytes(count: 32)), configuration: configuration, seed: rng.next(), now: .zero)
            }
            let endpoints = (0..<batch).map { Endpoint(address: .v4(0x0a01_0000 | UInt32($0)), port: 1) }
            let indexOf = Dictionary(uniqueKeysWithValues: endpoints.enumerated().map { ($1, $0) })
            var toA: [[[UInt8]]] = Array(repeating: [], count: batch)
            func responderTakes(_ datagrams: [(Int, [UInt8])]) {
                let start = clock.now
                for (i, payload) in datagrams { b.handleDatagram(payload, from: endpoints[i], now: .zero) }
                while let datagram = b.pollTransmit() {
                    if let i = indexOf[datagram.endpoint] { toA[i].append(datagram.payload) }
                }
                responderTime += clock.now - start
            }
            // Initiations.
            var start = clock.now
            var sent: [(Int, [UInt8])] = []
            for i in 0..<batch {
                initiators[i].connect(to: key, at: [endpointB], now: .zero)
                let stream = initiators[i].openStream(to: key, now: .zero)
                initiators[i].write([1], to: stream, now: .zero)
                while let datagram = initiators[i].pollTransmit() { sent.append((i, datagram.payload)) }
            }
            initiatorTime += clock.now - start
            responderTakes(sent)
            // Responses, then the first data packets.
            start = clock.now
            sent = []
            for i in 0..<batch {
                for payload in toA[i] { initiators[i].handleDatagram(payload, from: endpointB, now: .zero) }
                toA[i] = []
                while let datagram = initiators[i].pollTransmit() { sent.append((i, datagram.payload)) }
            }
            initiatorTime += clock.now - start
            responderTakes(sent)
            precondition(initiators.allSatisfy { $0.isEstablished(with: key) }, "a handshake did not complete")
            count += batch
        }
        return (Double(count) / initiatorTime.secondsDouble, Double(count) / responderTime.secondsDouble)
    }

    /// X25519 Diffie-Hellman operations per second (libsodium `crypto_scalarmult`): a handshake
    /// needs four on each side, so this over 4 bounds the handshakes one core per side can do.
    static func x25519(seconds: Double = 0.5) -> Double {
        let pair = X25519.generateKeyPair()
        let clock = ContinuousClock()
        let start = clock.now
        var count = 0
        while (clock.now - start).secondsDouble < seconds {
            for _ in 0..<100 { _ = try! X25519.sharedSecret(secretKey: pair.secretKey, publicKey: pair.publicKey) }
            count += 100
        }
        return Double(count) / (clock.now - start).secondsDouble
    }

    /// One stream between two pure cores in memory (no sockets), bytes per second.
    static func coreStream(bytes total: Int = 64 << 20) -> Double {
        var pair = Pair(seed: 1)
        let peer = pair.b.identity.publicKey
        pair.a.connect(to: peer, at: [pair.endpointB], now: .zero)
        let stream = pair.a.openStream(to: peer, now: .zero)
        let block = [UInt8](repeating: 0x5a, count: 256 * 1024)
        let clock = ContinuousClock()
        let start = clock.now
        var written = 0
        var delivered = 0
        while delivered < total {
            pair.now = pair.now + .microseconds(100)
            if written < total { written += pair.a.write(block.prefix(total - written), to: stream, now: pair.now) }
            delivered += pair.exchange()
            pair.a.handleTimeout(now: pair.now)
            pair.b.handleTimeout(now: pair.now)
        }
        return Double(delivered) / (clock.now - start).secondsDouble
    }

    /// One stream between two real nodes on 127.0.0.1, bytes per second.
    static func loopbackStream(bytes total: Int = 256 << 20) async throws -> Double {
        func configuration() -> KeywayNodeConfiguration {
            var configuration = KeywayNodeConfiguration(keyPair: .generate())
            configuration.listen = Endpoint("127.0.0.1:0")!
            configuration.publishAutomatically = false
            if let size = ProcessInfo.processInfo.environment["KEYWAY_BENCH_MAX_DATAGRAM"].flatMap(Int.init) {
                configuration.transport.maximumProbedDatagramSize = size
            }
            configuration.logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
            return configuration
        }
        let receiver = try await KeywayNode.start(configuration())
        let sender = try await KeywayNode.start(configuration())
        let incoming = await receiver.incomingStreams()
        let stream = try await sender.connect(to: receiver.publicKey, at: [receiver.localEndpoint])
        let block = [UInt8](repeating: 0x5a, count: 256 * 1024)
        let clock = ContinuousClock()
        let start = clock.now
        async let sent: Void = {
            var written = 0
            while written < total {
                try await stream.write(block)
                written += block.count
            }
            try await stream.finish()
        }()
        var received = 0
        for await accepted in incoming {
            while let chunk = try await accepted.read(maximumCount: 1 << 20) { received += chunk.count }
            break
        }
        try await sent
        let elapsed = clock.now - start
        await sender.stop()
        await receiver.stop()
        return Double(received) / elapsed.secondsDouble
    }

    /// Prints every figure, or only the one named by `only` (`raw`, `handshakes`, `core`, `loopback`).
    static func run(only: String? = nil) async throws {
        print("transport: one stream vs libsodium ChaCha20-Poly1305 (1,400-byte packets)")
        func wanted(_ part: String) -> Bool { only == nil || only == part }
        // The ratios need the raw figure, so it is measured unless a single other part was asked for.
        let raw = only == nil || only == "raw" ? rawAEAD() : nil
        if let raw { print("  raw ChaCha20-Poly1305 encrypt       \(gbit(raw)) Gbit/s  (\(Int(raw / 1e6)) MB/s)") }
        if wanted("handshakes") {
            let bound = x25519() / 4
            let hs = handshakes()
            let perCore = min(hs.initiator, hs.responder)
            print("  X25519 bound (4 DH a side)          \(Int(bound)) handshakes/s per core")
            print("  Noise IK handshakes, a core a side  \(Int(perCore))/s  (initiator \(Int(hs.initiator))/s, responder \(Int(hs.responder))/s; \(percent(perCore / bound)) of the bound)")
        }
        if wanted("core") {
            let core = coreStream()
            print("  one stream, two cores in memory     \(gbit(core)) Gbit/s\(ratio(core, raw))")
        }
        if wanted("loopback") {
            let loopback = try await loopbackStream()
            print("  one stream, two nodes on loopback   \(gbit(loopback)) Gbit/s\(ratio(loopback, raw))")
        }
    }

    static func ratio(_ value: Double, _ raw: Double?) -> String {
        guard let raw else { return "" }
        return "  (\(percent(value / raw)) of raw AEAD)"
    }

    static func gbit(_ bytesPerSecond: Double) -> String {
        let value = (bytesPerSecond * 8 / 1e9 * 1000).rounded() / 1000
        return "\(value)"
    }

    static func percent(_ ratio: Double) -> String { "\((ratio * 1000).rounded() / 10) %" }
}

