import KeywayCrypto

/// Every tunable limit of the DHT core, with the reason for its default.
///
/// These are implementation choices; the constants the specifications fix live in ``DHTSpec``.
/// The defaults suit a real deployment; the simulator and tests shorten the timeouts.
public struct DHTConfiguration: Sendable {
    // MARK: Routing table

    /// Contacts per bucket. BEP 5 uses 8; larger buckets cost memory and refresh traffic.
    public var bucketSize = DHTSpec.k
    /// Spare contacts kept per full bucket, promoted when a contact goes bad.
    public var replacementCacheSize = 8
    /// A contact that has not been heard from for this long is "questionable" (BEP 5: 15 min)
    /// and is pinged before it may be evicted.
    public var questionableAfter: Duration = .seconds(15 * 60)
    /// Consecutive unanswered queries after which a contact is "bad" and may be replaced.
    public var failuresBeforeBad = 2
    /// A bucket not changed for this long is refreshed with a lookup of a random ID in its range.
    public var bucketRefreshInterval: Duration = .seconds(15 * 60)
    /// How often the core wakes to refresh buckets, rotate tokens and expire storage.
    public var maintenanceInterval: Duration = .seconds(5)

    // MARK: Routing-table hygiene (Sybil and eclipse resistance)

    /// Bits of an IPv4 address that make one routing prefix: contacts in one /24 are treated
    /// as one operator (libtorrent's `restrict_routing_ips` works per IP; a /24 costs an
    /// attacker more than one host's ports or addresses).
    public var routingIPv4PrefixLength = 24
    /// Bits of an IPv6 address that make one routing prefix: a /64 is one subnet, which a
    /// single host can fill with addresses at will.
    public var routingIPv6PrefixLength = 64
    /// Contacts from one routing prefix a bucket holds at most. Two, so a host with two nodes
    /// (or two pods behind one NAT) is still reachable, and one /24 can never hold a majority of
    /// the 8 contacts a lookup step relies on.
    public var routingContactsPerPrefixPerBucket = 2
    /// Contacts from one routing prefix the whole table holds at most (a table holds about
    /// 8 x log2(N/8) contacts, 60-150 in practice). Four: one prefix can hold at most half of
    /// the 8 closest contacts we name for any target, never a majority of a neighbourhood
    /// (libp2p's diversity filter allows 3 per table).
    public var routingContactsPerPrefix = 4
    /// A node that sends us a query enters the table only after it answers a ping of ours from
    /// that endpoint (a spoofed source never can), instead of taking a free slot at once.
    public var admitQueriersAfterPing = false
    /// Loopback and private-network addresses (``IPAddress/isLocalNetwork``) are exempt from
    /// the routing prefix limits: a mesh inside one host, one cluster's pod network (a /24 per
    /// host in Kubernetes) or a LAN is one operator's, and there the limits would only cut its
    /// own nodes out of each other's tables. On the public internet every prefix is limited.
    /// The one-contact-per-endpoint and answer-first rules apply everywhere.
    public var routingLimitsExemptLocalNetworks = true
    /// Answers name only contacts that have answered a query of ours (not ones restored from
    /// disk, named by a seed, or that only queried us), so this node never vouches for a node
    /// it has not heard answer.
    public var answerWithVerifiedContactsOnly = false
    /// Candidates from one routing prefix a lookup keeps at most, so a prefix that answers with
    /// many IDs of its own cannot take over the lookup's closest set (libp2p's diversity filter).
    public var lookupCandidatesPerPrefix = 3

    /// When the bootstrap lookup of our own ID ends, refresh every bucket farther than our
    /// closest neighbour's with a lookup of a random ID in its range (Kademlia's join, section
    /// 2.3). Without it, the sibling subtrees near our own ID can stay unknown after a mass
    /// join, and lookups for keys there end in the wrong half of the subtree. Off only to show
    /// what it is for (`keyway-sim --no-join-refresh`).
    public var refreshBucketsOnJoin = true
    /// Join refreshes running at once; the rest start as these end. About log2(N/8) buckets
    /// are refreshed per join (8 at 2,000 nodes, 17 at 1M), so two at a time finish within a
    /// few seconds while keeping a joining node's burst to ``lookupParallelism`` x 2 queries.
    public var joinRefreshParallelism = 2

    // MARK: Queries and lookups

