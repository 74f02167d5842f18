import ArgumentParser
import Foundation
import QCLab

/// `qclab info`: what an output file holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract:
            "Show what an output file holds: its job (model, constants, algorithm, settings), trajectories, seeds, time grid, outputs, error bars."
    )

    @Argument(help: "An HDF5 output of qclab (or of QC Lab's Data.save).")
    var file: String

    @Flag(help: "Also print the run's log.")
    var log = false

    func run() throws {
        reportingErrors {
            let (data, unchecked) = try SimulationData.load(contentsOf: file)
            let names = try SimulationData.datasetNames(inFileAt: file)
            var text =
                "file:" + String(repeating: " ", count: 9) + file + "\n" + data.summary(datasetNames: names) + "\n"
            text += "checksums:    " + (unchecked == nil ? "verified" : "none (read unchecked)") + "\n"
            if log { text += "\n" + data.log + (data.log.hasSuffix("\n") ? "" : "\n") }
            try StandardStreams.writeOutput(text)
        }
    }
}
