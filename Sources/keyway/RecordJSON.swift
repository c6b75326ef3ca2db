import KeywayCore

/// The JSON form of a resolved record that `keyway resolve --json` prints:
/// `{"key":"<z-base-32>","seq":<µs>,"published":"<ISO 8601 UTC>","ttl":<s>,"endpoints":["HOST:PORT",...]}`.
/// Every string in it is ASCII without quotes or backslashes, so no escaping is needed.
enum RecordJSON {
    /// One line of JSON.
    static func encode(_ record: EndpointRecord) -> String {
        let endpoints = record.endpoints.map { "\"\($0)\"" }.joined(separator: ",")
        return "{\"key\":\"\(record.publicKey.zBase32)\",\"seq\":\(record.timestampMicroseconds),"
            + "\"published\":\"\(iso8601(microseconds: record.timestampMicroseconds))\",\"ttl\":\(record.ttl),"
            + "\"endpoints\":[\(endpoints)]}"
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ` for microseconds since 1970 (proleptic Gregorian, UTC).
    static func iso8601(microseconds: Int64) -> String {
        let perDay: Int64 = 86_400_000_000
        let days = microseconds >= 0 ? microseconds / perDay : (microseconds - perDay + 1) / perDay
        let within = microseconds - days * perDay
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let seconds = within / 1_000_000, fraction = within % 1_000_000
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):"
            + "\(pad(seconds % 60, 2)).\(pad(fraction, 6))Z"
    }
}
