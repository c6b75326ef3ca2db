// Target `krpc`: KRPCMessage.decode (BEP 5 and BEP 44 messages) on any bytes; whatever decodes
// carries the tree's transaction ID and re-encodes to a message that decodes the same.
@testable import KeywayCore

func fuzzOne(_ input: [UInt8]) {
    let tree = try? BencodeValue.decode(input)
    guard let message = try? KRPCMessage.decode(input) else { return }
    require(tree?.entries != nil, "KRPC decoded what is not a bencoded dictionary")
    require(message.transactionID == tree?["t"]?.bytes, "KRPC t differs from the tree's")
    let encoded = message.encoded()
    guard let again = try? KRPCMessage.decode(encoded) else {
        require(false, "re-encoded KRPC does not decode")
        return
    }
    require(again == message, "re-encoded KRPC decodes to another message")
}

func fuzzSeeds() -> [[UInt8]] {
    // The libtorrent captures are copied into the corpus by hand (Tests/Fuzz/corpus/krpc/); these
    // add BEP 44 messages keyway itself sends.
    [
        Array("d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q3:get1:t2:aa1:y1:qe".utf8),
        Array("d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee".utf8),
        Array("d1:rd2:id20:mnopqrstuvwxyz1234565:nodes26:abcdefghij0123456789axje.ue1:t2:aa1:y1:re".utf8),
    ]
}
