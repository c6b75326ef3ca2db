import KeywayCore

/// One-way latencies between regions, for ``LatencyModel/regions(_:)``.
public struct RegionMatrix: Sendable, Equatable, CustomStringConvertible {
    /// `oneWay[a][b]`: from region `a` to region `b`.
    public let oneWay: [[Duration]]
    /// The name it was given by (`world`), or `nil` for a matrix written out.
    public let name: String?
    /// Each draw is the matrix value times a uniform factor in [1 - jitter, 1 + jitter].
    public let jitter = 0.1

    /// Most regions a matrix may have.
    public static let maximumRegions = 16

    /// Four regions (North America east and west, Europe, Asia), one-way milliseconds in the
    /// range public round-trip tables report (RTT/2): 5 ms inside a region, 35–110 ms across.
    public static let world = RegionMatrix(name: "world", milliseconds: [
        [5, 35, 40, 90],
        [35, 5, 70, 60],
        [40, 70, 5, 110],
        [90, 60, 110, 10],
    ])

    private init(name: String?, milliseconds: [[Double]]) {
        self.name = name
        self.oneWay = milliseconds.map { $0.map { .seconds(double: $0 / 1000) } }
    }

    /// `world`, or a square matrix of milliseconds with rows separated by `;` and columns by `,`.
    public init(parsing text: String) throws(OptionError) {
        if text.trimmingWhitespace() == "world" {
            self = RegionMatrix.world
            return
        }
        var rows: [[Double]] = []
        for row in text.split(separator: ";") {
            var values: [Double] = []
            for field in row.split(separator: ",") {
                guard let value = Double(String(field).trimmingWhitespace()), value.isFinite, value >= 0, value <= 10_000 else {
                    throw OptionError("--latency regions: '\(field)' is not a latency in milliseconds (0 to 10000)")
                }
                values.append(value)
            }
            rows.append(values)
        }
        guard !rows.isEmpty, rows.count <= RegionMatrix.maximumRegions, rows.allSatisfy({ $0.count == rows.count }) else {
            throw OptionError("--latency regions: need a square matrix of at most \(RegionMatrix.maximumRegions) rows, like 5,40;40,5")
        }
        self.init(name: nil, milliseconds: rows)
    }

    /// Number of regions.
    public var count: Int { oneWay.count }

    /// `world`, or the matrix in milliseconds.
    public var description: String {
        if let name { return name }
        return oneWay.map { row in row.map { formatMilliseconds($0.milliseconds) }.joined(separator: ",") }.joined(separator: ";")
    }

    private func formatMilliseconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// Matrices are equal when their latencies are.
    public static func == (lhs: RegionMatrix, rhs: RegionMatrix) -> Bool { lhs.oneWay == rhs.oneWay }
}
