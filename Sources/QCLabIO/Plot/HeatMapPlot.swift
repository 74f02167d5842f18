import QCLabCore
import QCLabSystem
import Foundation

/// An SVG heat map of many series against time.
///
/// One row per series (a lattice site, a state, a coordinate), time along the horizontal axis, the
/// value as colour (viridis, with a colour bar). What `qclab plot` draws for more than ten states,
/// where lines tangle.
///
/// Pure string building, no I/O. Cells are `<rect class="cell">`; neighbouring cells of a
/// row whose colours quantize to the same of 64 levels are drawn as one rectangle, so that
/// a long run stays a small file.
package struct HeatMapPlot: Sendable {
    package var times: [Double]
    /// `values[series][time]`.
    package var values: [[Double]]
    package var title: String
    package var subtitle: String?
    package var xLabel = "time"
    /// The label of the rows' axis ("state").
    package var rowLabel = "state"
    /// The label of the colour bar ("population").
    package var valueLabel = "population"
    package var width: Double = 880
    package var height: Double = 520
    /// At most this many columns of cells: longer runs are sampled at evenly spaced times.
    package var maximumColumns = 400

    package init(times: [Double], values: [[Double]], title: String = "Diabatic populations", subtitle: String? = nil)
    {
        self.times = times
        self.values = values
        self.title = title
        self.subtitle = subtitle
    }

    /// The heat map of `quantity` in `data` (its mean; error bars have no place in it, and
    /// the subtitle says how many samples stand behind the values).
    package init(data: SimulationData, quantity: PlotQuantity = .populations, title: String? = nil) throws {
        let series = try PlotSeries(data: data, quantity: quantity)
        self.init(
            times: series.times, values: series.values, title: title ?? series.title,
            subtitle: Self.withoutBands(series.subtitle))
        xLabel = series.timeLabel
        valueLabel = series.valueLabel
        rowLabel = quantity == .populations ? "state" : "element of \(quantity.name)"
    }

    package static func withoutBands(_ subtitle: String) -> String {
        String(subtitle.split(separator: ";").first ?? Substring(subtitle))
    }

    /// The SVG document.
    package func svg() -> String {
        typealias P = TimeSeriesPlot
        let rows = values.count, count = times.count
        let left = 84.0, top = subtitle == nil ? 64.0 : 84.0, bottom = 64.0, right = 120.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let finite = values.joined().filter(\.isFinite)
        var low = min(0, finite.min() ?? 0), high = finite.max() ?? 1
        if !(high > low) { high = low + 1 }
        let firstTime = times.first ?? 0, lastTime = times.count > 1 ? times[times.count - 1] : firstTime + 1
        let span = lastTime > firstTime ? lastTime - firstTime : 1
        func x(_ t: Double) -> Double { left + (t - firstTime) / span * plotWidth }
        let rowHeight = rows > 0 ? plotHeight / Double(rows) : plotHeight

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(P.number(width))" height="\(P.number(height))" \
            viewBox="0 0 \(P.number(width)) \(P.number(height))" font-family="Helvetica, Arial, sans-serif" font-size="14">

            """
        svg += "<title>\(P.escape(title))</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg +=
            "<text class=\"title\" x=\"\(P.number(left + plotWidth / 2))\" y=\"30\" text-anchor=\"middle\" "
            + "font-size=\"20\" font-weight=\"bold\" fill=\"#222\">\(P.escape(title))</text>\n"
        if let subtitle {
            svg +=
                "<text class=\"subtitle\" x=\"\(P.number(left + plotWidth / 2))\" y=\"54\" text-anchor=\"middle\" "
                + "font-size=\"13\" fill=\"#666\">\(P.escape(subtitle))</text>\n"
        }

        // Columns: every time, or evenly spaced ones; each cell spans half-way to its neighbours.
        let columns =
            count <= maximumColumns
            ? Array(0..<count)
            : (0..<maximumColumns).map { Int((Double($0) * Double(count - 1) / Double(maximumColumns - 1)).rounded()) }
        func edge(_ c: Int) -> Double {
            if c <= 0 { return left }
            if c >= columns.count { return left + plotWidth }
            return (x(times[columns[c - 1]]) + x(times[columns[c]])) / 2
        }
        let levels = 64
        func level(_ v: Double) -> Int? {
            guard v.isFinite else { return nil }
            return min(levels - 1, max(0, Int((v - low) / (high - low) * Double(levels))))
        }
        svg += "<g class=\"cells\" stroke=\"none\" shape-rendering=\"crispEdges\">\n"
        for row in 0..<rows {
            // Row 0 at the top, as in a matrix.
            let y = top + Double(row) * rowHeight
            var start = 0
            while start < columns.count {
                let current = level(values[row][columns[start]])
                var end = start + 1
                while end < columns.count && level(values[row][columns[end]]) == current { end += 1 }
                if let current {
                    let colour = ColourScale.viridis((Double(current) + 0.5) / Double(levels))
                    svg +=
                        "<rect class=\"cell\" x=\"\(P.number(edge(start)))\" y=\"\(P.number(y))\" "
                        + "width=\"\(P.number(edge(end) - edge(start)))\" height=\"\(P.number(rowHeight))\" fill=\"\(colour)\"/>\n"
                }
                start = end
            }
        }
        svg += "</g>\n"

        // Frame, time ticks, row ticks.
        svg +=
            "<rect x=\"\(P.number(left))\" y=\"\(P.number(top))\" width=\"\(P.number(plotWidth))\" height=\"\(P.number(plotHeight))\" "
            + "fill=\"none\" stroke=\"#333\" stroke-width=\"1.25\"/>\n<g class=\"tick-labels\" fill=\"#333\" font-size=\"13\">\n"
        let xTicks = P.ticks(firstTime, lastTime, target: 7)
        for value in xTicks.values where value >= firstTime - 1e-9 * span && value <= lastTime + 1e-9 * span {
            let px = P.number(x(value)), base = top + plotHeight
            svg +=
                "<line x1=\"\(px)\" x2=\"\(px)\" y1=\"\(P.number(base))\" y2=\"\(P.number(base + 5))\" stroke=\"#333\"/>"
            svg +=
                "<text x=\"\(px)\" y=\"\(P.number(base + 22))\" text-anchor=\"middle\">\(P.label(value, step: xTicks.step))</text>\n"
        }
        let rowStep = max(1, Int(P.ticks(0, Double(max(1, rows - 1)), target: 8).step.rounded()))
        for row in Swift.stride(from: 0, to: rows, by: rowStep) {
            let py = P.number(top + (Double(row) + 0.5) * rowHeight)
            svg +=
                "<line x1=\"\(P.number(left - 5))\" x2=\"\(P.number(left))\" y1=\"\(py)\" y2=\"\(py)\" stroke=\"#333\"/>"
            svg +=
                "<text x=\"\(P.number(left - 9))\" y=\"\(py)\" text-anchor=\"end\" dominant-baseline=\"middle\" dy=\"0.1em\">\(row)</text>\n"
        }
        svg += "</g>\n"
        svg += P.axisTitles(
            x: xLabel, y: rowLabel, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight,
            height: height)

        // Colour bar.
        let barX = left + plotWidth + 24, barWidth = 18.0
        svg += "<g class=\"colour-bar\" shape-rendering=\"crispEdges\">\n"
        for k in 0..<levels {
            let y0 = top + plotHeight * (1 - Double(k + 1) / Double(levels))
            svg +=
                "<rect x=\"\(P.number(barX))\" y=\"\(P.number(y0))\" width=\"\(P.number(barWidth))\" "
                + "height=\"\(P.number(plotHeight / Double(levels) + 0.5))\" fill=\"\(ColourScale.viridis((Double(k) + 0.5) / Double(levels)))\"/>\n"
        }
        svg +=
            "<rect x=\"\(P.number(barX))\" y=\"\(P.number(top))\" width=\"\(P.number(barWidth))\" height=\"\(P.number(plotHeight))\" "
            + "fill=\"none\" stroke=\"#333\"/>\n</g>\n<g class=\"colour-bar-labels\" fill=\"#333\" font-size=\"13\">\n"
        let valueTicks = P.ticks(low, high, target: 5)
        for value in valueTicks.values where value >= low - 1e-12 && value <= high + 1e-12 {
            let py = P.number(top + plotHeight * (high - value) / (high - low))
            svg +=
                "<line x1=\"\(P.number(barX + barWidth))\" x2=\"\(P.number(barX + barWidth + 4))\" y1=\"\(py)\" y2=\"\(py)\" stroke=\"#333\"/>"
            svg +=
                "<text x=\"\(P.number(barX + barWidth + 7))\" y=\"\(py)\" dominant-baseline=\"middle\" dy=\"0.1em\">"
                + "\(P.label(value, step: valueTicks.step))</text>\n"
        }
        let barMid = top + plotHeight / 2, labelX = width - 14
        svg +=
            "<text class=\"axis-label value\" x=\"\(P.number(labelX))\" y=\"\(P.number(barMid))\" "
            + "transform=\"rotate(-90 \(P.number(labelX)) \(P.number(barMid)))\" text-anchor=\"middle\" font-size=\"15\" "
            + "fill=\"#222\">\(P.escape(valueLabel))</text>\n</g>\n</svg>\n"
        return svg
    }
}