    /// How long a query may go unanswered before it counts as failed.
    public var queryTimeout: Duration = .seconds(2)
    /// A lookup stops waiting for a query after this many smoothed round-trip times: the query
    /// is "stalled", frees its slot and no longer holds the lookup open, though a late answer is
    /// still used. The node is only penalised when ``queryTimeout`` passes. This is what keeps a
    /// dead or moved node from adding a whole timeout to every lookup near it.
    public var lookupStallRTTMultiplier = 4.0
    /// Within that bound, a query stalls after the smoothed RTT plus this many mean deviations
    /// of the RTT (RFC 6298's K = 4): when round trips are steady a dead or moved contact
    /// stops holding a lookup after little more than one round trip.
    public var lookupStallVariationMultiplier = 4.0
    /// How long after a put lookup ends a late answer from a node closer to the target than
    /// the put's farthest node still gets the item (a put with one), so that a lookup ended by
    /// stalled queries does not leave its slowest close nodes without the record. The query
    /// timeout: no answer comes later. Zero turns it off.
    public var latePutWindow: Duration = .seconds(2)
    /// The shortest stall wait, whatever the measured round-trip time.
    public var lookupStallMinimum: Duration = .milliseconds(100)
    /// The round-trip time assumed before any query has been answered. Stall waits of queries
    /// sent before the first answer are shortened once that answer gives a real sample, so a
    /// dead contact restored from disk delays a fresh node's first lookup by a few round trips,
    /// not by ``queryTimeout``.
    public var initialRoundTripEstimate: Duration = .milliseconds(250)
    /// Queries a lookup keeps in flight at once while it still gets closer to the target
    /// (Kademlia's alpha).
    public var lookupParallelism = 3
    /// Queries a lookup keeps in flight at once once it has arrived (the closest live candidate,
    /// or some holder of the item, has answered): every unasked one of the ``lookupResultCount`` closest is asked at once,
    /// as Kademlia does after a round that brings no closer node, since the lookup cannot end
    /// before they have all answered. Eight, the result count: a lookup's burst stays that of
    /// one round of k. ``lookupParallelism`` or less turns it off.
    public var lookupConvergedParallelism = DHTSpec.k
    /// Of the ``lookupResultCount`` closest live candidates, how many still in flight past
    /// their straggler wait (``lookupStragglerRTTMultiplier``) a lookup may end without, once
    /// those that answered agree (a get: an item was found and none of them returned another
    /// `seq`). One slow node then no longer sets the time of every lookup near it; a
    /// disagreement (an older copy, a forged one) makes the lookup wait for all of them, as
    /// before. 0 by default (wait for all): when the newest version sits on only two of the 8
    /// and both are slow, the answered ones agree on an older version, and with 2 the 10k
    /// scenario with 20 % stale nodes accepted one older record (seed 7); with padded gets and
    /// the agreement quorum, 0 costs no measurable latency (p50 316-317, p99 542-553 ms).
    public var lookupStragglerAllowance = 0
    /// A lookup query unanswered after this many smoothed round-trip times is a straggler
    /// (see ``lookupStragglerAllowance``); never later than the stall wait.
    public var lookupStragglerRTTMultiplier = 1.5
    /// The shortest straggler wait, whatever the measured round-trip time.
    public var lookupStragglerMinimum: Duration = .milliseconds(20)
    /// A get lookup ends as soon as this many of the ``lookupResultCount`` closest live
    /// candidates have returned the newest item found while no responder returned another `seq`
    /// (an older copy, or a newer one that fails verification): records sit on the
    /// ``replicationFactor`` closest nodes, and when that many of them agree the lookup need not
    /// hear the rest. Any disagreement makes it run to the full end condition. Six of eight: an
    /// attacker must hold 6 of a key's 8 nearest nodes to make its older copy the answer; with 4,
    /// 20 % stale nodes would by estimate win a few resolves per 10,000-node run
    /// (Docs/SIMULATION.md). Zero turns it off.
    public var lookupAgreementQuorum = 6
    /// Once this many contacts one responder named have gone silent (stalled or failed) and none
    /// has answered, the lookup skips the rest of that responder's contacts unless another
    /// responder names them too. A liar that names fabricated contacts closer than any real node
    /// then costs one stall wait, not one per three of its contacts. Zero turns it off.
    public var lookupDistrustAfterSilentReferrals = 2
    /// Closest responders a lookup must hear from before it ends (normally the bucket size).
    public var lookupResultCount = DHTSpec.k
    /// Candidates a lookup remembers; farther ones are forgotten, bounding its memory.
    public var lookupCandidateLimit = 64
    /// Queries one lookup may send in all; a lookup that reaches it ends with what it has.
    public var lookupQueryLimit = 64
    /// Queries the node keeps outstanding at once; new ones wait for a slot beyond this
    /// (bounds memory and the burst a node can emit).
    public var maximumPendingQueries = 512
    /// Of those, slots only lookups, seed queries and puts may take: maintenance pings, repair
    /// puts and hand-overs (which peers can provoke, e.g. by claiming IDs or joining near
    /// stored items) hold at most the rest, so they can never stall resolves and publishes.
    /// A quarter: 128, over 40 lookups' worth of queries in flight at once.
    public var pendingQueriesReservedForLookups = 128

