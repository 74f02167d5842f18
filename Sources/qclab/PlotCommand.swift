import ArgumentParser
import Foundation
import QCLab

/// `qclab plot`: any output against time, as lines with error bands or as a heat map, in
/// SVG or PNG.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Plot an output against time (populations, energies, q, p, any output), as SVG or PNG.",
        discussion: """
            Lines with ±1 standard-error bands, or for more than ten series a heat map (one \
            row per state or site, colour for the value). Axis labels carry the model's units \
            where it has them (FMOComplex, the Tully problems). PNG is rendered from the SVG \
            by rsvg-convert (librsvg; Debian/Ubuntu package librsvg2-bin).
            """)

    enum Style: String, ExpressibleByArgument, CaseIterable {
        case auto, lines, heatmap
    }

    @Argument(help: "An HDF5 output of qclab (or of QC Lab's Data.save).")
    var file: String

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp(
            "What to plot: populations, energies, or an output's name (q, p, quantum_energy, ...).",
            valueName: "quantity"))
    var quantity: String = "populations"

    @Option(help: "lines, heatmap, or auto (a heat map for more than ten series).")
    var style: Style = .auto

    @Option(
        name: .shortAndLong,
        help: "Where to write the picture: a .svg or .png file. Default: the input's name with .svg.")
    var output: String?

    @Option(help: "The title above the plot. Default: the quantity, model and algorithm.")
    var title: String?

    func run() throws {
        reportingErrors {
            let what = PlotQuantity(name: quantity)
            let destination = output ?? Self.defaultOutput(for: file, quantity: what)
            let target = try OutputPath.checkWritable(destination, protecting: [("input", file)])
            let format = try ImageFormat(path: destination)
            if format == .png { _ = try Rasterizer.executable() }
            let (data, unchecked) = try SimulationData.load(contentsOf: file)
            let series: PlotSeries
            do {
                series = try PlotSeries(data: data, quantity: what)
            } catch let QCLabError.unusableData(reason) {
                throw QCLabError.unusableData("'\(file)': \(reason)")
            }
            let heatMap = style == .heatmap || (style == .auto && series.values.count > 10)
            let svg =
                heatMap
                ? try HeatMapPlot(data: data, quantity: what, title: title).svg()
                : try TimeSeriesPlot(data: data, quantity: what, title: title).svg()
            switch format {
            case .svg: try target.write(bytes: Array(svg.utf8))
            case .png: try target.write(bytes: Rasterizer.png(svg: svg))
            }
            let shape =
                heatMap
                ? "heat map"
                : what == .energies
                    ? "lines, changes since t = 0"
                    : series.standardErrors == nil
                        ? "lines, no error bars in the data" : "lines with standard-error bands"
            if let unchecked {
                let notes = Notes()
                notes.add(unchecked)
                notes.print()
            }
            try StandardStreams.writeOutput(
                "wrote \(destination): \(what.name), \(series.values.count) series at \(series.times.count) times (\(shape))\n"
            )
        }
    }

    static func defaultOutput(for input: String, quantity: PlotQuantity) -> String {
        let url = URL(fileURLWithPath: input)
        let stem =
            url.deletingPathExtension().lastPathComponent + (quantity == .populations ? "" : "-" + quantity.name)
        let folder = (input as NSString).deletingLastPathComponent
        return folder.isEmpty ? stem + ".svg" : folder + "/" + stem + ".svg"
    }
}

/// The picture formats `qclab plot` writes, chosen by the output's extension.
enum ImageFormat {
    case svg, png

    init(path: String) throws {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "svg": self = .svg
        case "png": self = .png
        default: throw QCLabError.invalidPath("cannot tell the picture format of '\(path)': name it .svg or .png")
        }
    }
}

/// PNG from SVG through rsvg-convert (librsvg, GNOME's SVG renderer), run as a child
/// process: a maintained renderer with real font shaping, packaged everywhere, and no
/// cairo/glib dependency for the library or for programs that never draw a PNG.
enum Rasterizer {
    /// The rsvg-convert on PATH, or a one-line error saying how to install it.
    static func executable() throws -> String {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for folder in folders {
            let candidate = String(folder) + "/rsvg-convert"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw QCLabError.invalidPath(
            "PNG output needs rsvg-convert, which is not on PATH "
                + "(install librsvg2-bin on Debian/Ubuntu), or name the output .svg")
    }

    /// `svg` rendered as PNG at twice its size, sharp on high-density screens and in print.
    ///
    /// The SVG goes to rsvg-convert's standard input, the PNG comes from its output, so no file is
    /// made but the one the caller writes atomically. rsvg-convert has `QCLAB_RASTERIZER_SECONDS`
    /// (seconds in (0, 86400], default 60) to finish; past it, it is killed and reaped, and the
    /// plot fails with one line.
    static func png(svg: String) throws -> [UInt8] {
        let seconds = try EnvironmentSettings.seconds("QCLAB_RASTERIZER_SECONDS", default: 60)
        let outcome = try ChildProcess.run(
            try executable(), role: "rsvg-convert",
            arguments: ["--zoom", "2", "--background-color", "white", "--format", "png"],
            environment: ProcessInfo.processInfo.environment, input: Array(svg.utf8), seconds: seconds)
        let message = String(decoding: outcome.errors, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(
            String.init)
        func failure(_ reason: String) -> QCLabError { .system("rsvg-convert could not render the plot: \(reason)") }
        if outcome.timedOut {
            throw failure(
                "it did not finish in \(Summary.number(seconds, "%g")) s and was stopped (QCLAB_RASTERIZER_SECONDS sets the limit)"
            )
        }
        guard outcome.exitStatus == 0 else { throw failure(message ?? outcome.ending) }
        if outcome.inputRefused {
            throw failure("it exited (status 0) without reading the whole SVG" + (message.map { ": \($0)" } ?? ""))
        }
        guard outcome.output.starts(with: [0x89, 0x50, 0x4e, 0x47]) else {
            throw failure(
                "it exited (status 0) but wrote " + (outcome.output.isEmpty ? "nothing" : "no PNG")
                    + (message.map { ": \($0)" } ?? ""))
        }
        return outcome.output
    }
}
