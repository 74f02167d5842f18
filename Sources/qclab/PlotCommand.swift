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
            try OutputPath.checkWritable(destination)
            let data = try SimulationData(contentsOf: file)
            let plot: PopulationPlot
            do {
                plot = try PopulationPlot(data: data, title: title)
            } catch let QCLabError.unusableData(reason) {
                throw QCLabError.unusableData("'\(file)': \(reason)")
            }
            try AtomicFile.write(plot.svg(), to: destination)
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

/// Writes a text file under a temporary name beside the target, then renames it into
/// place, so that a failure never leaves a partial file.
enum AtomicFile {
    static func write(_ text: String, to path: String) throws {
        try OutputPath.checkWritable(path)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw QCLabError.invalidPath("output path '\(path)' is a folder")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))").path
        guard FileManager.default.createFile(atPath: temporary, contents: Foundation.Data(text.utf8)) else {
            throw QCLabError.invalidPath("cannot write '\(path)'")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw QCLabError.invalidPath("cannot write '\(path)': \(reason)")
        }
    }
}