    // MARK: Bootstrap

    /// First delay before asking unreachable seeds again; doubled each time.
    public var bootstrapRetryInitialDelay: Duration = .seconds(1)
    /// Longest delay between attempts to reach seeds.
    public var bootstrapRetryMaximumDelay: Duration = .seconds(60)

    // MARK: Tokens and storage

    /// How often the secret behind write tokens changes. A token stays valid for two periods
    /// (BEP 5 recommends accepting tokens up to 10 minutes old).
    public var tokenRotationInterval: Duration = .seconds(5 * 60)
    /// Bytes of each write token, 4...8 (a truncated SipHash-2-4 tag; values outside are clamped).
    public var tokenLength = 8
    /// How long a stored item lives without being put again (BEP 44 suggests at least 2 hours).
    public var itemLifetime: Duration = .seconds(2 * 60 * 60)
    /// Items this node stores for others at most. When full, a put still succeeds: the source
    /// prefix holding the most items loses its oldest one (see ``ItemStore``).
    public var maximumStoredItems = 16_384
    /// Items first stored by one source prefix held at most; beyond it that prefix's oldest item
    /// gives way. 256: a /24 can hold 1/64 of the store, so filling it takes 64 prefixes, while a
    /// NAT or a cloud /24 of honest publishers keeps room for 256 records here (a node holds
    /// only the items whose targets fall near its ID, about 8 x items / nodes of them).
    public var maximumStoredItemsPerPrefix = 256
    /// Bits of an IPv4 source address that make one storage prefix (a /24).
    public var storageIPv4PrefixLength = 24
    /// Bits of an IPv6 source address that make one storage prefix (a /48).
    public var storageIPv6PrefixLength = 48
    /// Bytes of values this node stores for others at most.
    public var maximumStoredBytes = 16 << 20
    /// `announce_peer` info-hashes remembered at most.
    public var maximumPeerInfoHashes = 1024
    /// Peers remembered per info-hash at most.
    public var maximumPeersPerInfoHash = 64
    /// Peers of one info-hash one IP address holds at most (its oldest gives way): one host
    /// announcing from 64 ports must not take every slot. Four: a few clients behind one NAT.
    public var maximumPeersPerInfoHashPerAddress = 4
    /// How long an announced peer is remembered (BEP 5 peers re-announce every 30 minutes).
    public var peerLifetime: Duration = .seconds(30 * 60)

    // MARK: Publishing

    /// How often this node re-puts its own record when nothing changed. Well inside
    /// ``itemLifetime`` so replicas never expire while the node lives.
    public var republishInterval: Duration = .seconds(30 * 60)
    /// Nodes each record is put on (normally the bucket size).
    public var replicationFactor = DHTSpec.k
    /// After a resolve, put the newest record back on close nodes that returned an older one
    /// or none, so the next resolver finds it sooner (read repair).
    public var repairStaleReplicas = true
    /// Hand stored items over to nodes that newly appear near them (Kademlia, section 2.5: "when
    /// a new node joins the system, it must store any key-value pair to which it is one of the k
    /// closest"). When a contact enters the routing table (or is re-learnt at a new address, as
    /// a node that restarted with an empty store is), every item this node stores whose target
    /// the newcomer is closer to than this node, and among the ``replicationFactor`` closest
    /// contacts to, is offered to it: a `get` (which returns a write token, and tells whether it
    /// already has that `seq`) then a `put` of the item exactly as its owner signed it. Without
    /// this, nodes that join near a key after its last put answer lookups for it without having
    /// it, and a lookup that converges on them fails until the owner's next republish.
    public var handOffStoredItems = true
    /// Hand-overs (each a `get` and at most one `put`) this node starts per
    /// ``maintenanceInterval`` at most; beyond it, offers are skipped (other holders make them
    /// too, and the owner's republish remains the backstop). Bounds the traffic a burst of
    /// joins near many stored items can cause.
    public var handOffBudgetPerInterval = 32

    // MARK: Flood protection

