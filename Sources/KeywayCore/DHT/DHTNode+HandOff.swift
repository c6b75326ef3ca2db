/// Handing stored items over to nodes that newly appear near them (Kademlia, section 2.5).
///
/// A node that joins (or restarts with an empty store) next to a key becomes one of the nodes a
/// lookup of that key converges on, yet nobody has put the key's item on it; until the owner's
/// next republish, lookups that end there fail. So when a contact enters the routing table, or
/// is re-learnt at a new address, this node offers it every stored item whose target it is
/// closer to than this node and among the ``DHTConfiguration/replicationFactor`` closest
/// contacts to. An offer is an ordinary BEP 44 exchange: a `get` (for a write token, and to
/// learn whether the newcomer already holds that `seq`), then a `put` of the item exactly as
/// its owner signed it, which the newcomer verifies like any other put.
extension DHTNode {
    /// ``RoutingTable/observe(_:responded:now:)``, and a hand-over to the contact if it has just
    /// entered the table or moved to a new endpoint.
    @discardableResult
    mutating func observe(_ node: NodeContact, responded: Bool, now: Instant) -> RoutingTable.Directive {
        let before = routingTable.contact(for: node.id)?.node.endpoint
        let directive = routingTable.observe(node, responded: responded, now: now)
        if let after = routingTable.contact(for: node.id)?.node.endpoint, after != before {
            handOffStoredItems(to: NodeContact(id: node.id, endpoint: after), now: now)
        }
        return directive
    }

    /// ``RoutingTable/recordFailure(of:at:now:)``, and a hand-over to the replacement it promotes.
    mutating func recordFailure(of id: NodeID, at endpoint: Endpoint, now: Instant) {
        if let promoted = routingTable.recordFailure(of: id, at: endpoint, now: now) {
            handOffStoredItems(to: promoted, now: now)
        }
    }

    /// Offers `contact` the stored items it should hold, within the interval's budget.
    mutating func handOffStoredItems(to contact: NodeContact, now: Instant) {
        guard configuration.handOffStoredItems, store.count > 0, contact.id != id else { return }
        for target in store.targets(closerTo: contact.id, now: now) {
            let closest = routingTable.closest(to: target, count: configuration.replicationFactor)
            guard closest.contains(where: { $0.id == contact.id }) else { continue }
            guard handOffBudget > 0 else {
                statistics.handOffsSkipped += 1
                continue
            }
            var sequence: Int64?
            if case let .mutable(item)? = store.item(for: target, now: now) { sequence = item.sequence }
            // With `seq`, a newcomer that already holds this version answers without the value.
            guard sendQuery(.get(id: id, target: target, sequence: sequence), to: contact.endpoint, expecting: contact.id, purpose: .handOff(target), now: now) else { return }
            handOffBudget -= 1
            statistics.handOffsStarted += 1
        }
    }

    /// The newcomer answered a hand-over's `get`: put the item on it unless it already holds
    /// this version or a newer one.
    mutating func completeHandOff(of target: NodeID, to contact: NodeContact, token: [UInt8], theirSequence: Int64?, theyHaveValue: Bool, now: Instant) {
        let arguments: KRPCPut
        switch store.item(for: target, now: now) {
        case let .mutable(item)?:
            if let theirSequence, theirSequence >= item.sequence { return }
            arguments = putArguments(item, token: token)
        case let .immutable(value)?:
            if theyHaveValue { return }
            arguments = KRPCPut(id: id, token: token, encodedValue: value)
        case nil:
            return
        }
        if sendQuery(.put(arguments), to: contact.endpoint, expecting: contact.id, purpose: .maintenance, now: now) {
            statistics.handOffPuts += 1
        }
    }
}
