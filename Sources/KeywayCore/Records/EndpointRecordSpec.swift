/// Constants of the keyway endpoint record format (see ``EndpointRecord``).
///
/// Changing one breaks compatibility with published records. Tunable limits live in
/// ``EndpointRecordLimits``.
public enum EndpointRecordSpec {
    /// The label under the key that holds keyway's TXT records: `_keyway.<z-base-32 key>`.
    /// The underscore keeps it apart from host names, as for other service labels (RFC 8552).
    public static let serviceLabel = "_keyway"
    /// The prefix of a TXT string that holds one endpoint: `ep=192.0.2.1:4000`.
    public static let endpointPrefix = "ep="
    /// The largest bencoded `v` (BEP 44), so the largest `<length>:<packet>` a record may have.
    public static let maximumEncodedValueLength = DHTSpec.maximumValueLength
}
