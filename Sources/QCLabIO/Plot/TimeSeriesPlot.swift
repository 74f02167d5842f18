import QCLabCore
import QCLabSystem
import Foundation

/// An SVG line plot of one quantity against time, one line per series (populations of
/// each state, the energies, each coordinate of `q`...), with shaded bands of plus or minus
/// one standard error: what `qclab plot --style lines` draws.
///
/// Pure string building, no I/O: ``svg()`` returns the document, and the caller writes it
/// (or rasterizes it). Each series gets a line (`<path class="line state-k">`) and, when
/// error bars are known, a band (`<path class="band state-k">`); the axes carry their
/// labels (with units where the model has them) and tick labels; the legend names the
/// series (at most ten; with more it names ten spread over them, and a note says how the
/// colours run; ``HeatMapPlot`` suits many series better).
package struct TimeSeriesPlot: Sendable {
    /// Collect times.
    package var times: [Double]
    /// `values[series][time]`.
    package var values: [[Double]]
    /// Standard errors of the values, `[series][time]`, or nil for no bands.
    package var standardErrors: [[Double]]?
    /// The legend's name of each series.
    package var names: [String]
    /// The title above the plot.
    package var title: String
    /// A smaller line under the title (sample count, what the bands mean).
    package var subtitle: String?
    /// The axis labels.
    package var xLabel = "time"
    package var yLabel = "population"
    /// Whether the value axis always shows 0 (and, for values up to 1, all of [0, 1]), as
    /// populations want.
    package var includesZero = true
    /// Size of the picture in SVG user units (pixels).
    package var width: Double = 880
    package var height: Double = 520

    package init(
        times: [Double], values: [[Double]], standardErrors: [[Double]]? = nil, names: [String]? = nil,
        title: String = "Diabatic populations", subtitle: String? = nil
    ) {
        self.times = times
        self.values = values
        self.standardErrors = standardErrors
        self.names = names ?? values.indices.map { "state \($0)" }
        self.title = title
        self.subtitle = subtitle
    }

    /// The plot of `quantity` in `data`: its mean, with bands from its standard error.
    ///
    /// There are bands only when the standard error is not zero throughout (QC Lab's files hold no
    /// error bars, and then there are no bands). The default title names the quantity, model and
    /// algorithm (from the data's log); the subtitle gives the sample count and the bands' meaning.
    package init(data: SimulationData, quantity: PlotQuantity = .populations, title: String? = nil) throws {
        let series = try PlotSeries(data: data, quantity: quantity)
        self.init(
            times: series.times, values: series.values, standardErrors: series.standardErrors,
            names: series.names, title: title ?? series.title, subtitle: series.subtitle)
        xLabel = series.timeLabel
        yLabel = series.valueLabel
        includesZero = quantity == .populations
    }

    // MARK: Layout

    /// Colours for up to ten series that all read on white: Paul Tol's "bright" and
    /// "muted" qualitative schemes (colour-blind safe), darkened where needed so that each has at
    /// least 3:1 contrast against white.
    package static let categorical = [
        "#4477aa", "#d9485f", "#228833", "#b8860b", "#1a85b8",
        "#aa3377", "#332288", "#882255", "#2e8b7a", "#666666",
    ]

    /// The colour of `series` of `count`: categorical up to ten series, else a ramp from
    /// series 0 (dark blue-violet) through teal to the last (orange-brown), which stays
    /// dark enough to read on white (viridis without its pale yellow end).
    package static func colour(_ series: Int, of count: Int) -> String {
        if count <= categorical.count { return categorical[series] }
        return ColourScale.lineRamp(Double(series) / Double(max(1, count - 1)))
    }

    /// States named in the legend: all up to ten, else ten spread evenly from first to last.
    package static func legendStates(_ count: Int) -> [Int] {
        guard count > 10 else { return Array(0..<count) }
        return (0..<10).map { Int((Double($0) * Double(count - 1) / 9).rounded()) }
    }

    /// Round tick values covering `lower...upper`: steps of 1, 2 or 5 times a power of ten.
    package static func ticks(_ lower: Double, _ upper: Double, target: Int = 6) -> (values: [Double], step: Double) {
        var (lo, hi) = (lower, upper)
        if !(hi > lo) { (lo, hi) = (lo - 0.5, lo + 0.5) }
        let rough = (hi - lo) / Double(target)
        let power = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * power }.first { $0 >= rough } ?? 10 * power
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        let values = stride(from: first, through: last + 0.5, by: 1).map { $0 * step }
        return (values, step)
    }

    /// A tick label with just the decimals the step needs.
    package static func label(_ value: Double, step: Double) -> String {
        let decimals = max(
            0,
            min(10, Int(-floor(log10(step) + 1e-9)) + (abs(step / pow(10, floor(log10(step))) - 2.5) < 1e-9 ? 1 : 0)))
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    /// The two axis titles: `x` centred under the plot, `y` turned a quarter left beside it.
    package static func axisTitles(
        x: String, y: String, left: Double, top: Double, plotWidth: Double, plotHeight: Double,
        height: Double
    ) -> String {
        let yMid = top + plotHeight / 2
        return "<text class=\"axis-label x\" x=\"\(number(left + plotWidth / 2))\" y=\"\(number(height - 16))\" "
            + "text-anchor=\"middle\" font-size=\"15\" fill=\"#222\">\(escape(x))</text>\n"
            + "<text class=\"axis-label y\" x=\"22\" y=\"\(number(yMid))\" transform=\"rotate(-90 22 \(number(yMid)))\" "
            + "text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"15\" fill=\"#222\">\(escape(y))</text>\n"
    }

    package static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    package static func number(_ x: Double) -> String {
        let text = String(format: "%.2f", x)
        return text.hasSuffix(".00") ? String(text.dropLast(3)) : text
    }

    // MARK: Drawing

    /// The SVG document.
    package func svg() -> String {
        let states = values.count
        let count = times.count
        // Plot area: room for the title above, tick labels and axis titles left and below,
        // and the legend on the right, outside the data.
        let left = 84.0, top = subtitle == nil ? 64.0 : 84.0, bottom = 64.0
        let legendWidth = states > 0 ? 150.0 : 0
        let right = 24.0 + legendWidth
        let plotWidth = width - left - right, plotHeight = height - top - bottom

        // Ranges from finite values only; populations always show 0.
        let firstTime = times.first(where: \.isFinite) ?? 0, lastTime = times.last(where: \.isFinite) ?? 1
        var yLow = includesZero ? 0.0 : Double.infinity, yHigh = includesZero ? 0.0 : -Double.infinity
        for state in 0..<states {
            for k in 0..<min(count, values[state].count) where values[state][k].isFinite {
                let e = standardErrors.map { $0[state][k].isFinite ? $0[state][k] : 0 } ?? 0
                yLow = min(yLow, values[state][k] - e)
                yHigh = max(yHigh, values[state][k] + e)
            }
        }
        // Populations usually fill [0, 1]: show all of it, and a little room around the data.
        if !yLow.isFinite || !yHigh.isFinite { (yLow, yHigh) = (0, 1) }
        if includesZero && yHigh <= 1 && yHigh > 0.5 { yHigh = 1 }
        if yHigh <= yLow { (yLow, yHigh) = (yLow - 0.5 * max(1, abs(yLow)), yHigh + 0.5 * max(1, abs(yHigh))) }
        let padding = 0.03 * (yHigh - yLow)
        let yMin = yLow - padding, yMax = yHigh + padding
        let xTicks = Self.ticks(firstTime, lastTime == firstTime ? firstTime + 1 : lastTime, target: 7)
        let yTicks = Self.ticks(yLow, yHigh, target: 5)
        let xLow = firstTime, xHigh = lastTime > firstTime ? lastTime : firstTime + 1
        func x(_ t: Double) -> Double { left + (t - xLow) / (xHigh - xLow) * plotWidth }
        func y(_ p: Double) -> Double { top + (yMax - p) / (yMax - yMin) * plotHeight }

        // At most about two points per horizontal pixel.
        let strideBy = max(1, count / Int(max(1, 2 * plotWidth)))
        var indices = Array(Swift.stride(from: 0, to: count, by: strideBy))
        if let last = indices.last, last != count - 1 { indices.append(count - 1) }

        var svg = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.number(width))" height="\(Self.number(height))" \
            viewBox="0 0 \(Self.number(width)) \(Self.number(height))" font-family="Helvetica, Arial, sans-serif" font-size="14">

            """
        svg += "<title>\(Self.escape(title))</title>\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg +=
            "<defs><clipPath id=\"plot-area\"><rect x=\"\(Self.number(left))\" y=\"\(Self.number(top))\" "
            + "width=\"\(Self.number(plotWidth))\" height=\"\(Self.number(plotHeight))\"/></clipPath></defs>\n"

        // Title and subtitle.
        svg +=
            "<text class=\"title\" x=\"\(Self.number(left + plotWidth / 2))\" y=\"30\" text-anchor=\"middle\" "
            + "font-size=\"20\" font-weight=\"bold\" fill=\"#222\">\(Self.escape(title))</text>\n"
        if let subtitle {
            svg +=
                "<text class=\"subtitle\" x=\"\(Self.number(left + plotWidth / 2))\" y=\"54\" text-anchor=\"middle\" "
                + "font-size=\"13\" fill=\"#666\">\(Self.escape(subtitle))</text>\n"
        }

        // Grid and ticks.
        svg += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n"
        for value in yTicks.values where value >= yMin && value <= yMax {
            svg +=
                "<line x1=\"\(Self.number(left))\" x2=\"\(Self.number(left + plotWidth))\" y1=\"\(Self.number(y(value)))\" y2=\"\(Self.number(y(value)))\"/>\n"
        }
        for value in xTicks.values
        where value >= xLow - 1e-9 * (xHigh - xLow) && value <= xHigh + 1e-9 * (xHigh - xLow) {
            svg +=
                "<line x1=\"\(Self.number(x(value)))\" x2=\"\(Self.number(x(value)))\" y1=\"\(Self.number(top))\" y2=\"\(Self.number(top + plotHeight))\"/>\n"
        }
        svg += "</g>\n"

        // Bands, then lines, clipped to the plot area.
        if let errors = standardErrors {
            svg +=
                "<g class=\"bands\" clip-path=\"url(#plot-area)\" stroke=\"none\" fill-opacity=\"\(states > 10 ? "0.12" : "0.22")\">\n"
            for state in 0..<states {
                for segment in segments(indices, state) {
                    let upper = segment.map {
                        "\(Self.number(x(times[$0]))),\(Self.number(y(values[state][$0] + errors[state][$0])))"
                    }
                    let lower = segment.reversed().map {
                        "\(Self.number(x(times[$0]))),\(Self.number(y(values[state][$0] - errors[state][$0])))"
                    }
                    svg +=
                        "<path class=\"band state-\(state)\" fill=\"\(Self.colour(state, of: states))\" d=\"M"
                        + (upper + lower).joined(separator: " L") + " Z\"/>\n"
                }
            }
            svg += "</g>\n"
        }
        svg +=
            "<g class=\"lines\" clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"\(states > 10 ? "1.5" : "2.25")\" "
            + "stroke-linejoin=\"round\" stroke-linecap=\"round\">\n"
        for state in 0..<states {
            let d = segments(indices, state).map { segment in
                "M"
                    + segment.map { "\(Self.number(x(times[$0]))),\(Self.number(y(values[state][$0])))" }.joined(
                        separator: " L")
            }.joined(separator: " ")
            svg +=
                "<path class=\"line state-\(state)\" stroke=\"\(Self.colour(state, of: states))\" d=\"\(d)\"><title>\(Self.escape(names[state]))</title></path>\n"
        }
        svg += "</g>\n"

        // Axes, tick marks and tick labels.
        svg += "<g class=\"axes\" stroke=\"#333\" stroke-width=\"1.25\" fill=\"none\">\n"
        svg +=
            "<path d=\"M\(Self.number(left)),\(Self.number(top)) L\(Self.number(left)),\(Self.number(top + plotHeight)) "
            + "L\(Self.number(left + plotWidth)),\(Self.number(top + plotHeight))\"/>\n"
        svg += "</g>\n<g class=\"tick-labels\" fill=\"#333\" font-size=\"13\">\n"
        for value in yTicks.values where value >= yMin && value <= yMax {
            let py = Self.number(y(value))
            svg +=
                "<line x1=\"\(Self.number(left - 5))\" x2=\"\(Self.number(left))\" y1=\"\(py)\" y2=\"\(py)\" stroke=\"#333\"/>"
            svg +=
                "<text x=\"\(Self.number(left - 9))\" y=\"\(py)\" text-anchor=\"end\" dominant-baseline=\"middle\" dy=\"0.1em\">"
                + "\(Self.label(value, step: yTicks.step))</text>\n"
        }
        for value in xTicks.values
        where value >= xLow - 1e-9 * (xHigh - xLow) && value <= xHigh + 1e-9 * (xHigh - xLow) {
            let px = Self.number(x(value)), base = top + plotHeight
            svg +=
                "<line x1=\"\(px)\" x2=\"\(px)\" y1=\"\(Self.number(base))\" y2=\"\(Self.number(base + 5))\" stroke=\"#333\"/>"
            svg +=
                "<text x=\"\(px)\" y=\"\(Self.number(base + 22))\" text-anchor=\"middle\">\(Self.label(value, step: xTicks.step))</text>\n"
        }
        svg += "</g>\n"
        svg += Self.axisTitles(
            x: xLabel, y: yLabel, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight,
            height: height)

        // Legend, to the right of the plot.
        if states > 0 {
            let legendX = left + plotWidth + 22, shown = Self.legendStates(states)
            svg += "<g class=\"legend\" font-size=\"13\" fill=\"#222\">\n"
            var rowY = top + 8
            for state in shown {
                let colour = Self.colour(state, of: states)
                if let errors = standardErrors, errors[state].contains(where: { $0 > 0 }) {
                    svg +=
                        "<rect x=\"\(Self.number(legendX))\" y=\"\(Self.number(rowY - 7))\" width=\"26\" height=\"14\" fill=\"\(colour)\" fill-opacity=\"0.22\"/>"
                }
                svg +=
                    "<line x1=\"\(Self.number(legendX))\" x2=\"\(Self.number(legendX + 26))\" y1=\"\(Self.number(rowY))\" y2=\"\(Self.number(rowY))\" "
                    + "stroke=\"\(colour)\" stroke-width=\"2.5\"/>"
                svg +=
                    "<text class=\"legend-entry\" x=\"\(Self.number(legendX + 34))\" y=\"\(Self.number(rowY))\" dominant-baseline=\"middle\" dy=\"0.1em\">\(Self.escape(names[state]))</text>\n"
                rowY += 22
            }
            if shown.count < states {
                rowY += 4
                for line in [
                    "\(states) series; colour runs", "from \(names[0]) (violet)", "to \(names[states - 1]) (orange)",
                ] {
                    svg +=
                        "<text class=\"legend-note\" x=\"\(Self.number(legendX))\" y=\"\(Self.number(rowY))\" font-size=\"12\" fill=\"#666\">\(line)</text>\n"
                    rowY += 16
                }
            }
            svg += "</g>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// Runs of `indices` over which `state` (and its error) is finite, so that a NaN or an
    /// infinity breaks the line instead of producing an invalid path.
    private func segments(_ indices: [Int], _ state: Int) -> [[Int]] {
        var result: [[Int]] = [], current: [Int] = []
        for k in indices where k < values[state].count {
            let error = standardErrors.map { $0[state][k] } ?? 0
            if times[k].isFinite && values[state][k].isFinite && error.isFinite {
                current.append(k)
            } else if !current.isEmpty {
                result.append(current)
                current = []
            }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
