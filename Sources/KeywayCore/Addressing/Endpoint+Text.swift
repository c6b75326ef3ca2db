/// Text forms of ``Endpoint``: `192.0.2.1:4000` for IPv4 and `[2001:db8::1]:4000` for IPv6
/// (RFC 3986 section 3.2.2 and RFC 5952 section 6).
///
/// The address is parsed as ``IPAddress/init(_:)`` parses it; IPv6 must be in brackets and
/// IPv4 must not be. The port is one to five decimal digits, `0`–`65535`, with no sign and no
/// leading zero (except `0` itself), so every endpoint has exactly one canonical text.
extension Endpoint: LosslessStringConvertible {
    /// Most decimal digits in a port.
    static let portMaximumDigits = 5

    /// Parses `a.b.c.d:port` or `[ipv6]:port`; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")),
              let port = ASCII.canonicalDecimal(
                bytes[(colon + 1)...], maximumDigits: Endpoint.portMaximumDigits, maximum: Int(UInt16.max))
        else { return nil }
        let host = bytes[..<colon]
        let address: IPAddress
        if host.first == UInt8(ascii: "[") {
            guard host.count >= 2, host.last == UInt8(ascii: "]"),
                  let (high, low) = IPTextParser.parseIPv6(host.dropFirst().dropLast()) else { return nil }
            address = .v6(high: high, low: low)
        } else {
            guard let v4 = IPTextParser.parseIPv4(host) else { return nil }
            address = .v4(v4)
        }
        self.init(address: address, port: UInt16(port))
    }

    /// `a.b.c.d:port` or `[ipv6]:port`, with the address in its canonical form.
    public var description: String {
        switch address {
        case .v4: return "\(address):\(port)"
        case .v6: return "[\(address)]:\(port)"
        }
    }
}
