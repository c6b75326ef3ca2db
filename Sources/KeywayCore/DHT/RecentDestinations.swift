/// Where this node sent datagrams recently, so that a packet arriving from elsewhere can be told
/// apart as *unsolicited*: one no NAT or firewall mapping of ours let in.
///
/// A NAT or stateful firewall admits a packet from outside when the host inside sent to that
/// address (address-dependent filtering) or that address and port (RFC 4787 §5) within the
/// mapping's lifetime. So a query from a source this node has not sent to within
/// ``DHTConfiguration/reachabilityEvidenceWindow`` got in unsolicited, which is evidence that
/// anyone can reach the node where its NAT maps it.
///
/// Definitions: a *destination* is the address sent to, cut to
/// ``DHTConfiguration/recentDestinationIPv4PrefixLength`` (a /32: NAT filters are per address)
/// or ``DHTConfiguration/recentDestinationIPv6PrefixLength`` (a /64) with ``AddressPrefix``,
/// never the port. Destinations on a local network (``IPAddress/isLocalNetwork``) are kept per
/// endpoint when ``DHTConfiguration/recentDestinationsExemptLocalNetworks`` is on, so nodes on
/// one host's loopback or one LAN (which all share an address or a /24) still tell each other
/// apart, as the routing and vote limits exempt them.
///
/// The table is two generations of at most ``DHTConfiguration/recentDestinationLimit``
/// destinations each: the current one fills; it becomes the previous one (and the previous one
/// is forgotten) when the window has passed since it began or when it is full. A destination is
/// recent when either holds it, so everything sent to within the window is remembered unless
/// more than that many distinct destinations were sent to since (O(1) per datagram, bounded
/// memory). Forgetting early can only make a solicited query look unsolicited; that gives an
/// attacker nothing, since it can always send a genuinely unsolicited query itself, whereas
/// refusing all evidence while the table is full would let anyone who makes us answer many
/// sources keep the observed endpoint from ever being published.
///
/// The generations hold a 64-bit fingerprint of each destination (``fingerprint(of:)``), not
/// the destination itself: 8 bytes a slot instead of 24, which made this table the largest
/// per-node cost in the simulator. Two destinations with one fingerprint make a send to one
/// count for the other, which, like forgetting, can only make an unsolicited query look
/// solicited (no evidence), never the reverse; the fold is exact for IPv4 and mixes every bit
/// for IPv6, so among the at most twice ``DHTConfiguration/recentDestinationLimit`` entries a
/// collision is about as likely as guessing a 38-bit secret.
struct RecentDestinations: Sendable {
    /// Who a datagram went to, for the purpose of NAT filtering: an address prefix on the
    /// internet, or an endpoint on a local network when those are exempt.
    typealias Destination = NetworkKey

    private let sharedConfiguration: SharedDHTConfiguration
    private var configuration: DHTConfiguration { sharedConfiguration.value }
    private var current: Set<UInt64> = []
    private var previous: Set<UInt64> = []
    private var generationStart: Instant
    /// The fingerprint last recorded, to skip the hash work on a run of datagrams to one peer.
    private var last: UInt64?

    /// Nothing sent yet; the first generation starts at `now`.
    init(configuration: DHTConfiguration, now: Instant) {
        self.init(shared: SharedDHTConfiguration(configuration), now: now)
    }

    /// Nothing sent yet; the limits are read from `shared`.
    init(shared: SharedDHTConfiguration, now: Instant) {
        self.sharedConfiguration = shared
        self.generationStart = now
    }

    /// Destinations remembered (both generations).
    var count: Int { current.count + previous.count }

    /// The destination `endpoint` counts as.
    func destination(for endpoint: Endpoint) -> Destination {
        NetworkKey(
            endpoint, ipv4Bits: configuration.recentDestinationIPv4PrefixLength,
            ipv6Bits: configuration.recentDestinationIPv6PrefixLength,
            localPerEndpoint: configuration.recentDestinationsExemptLocalNetworks)
    }

    /// The 64-bit fingerprint a destination is remembered by: an IPv4 prefix or endpoint
    /// exactly (address, port and a tag), an IPv6 one through a 64-bit mix of every bit.
    static func fingerprint(of destination: Destination) -> UInt64 {
        func mix(_ value: UInt64) -> UInt64 {
            // SplitMix64's finaliser: every input bit affects every output bit.
            var z = value &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let address: IPAddress, port: UInt64, tag: UInt64
        switch destination {
        case let .prefix(prefix): (address, port, tag) = (prefix.network, 0, 0)
        case let .endpoint(endpoint): (address, port, tag) = (endpoint.address, UInt64(endpoint.port), 1)
        }
        switch address {
        case let .v4(value):
            // Bits 0-31 the address, 32-47 the port, 48 endpoint or prefix, 63 clear (IPv4).
            return UInt64(value) | port << 32 | tag << 48
        case let .v6(high, low):
            // Bit 63 set: an IPv6 destination never matches an IPv4 one.
            return (mix(mix(high ^ tag) ^ low) ^ mix(port)) | 1 << 63
        }
    }

    /// Notes a datagram sent to `endpoint` at `now`.
    mutating func record(_ endpoint: Endpoint, now: Instant) {
        rotateIfDue(now: now)
        let destination = Self.fingerprint(of: destination(for: endpoint))
        if destination == last { return }
        last = destination
        guard !current.contains(destination) else { return }
        if current.count >= max(1, configuration.recentDestinationLimit) {
            rotate(now: now)
        }
        current.insert(destination)
    }

    /// Whether anything went to `endpoint`'s destination within the window before `now` (or a
    /// little longer: up to twice the window).
    func contains(_ endpoint: Endpoint, now: Instant) -> Bool {
        let window = configuration.reachabilityEvidenceWindow
        let destination = Self.fingerprint(of: destination(for: endpoint))
        // The previous generation ended when the current one began; the current one holds
        // sends since then.
        if now >= generationStart + window + window { return false }
        if now >= generationStart + window { return current.contains(destination) }
        return current.contains(destination) || previous.contains(destination)
    }

    private mutating func rotateIfDue(now: Instant) {
        let window = configuration.reachabilityEvidenceWindow
        guard now >= generationStart + window else { return }
        if now >= generationStart + window + window {
            // Both generations are older than the window.
            previous = []
            current = []
            generationStart = now
            last = nil
        } else {
            rotate(now: now)
        }
    }

    private mutating func rotate(now: Instant) {
        previous = current
        // Not reserved to the previous count: a table that grew in a burst shrinks back.
        current = []
        generationStart = now
        last = nil
    }
}
