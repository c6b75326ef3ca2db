import Foundation

/// A small, readable line chart written by hand as SVG: axes, ticks, one or more series, a legend.
public struct SVGChart: Sendable {
    /// One line on the chart.
    public struct Series: Sendable {
        /// Legend text.
        public var name: String
        /// Stroke colour (any SVG colour).
        public var colour: String
        /// The points, in data units.
        public var points: [(x: Double, y: Double)]
        /// Draw as steps (for CDFs) rather than straight segments.
        public var stepped: Bool

        /// A series from its parts.
        public init(name: String, colour: String, points: [(x: Double, y: Double)], stepped: Bool = false) {
            self.name = name
            self.colour = colour
            self.points = points
            self.stepped = stepped
        }
    }

    /// Title above the plot.
    public var title: String
    /// Label of the horizontal axis.
    public var xLabel: String
    /// Label of the vertical axis.
    public var yLabel: String
    /// The lines.
    public var series: [Series]
    /// Fixed vertical range, or `nil` to fit the data.
    public var yRange: ClosedRange<Double>?
    /// Plot the horizontal axis on a log10 scale.
    public var logX = false
    /// Put the legend in the bottom left corner (for lines that run along the top).
    public var legendAtBottom = false

    private let width = 720.0, height = 420.0
    private let left = 70.0, right = 20.0, top = 40.0, bottom = 60.0

    /// A chart from its parts.
    public init(title: String, xLabel: String, yLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil, logX: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.yRange = yRange
        self.logX = logX
    }

    /// The SVG document.
    public func render() -> String {
        let all = series.flatMap(\.points)
        let xs = all.map { tx($0.x) }, ys = all.map(\.y)
        var xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
        if xMax <= xMin { xMax = xMin + 1 }
        if !logX { xMin = min(xMin, 0) }
        let yMin = yRange?.lowerBound ?? min(0, ys.min() ?? 0)
        var yMax = yRange?.upperBound ?? (ys.max() ?? 1)
        if yMax <= yMin { yMax = yMin + 1 }
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + (tx(x) - xMin) / (xMax - xMin) * plotW }
        func pxRaw(_ t: Double) -> Double { left + (t - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + plotH - (y - yMin) / (yMax - yMin) * plotH }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="22" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title))</text>

        """
        // Grid and ticks.
        for tick in SVGChart.ticks(yMin, yMax) {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(tick)))\" x2=\"\(f(width - right))\" y2=\"\(f(py(tick)))\" stroke=\"#e4e4e4\"/>\n"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(SVGChart.label(tick))</text>\n"
        }
        let xTicks = logX
            ? stride(from: floor(xMin), through: ceil(xMax), by: 1).flatMap { decade in [1.0, 2, 5].map { decade + log10($0) } }
            : SVGChart.ticks(xMin, xMax)
        for tick in xTicks where tick >= xMin && tick <= xMax {
            svg += "<line x1=\"\(f(pxRaw(tick)))\" y1=\"\(f(top))\" x2=\"\(f(pxRaw(tick)))\" y2=\"\(f(top + plotH))\" stroke=\"#f0f0f0\"/>\n"
            let text = logX ? SVGChart.label((pow(10, tick) * 1000).rounded() / 1000) : SVGChart.label(tick)
            svg += "<text x=\"\(f(pxRaw(tick)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(text)</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        svg += "<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        // Lines.
        for line in series where !line.points.isEmpty {
            var path = ""
            var previous: (x: Double, y: Double)?
            for point in line.points {
                let x = px(point.x), y = py(min(max(point.y, yMin), yMax))
                if let previous, line.stepped {
                    path += " L\(f(x)),\(f(previous.y))"
                }
                path += (previous == nil ? "M" : " L") + "\(f(x)),\(f(y))"
                previous = (x, y)
            }
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(line.colour)\" stroke-width=\"2\"/>\n"
        }
        // Legend.
        for (index, line) in series.enumerated() {
            let y = legendAtBottom ? top + plotH - 10 - Double(series.count - 1 - index) * 16 : top + 14 + Double(index) * 16
            svg += "<line x1=\"\(f(left + 10))\" y1=\"\(f(y - 4))\" x2=\"\(f(left + 30))\" y2=\"\(f(y - 4))\" stroke=\"\(line.colour)\" stroke-width=\"2\"/>\n"
            svg += "<text x=\"\(f(left + 36))\" y=\"\(f(y))\">\(escape(line.name))</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    private func tx(_ x: Double) -> Double { logX ? log10(max(x, 1e-3)) : x }

    /// About five round tick values covering [low, high].
    static func ticks(_ low: Double, _ high: Double) -> [Double] {
        let span = high - low
        guard span > 0, span.isFinite else { return [low] }
        let raw = span / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var tick = (low / step).rounded(.up) * step
        while tick <= high + step * 1e-9 {
            out.append(tick)
            tick += step
        }
        return out
    }

    static func label(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        return String(format: abs(value) < 1 ? "%.2f" : "%.1f", value)
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
