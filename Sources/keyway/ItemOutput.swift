import KeywayCore

/// What `keyway resolve --item` prints: a BEP 44 mutable item itself, whatever it holds.
///
/// The value shown is what `v` holds when `v` is a bencoded byte string (as pkarr records and
/// most items are): as text when it is UTF-8 with no control characters, else in hex. A `v`
/// of another bencoded type (integer, list, dictionary) is shown whole, bencoded, in hex.
///
/// Lines: `seq: <seq>` then one of `value: <text>`, `value-hex: <hex>`, `bencoded-hex: <hex>`.
///
/// JSON (one line): `{"key":"<z-base-32>","salt_hex":"<hex>","seq":<seq>,` then one of
/// `"value":"<text>"`, `"value_hex":"<hex>"`, `"bencoded_hex":"<hex>"`, then
/// `"signature_hex":"<hex>"}`.
enum ItemOutput {
    /// How the item's value is shown.
    enum Value: Equatable {
        /// `v` is a byte string holding printable UTF-8 text.
        case text(String)
        /// `v` is a byte string holding anything else.
        case bytes([UInt8])
        /// `v` is not a byte string: the bencoded `v` itself.
        case bencoded([UInt8])
    }

    /// How `item`'s value is shown.
    static func value(of item: MutableItem) -> Value {
        guard case let .bytes(bytes)? = try? BencodeValue.decode(item.encodedValue) else {
            return .bencoded(item.encodedValue)
        }
        if let text = String(validating: bytes, as: UTF8.self),
           !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return .text(text)
        }
        return .bytes(bytes)
    }

    /// The lines `keyway resolve --item` prints.
    static func lines(_ item: MutableItem) -> [String] {
        let shown: String
        switch value(of: item) {
        case let .text(text): shown = "value: \(text)"
        case let .bytes(bytes): shown = "value-hex: \(bytes.hexString)"
        case let .bencoded(encoded): shown = "bencoded-hex: \(encoded.hexString)"
        }
        return ["seq: \(item.sequence)", shown]
    }

    /// The line `keyway resolve --item --json` prints.
    static func json(_ item: MutableItem) -> String {
        let shown: String
        switch value(of: item) {
        case let .text(text): shown = "\"value\":\(quoted(text))"
        case let .bytes(bytes): shown = "\"value_hex\":\"\(bytes.hexString)\""
        case let .bencoded(encoded): shown = "\"bencoded_hex\":\"\(encoded.hexString)\""
        }
        return "{\"key\":\"\(item.publicKey.zBase32)\",\"salt_hex\":\"\(item.salt.hexString)\",\"seq\":\(item.sequence),"
            + "\(shown),\"signature_hex\":\"\(item.signature.hexString)\"}"
    }

    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