    /// Queries per second one source (a prefix, see ``rateLimitIPv4PrefixLength``) may send
    /// before the excess is dropped unanswered (0 turns limiting off, the egress budget with it,
    /// e.g. for a load benchmark). A busy honest peer sends a few per second.
    public var inboundQueryRatePerSource: Double = 100
    /// Queries one source may send in a burst above that rate.
    public var inboundQueryBurstPerSource: Double = 200
    /// Sources tracked by the rate limiter at most (bounds its memory); beyond it the source
    /// heard from longest ago is forgotten, so a full table never refuses a newcomer.
    public var rateLimitedSourceLimit = 4096
    /// Bits of an IPv4 address that make one rate-limited source: a /24, never a port, so one
    /// host's many sockets (attack 8 of issue 12) or addresses share one budget.
    public var rateLimitIPv4PrefixLength = 24
    /// Bits of an IPv6 address that make one rate-limited source: a /48, the usual end-site
    /// allocation, which one customer can fill with addresses at will.
    public var rateLimitIPv6PrefixLength = 48
    /// Sources on loopback or a private network (``IPAddress/isLocalNetwork``) are limited per
    /// endpoint instead of per prefix, so many nodes on one host or LAN (one operator's mesh)
    /// each keep their budget, as ``routingLimitsExemptLocalNetworks`` does for the table. There
    /// a host can dodge the per-source limit by opening ports; the egress budget still bounds it.
    public var rateLimitLocalSourcesPerEndpoint = true
    /// Bytes per second of answers this node sends at most, whoever asks (libtorrent's
    /// `dht_upload_rate_limit`, whose default is 8,000; a keyway seed answers whole meshes
    /// joining, so 1 MiB/s). Bounds upload under a flood from many prefixes and what the node
    /// can be made to reflect; 0 turns it off.
    public var egressBytesPerSecond = 1 << 20
    /// Bytes of answers sent in a burst above ``egressBytesPerSecond``: one second's worth.
    public var egressBurstBytes = 1 << 20

    /// Answers to a source that has not proved it receives what we send (it never answered a
    /// query of ours from that endpoint, nor presented a valid write token) are at most this many times the size of its query:
    /// a spoofed query cannot make this node reflect more than that at a victim (attack 9 of
    /// issue 12: a `get` of a 1,000-byte item gave 14x). Three, as QUIC allows before address
    /// validation (RFC 9000 §8.1); a find_node answer with 8 IPv4 nodes is about 3.1x its query, so
    /// an unverified querier gets 7. Over it, nodes are trimmed first, then the value is left out. 0 turns the limit off.
    public var maximumAmplification = 3.0
    /// Sources on loopback or a private network count as verified for the amplification
    /// limit: spoofing there needs a foothold inside one operator's network.
    public var amplificationLimitExemptLocalNetworks = true
    /// Addresses remembered as verified because they presented a valid write token (an `put`
    /// or `announce_peer`), the least recent dropped first.
    public var verifiedAddressLimit = 4096
    /// Bytes a `get` query this node sends is padded to (a `pad` key that every reader
    /// ignores), so that a responder that has not verified this node's address can still answer
    /// with a whole item: answers to unverified sources are at most ``maximumAmplification``
    /// times the query, and a 1,000-byte BEP 44 value with its key, signature, sequence number,
    /// token and framing is about 1,230 bytes; 420 bytes × 3 leave room for it. Without it a
    /// resolver whose only contacts do not know it yet (a fresh node, a seed that holds the
    /// record) is told that the item exists but never gets it. 0: no padding.
    public var getQueryPaddedSize = 420
    /// Source networks (voters of ``ObservedAddressVotes``) that must have reported an address
    /// before the NAT is classified (``NATClass``): `eim` needs one endpoint agreed by the
    /// quorum and by at least half of them, `edm` at least this many distinct ports and no
    /// quorum. 3, as many as the quorum.
    public var natClassificationMinimumVoters = 3

    // MARK: Address discovery (BEP 42 `ip`)

