import KeywayCore
import KeywayCrypto

/// The checks that run inside every simulation, on what the cores store and return.
///
/// 1. **Signatures.** Every item a node stores (audited every ``WorkloadOptions/auditInterval``
///    and at the end) and every item a resolve returns must be valid: byte-identical to an item
///    its owner signed in this run, or else passing full Ed25519 verification.
/// 2. **Sequence numbers.** The `seq` a node stores under a target never decreases while it
///    holds it (a restart clears what it held), and a resolve never returns an older `seq`
///    than the resolver itself stored when the resolve began.
/// 3. **Convergence** (run by ``Simulation``): after churn stops and the network heals, sampled
///    pairs of live nodes each resolve the other's newest record within a bound.
struct InvariantChecker {
    /// Identifies one signed version of a record.
    private struct Version: Hashable {
        var target: NodeID
        var sequence: Int64
    }

    /// Digest of each genuine item's value and signature.
    private var genuine: [Version: UInt64] = [:]
    /// Per node, the `seq` it held under each target at the last audit.
    private var held: [[NodeID: Int64]]
    /// Violations, the first ``violationLimit`` described.
    private(set) var violations: [String] = []
    /// Every violation found.
    private(set) var violationCount = 0
    /// Items checked.
    private(set) var itemsChecked = 0
    /// Items that needed a full signature verification (not byte-identical to a genuine one).
    private(set) var fullVerifications = 0

    /// How many violations are described in full.
    static let violationLimit = 20

    init(nodes: Int) { held = Array(repeating: [:], count: nodes) }

    /// Remembers an item its owner signed.
    mutating func recordGenuine(_ item: MutableItem) {
        genuine[Version(target: item.target, sequence: item.sequence)] = InvariantChecker.digest(item)
    }

    private static func digest(_ item: MutableItem) -> UInt64 {
        TraceHash.payloadHash(item.encodedValue) ^ (TraceHash.payloadHash(item.signature) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Whether `item` is valid: identical to a genuine item, or verifying in full.
    private mutating func isValid(_ item: MutableItem, target: NodeID) -> Bool {
        itemsChecked += 1
        if genuine[Version(target: target, sequence: item.sequence)] == InvariantChecker.digest(item), item.salt.isEmpty {
            return true
        }
        fullVerifications += 1
        return item.isValid
    }

    private mutating func violation(_ text: String) {
        violationCount += 1
        if violations.count < InvariantChecker.violationLimit { violations.append(text) }
    }

    /// Audits what `node` stores: every item valid, no `seq` lower than at the last audit.
    mutating func audit(node: Int, store: ItemStore, now: Instant) {
        var current: [NodeID: Int64] = [:]
        for item in store.mutableItems(now: now) {
            let target = item.target
            if !isValid(item, target: target) {
                violation("t=\(now): node \(node) stores an item under \(target) whose signature fails (seq \(item.sequence))")
            }
            if let before = held[node][target], item.sequence < before {
                violation("t=\(now): node \(node) replaced seq \(before) under \(target) by the lower seq \(item.sequence)")
            }
            current[target] = item.sequence
        }
        held[node] = current
    }

    /// Forgets what `node` held (it restarted with an empty store).
    mutating func reset(node: Int) { held[node] = [:] }

    /// Checks an item a resolve of `target` by `node` returned; `localSequence` is what the
    /// node stored for the target when the resolve began. Returns whether the item is valid.
    mutating func checkResolved(_ item: MutableItem, target: NodeID, node: Int, localSequence: Int64?, now: Instant) -> Bool {
        let valid = isValid(item, target: target) && item.target == target
        if !valid {
            violation("t=\(now): node \(node) accepted a record for \(target) whose signature fails (seq \(item.sequence))")
        }
        if let localSequence, item.sequence < localSequence {
            violation("t=\(now): node \(node) resolved seq \(item.sequence) for \(target) though it held seq \(localSequence)")
        }
        return valid
    }

    /// Records a failure found elsewhere (the convergence check).
    mutating func fail(_ text: String) { violation(text) }
}
