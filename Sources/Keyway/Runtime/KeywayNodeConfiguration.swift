import KeywayCore
import KeywayCrypto
import Logging
import NIOCore

/// Everything a ``KeywayNode`` needs to start, and every limit of the runtime, each named with
/// the reason for its default. The DHT's own limits are in ``dht``.
public struct KeywayNodeConfiguration: Sendable {
    /// The node's permanent identity (see ``IdentityStore``).
    public var keyPair: Ed25519.KeyPair
    /// Where to bind the one UDP socket. `[::]` (the default) with ``dualStack`` serves IPv4 and
    /// IPv6 on one socket; port 0 picks a free port (read it back from ``KeywayNode/localEndpoint``).
    public var listen = KeywayNodeConfiguration.defaultListen
    /// With ``listen`` at `[::]`: also serve IPv4 on the same socket (`IPV6_V6ONLY` off). When
    /// the host has no IPv6 at all, the node falls back to `0.0.0.0`.
    public var dualStack = true
    /// First contacts. None: the node is a seed itself (or rejoins through ``contactsFile``).
    public var seeds: [DHTSeed] = []
    /// Endpoints to publish in addition to the ones the node finds itself (a port forward, a
    /// public address), most preferred first.
    public var announce: [Endpoint] = []
    /// Where the routing table is saved on stop (and every ``contactsSaveInterval``) and loaded
    /// on start; `nil` keeps no state on disk.
    public var contactsFile: String?
    /// Contacts loaded from ``contactsFile`` at most. A full routing table of 160 buckets of 8 is
    /// 1280; more would only be dead weight.
    public var maximumSavedContacts = 2048
    /// How often the routing table is also saved while running, so a crash loses little;
    /// `nil`: only on stop.
    public var contactsSaveInterval: Duration? = .seconds(5 * 60)
    /// Publish this node's endpoint record by itself: at start, when bootstrapped, and whenever
    /// the set of reachable endpoints changes. Off: only ``KeywayNode/publish()`` publishes.
    public var publishAutomatically = true
    /// How often a node bound to a wildcard address looks at its interfaces again, so a new
    /// address (a DHCP renewal, a moved container) is published within this time.
    public var interfaceScanInterval: Duration = .seconds(30)
    /// How often the node checks that its record is stored on as many nodes as it could be
    /// (the replication factor, or all it knows when it knows fewer) and re-puts it when not:
    /// a seed that published alone gets its record onto the nodes that joined since.
    public var replicationCheckInterval: Duration = .seconds(10)
    /// Longest KRPC datagram received; KRPC messages stay under 1500 bytes (BEP 44 values are
    /// at most 1000). Transport datagrams may be longer, up to
    /// ``TransportConfiguration/maximumProbedDatagramSize``; each read slot holds the larger.
    public var maximumDatagramSize = 2048
    /// Datagrams read with one system call (`recvmmsg` on Linux; one at a time elsewhere). A
    /// busy node then pays one system call per batch instead of one per datagram; the receive
    /// buffer holds this many slots of ``maximumDatagramSize`` (16 × 2 KiB = 32 KiB), grown to
    /// ``TransportConfiguration/maximumProbedDatagramSize`` (16 × 16 KiB) at the first
    /// transport packet.
    public var datagramsPerRead = 16
    /// The socket's receive and send buffer sizes asked of the kernel (`SO_RCVBUF`,
    /// `SO_SNDBUF`), which caps them at `net.core.rmem_max` and `wmem_max`; `nil` keeps the
    /// system default (about 208 KiB on Linux). 4 MiB holds a stream's congestion window of
    /// large datagrams: on loopback one stream ran at 1.0 Gbit/s with the default and 2.4 with
    /// this. It is kernel memory, spent only while datagrams wait, so idle RSS does not grow.
    public var socketBufferSize: Int? = 4 << 20
    /// Reads (each of up to ``datagramsPerRead`` datagrams) per wake-up of the event loop before
    /// the answers are flushed and other work gets a turn: 4 × 16 = at most 64 datagrams.
    public var readsPerWakeUp = 4
    /// Events buffered for each ``KeywayNode/events()`` consumer that falls behind; the oldest
    /// are dropped beyond this.
    public var eventBufferSize = 256
    /// Limits of endpoint records, published and resolved.
    public var recordLimits = EndpointRecordLimits()
    /// The DHT core's limits and timers (republish interval, query timeout, ...).
    public var dht = DHTConfiguration()
    /// The transport's limits and admission: which keys may open sessions
    /// (``TransportConfiguration/peerPolicy``), the mesh secret
    /// (``TransportConfiguration/presharedKey``), windows and timers. The runtime always runs
    /// it with ``TransportConfiguration/creditOnDelivery`` off: credit returns to the peer as
    /// ``KeywayStream/read(maximumCount:)`` takes the bytes.
    public var transport = TransportConfiguration()
    /// Incoming streams buffered for ``KeywayNode/incomingStreams()`` before its consumer takes
    /// them; more are refused (reset), so a peer cannot pile up streams nobody reads.
    public var incomingStreamBacklog = 64
    /// On ``KeywayNode/stop()``, the node keeps its socket open until every stream it sent has
    /// been acknowledged and its peers have sent nothing for this long, so a peer whose
    /// acknowledgement of a stream's end was lost gets it again (TCP's TIME-WAIT, in the process).
    /// A node with no session stops at once.
    public var stopQuietPeriod: Duration = .milliseconds(250)
    /// The longest ``KeywayNode/stop()`` lingers for ``stopQuietPeriod``; streams still open
    /// then are reset, telling their peers, so neither side waits for the other any longer.
    public var stopLingerLimit: Duration = .seconds(2)
    /// How long after its socket closed under it the node binds the same endpoint again.
    /// SwiftNIO closes a datagram channel on a send error it does not count as recoverable, such
    /// as `ENETUNREACH` while the host has no address (a laptop between networks, a pod whose
    /// interface is being replaced); the node then opens its socket again and carries on, its
    /// sessions and table intact. Doubled for each close that follows a reopen within
    /// ``socketReopenMaximumDelay``, up to it.
    public var socketReopenDelay: Duration = .milliseconds(250)
    /// The longest wait between two attempts to open the socket again.
    public var socketReopenMaximumDelay: Duration = .seconds(8)
    /// How long ``KeywayNode/connect(to:at:timeout:)`` waits before it looks a key up again
    /// when the DHT held no endpoint record of it (the peer may publish a moment later);
    /// doubled after each look, up to ``connectLookupRetryLimit``, within the connect's
    /// timeout. `.zero`: one look only.
    public var connectLookupRetryInterval: Duration = .milliseconds(100)
    /// The longest wait between two looks of a connect for a key with no record yet.
    public var connectLookupRetryLimit: Duration = .seconds(1)
    /// Where the node's socket and timers run; `nil`: NIO's shared singleton group.
    public var eventLoopGroup: (any EventLoopGroup)?
    /// Where the node logs; every message carries the node's key as `node` metadata.
    public var logger = Logger(label: "keyway")

    /// `[::]:0`: every address, both families, any free port.
    public static let defaultListen = Endpoint(address: .v6(high: 0, low: 0), port: 0)

    /// A configuration for `keyPair` with every default.
    public init(keyPair: Ed25519.KeyPair) {
        self.keyPair = keyPair
    }

    /// ``transport`` as the runtime runs it (credit returned on read).
    var runtimeTransport: TransportConfiguration {
        var transport = transport
        transport.creditOnDelivery = false
        return transport
    }
}