    /// Distinct source networks (see ``observedAddressIPv4PrefixLength``) that must report the
    /// same external endpoint before it is believed and published. Three: one operator with one
    /// /24 (or a host answering with many IDs, attack 5 of issue 12) holds one vote, so steering
    /// our record takes three networks; honest nodes on a few networks agree within the first
    /// answers of a bootstrap.
    public var observedAddressQuorum = 3
    /// Bits of an IPv4 source address that make one vote on the external endpoint: all of a
    /// /24 is one voter, as it is one routing prefix (``routingIPv4PrefixLength``).
    public var observedAddressIPv4PrefixLength = 24
    /// Bits of an IPv6 source address that make one vote: a /64, which one host can fill with
    /// addresses at will.
    public var observedAddressIPv6PrefixLength = 64
    /// Sources on loopback or a private network (``IPAddress/isLocalNetwork``) vote once per
    /// endpoint rather than per prefix, so a mesh inside one host or LAN still learns its
    /// external endpoint (as ``routingLimitsExemptLocalNetworks`` does for the routing table).
    public var observedAddressVotesExemptLocalNetworks = true
    /// Voters whose reports are remembered at most (the one heard from longest ago is dropped
    /// first).
    public var observedAddressReportLimit = 32

    // MARK: Reachability evidence (publishing the observed endpoint)

    /// The believed external endpoint is published only once there is evidence that peers can
    /// reach this node there unasked (``DHTNode/confirmedExternalEndpoint``): it is one of the
    /// socket's own endpoints (``DHTNode/setLocalEndpoints(_:)``), or a KRPC query or an
    /// authenticated transport handshake initiation arrived from a source this node had not
    /// sent to within ``reachabilityEvidenceWindow``. Behind a NAT or firewall that drops
    /// unsolicited packets (a symmetric or port-restricted NAT) the endpoint peers see is of no
    /// use to anyone who looks it up, so it stays out of the record. Off: the believed endpoint
    /// is confirmed at once (the behaviour before evidence was required).
    public var requireReachabilityEvidence = true
    /// How long after this node sends to an address a packet from it may still be let in by a
    /// NAT mapping or firewall state that send opened, so does not count as unsolicited. Five
    /// minutes: RFC 4787 (REQ-5) requires UDP mappings to last at least two minutes and
    /// recommends five or more; common home and carrier NATs use 30 s to 5 min. A longer window
    /// only makes evidence rarer. Zero counts every query as unsolicited.
    public var reachabilityEvidenceWindow: Duration = .seconds(5 * 60)
    /// Distinct destinations remembered per generation of the table of recent destinations
    /// (``RecentDestinations``: two generations, so at most twice this many). 4,096: more
    /// distinct addresses than a node sends to in five minutes outside a flood (about 13 a
    /// second); about 200 KiB at most.
    public var recentDestinationLimit = 4096
    /// Bits of an IPv4 address that make one destination: a /32, because NAT filtering is per
    /// address (RFC 4787 §5), so a packet from another address of a contacted /24 was not let
    /// in by our send. Shorter prefixes only make evidence rarer.
    public var recentDestinationIPv4PrefixLength = 32
    /// Bits of an IPv6 address that make one destination: a /64, which one host can fill with
    /// addresses at will (so an answer to one of its addresses covers all of them).
    public var recentDestinationIPv6PrefixLength = 64
    /// Destinations on loopback or a private network (``IPAddress/isLocalNetwork``) are kept
    /// per endpoint rather than per prefix, so in a mesh on one host's loopback or one LAN a
    /// query from a node not yet contacted still counts, as
    /// ``observedAddressVotesExemptLocalNetworks`` does for the vote.
    public var recentDestinationsExemptLocalNetworks = true

    /// Bytes of an unknown method's name echoed in the error 204 that answers it ("method
    /// unknown: ..."). A query's method name can be as long as the datagram; echoing it whole
    /// would let a spoofed query make this node reflect it at a victim. 32: every method a BEP
    /// names fits, and the answer stays far under the amplification limit.
    public var unknownMethodEchoLength = 32

    // MARK: Identity on the wire

    /// `v` in every message: two letters and two version bytes (BEP 5 convention).
    public var clientVersion: [UInt8] = Array("KW".utf8) + [0, 1]
    /// Mark every query `ro: 1` (BEP 43), so that peers do not add this node to their routing
    /// tables. For short-lived clients (a one-shot `keyway resolve`): otherwise each one leaves
    /// a dead contact behind that slows other nodes' lookups by a query timeout.
    public var readOnly = false

    // MARK: Randomness

    /// The key of the core's generator (``KeyedRandom``): transaction IDs, write-token secrets
    /// and refresh targets derive from it. A real node MUST set it to 32 secret random bytes
    /// (the runtime takes them from libsodium's `randombytes_buf`); when `nil`, the 64-bit seed
    /// given to ``DHTNode/init(keyPair:configuration:seed:now:)`` is used (simulations, tests).
    /// ``DHTNode`` does not keep it in its copy of the configuration.
    public var randomSeed: SecureBytes?

    /// The defaults above.
    public init() {}
}
