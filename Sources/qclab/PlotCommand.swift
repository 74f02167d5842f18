import ArgumentParser
import Foundation
import QCLab

/// `qclab plot`: an SVG of the diabatic populations with error bands.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw the diabatic populations against time, with ±1 standard-error bands, as an SVG.")

    @Argument(help: "An HDF5 output of qclab (or of QC Lab's Data.save).")
    var file: String

    @Option(name: .shortAndLong, help: "Where to write the picture (SVG). Default: the input's name with .svg.")
    var output: String?

    @Option(help: "The title above the plot. Default: the algorithm and model, from the file's log.")
    var title: String?

    func run() throws {
        reportingErrors {
            let destination = output ?? Self.defaultOutput(for: file)
            let target = try OutputPath.checkWritable(destination, protecting: [("input", file)])
            let data = try SimulationData(contentsOf: file)
            let plot: PopulationPlot
            do {
                plot = try PopulationPlot(data: data, title: title)
            } catch let QCLabError.unusableData(reason) {
                throw QCLabError.unusableData("'\(file)': \(reason)")
            }
            try target.write(bytes: Array(plot.svg().utf8))
            print("wrote \(destination): populations of \(plot.populations.count) states at \(plot.times.count) times"
                  + (plot.standardErrors == nil ? ", no error bars in the data" : " with standard-error bands"))
        }
    }

    static func defaultOutput(for input: String) -> String {
        let url = URL(fileURLWithPath: input)
        let stem = url.deletingPathExtension().lastPathComponent
        let folder = (input as NSString).deletingLastPathComponent
        return folder.isEmpty ? stem + ".svg" : folder + "/" + stem + ".svg"
    }
}
