// Target `bencode`: BencodeValue.decode on any bytes; whatever decodes re-encodes to bytes that
// decode to the same value, with `encodedLength` right and the encoding stable.
@testable import KeywayCore

func fuzzOne(_ input: [UInt8]) {
    guard let value = try? BencodeValue.decode(input) else { return }
    let encoded = value.encoded()
    require(encoded.count == value.encodedLength, "encodedLength \(value.encodedLength) != \(encoded.count)")
    guard let again = try? BencodeValue.decode(encoded) else {
        require(false, "re-encoded bencode does not decode")
        return
    }
    require(again == value, "re-encoded bencode decodes to another value")
    require(again.encoded() == encoded, "bencode encoding is not stable")
}

func fuzzSeeds() -> [[UInt8]] {
    [
        Array("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe".utf8),
        Array("li-42ei0e4:spamle0:de1:xli1eee".utf8),
        Array("d8:sequencei9223372036854775807e5:valuel3:abcee".utf8),
    ]
}
