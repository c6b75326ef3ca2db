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
struct RecentDestinations: Sendable {
    /// Who a datagram went to, for the purpose of NAT filtering: an address prefix on the
    /// internet, or an endpoint on a local network when those are exempt.
    typealias Destination = NetworkKey

    private let configuration: DHTConfiguration
    private var current: Set<Destination> = []
    private var previous: Set<Destination> = []
    private var generationStart: Instant
    /// The destination last recorded, to skip the hash work on a run of datagrams to one peer.
    private var last: Destination?

    /// Nothing sent yet; the first generation starts at `now`.
    init(configuration: DHTConfiguration, now: Instant) {
        self.configuration = configuration
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

    /// Notes a datagram sent to `endpoint` at `now`.
    mutating func record(_ endpoint: Endpoint, now: Instant) {
        rotateIfDue(now: now)
        let destination = destination(for: endpoint)
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
        let destination = destination(for: endpoint)
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
        current = []
        current.reserveCapacity(min(previous.count, max(1, configuration.recentDestinationLimit)))
        generationStart = now
        last = nil
    }
}
