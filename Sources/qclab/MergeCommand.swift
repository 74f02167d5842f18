import ArgumentParser
import Foundation
import QCLab

/// `qclab merge`: combines the outputs of separate runs of one job into one file.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Combine the outputs of separate runs of one job (a SLURM array, say) into one file.",
        discussion: """
            Exact for parts written with their exact sums (--mergeable, or --seeds): the \
            merged file holds the same bits as one run of all their seeds, error bars \
            included; parts without them are combined in floating point, and a line says so. Refuses files of different jobs (naming the first \
            difference), files that share a seed (the same trajectory would count twice), \
            and files that differ in time grid or outputs. Every file is verified against \
            its checksums; a file without them (QC Lab's) is read unchecked, and one that \
            records no job is compared on its outputs, shapes and time grid alone (refused \
            under --strict). Seeds missing between the smallest and the largest merged (a \
            part not given, say) are named in a warning; --require-contiguous refuses them \
            instead. docs/Reference.md has the details.
            """)

    @Argument(help: "The HDF5 outputs to merge (at least one).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Where to write the merged result (HDF5).")
    var output: String

    @Flag(help: "Refuse to merge when seeds are missing between the smallest and the largest (a part not given).")
    var requireContiguous = false

    @Flag(help: "Refuse a file that records no job (QC Lab's), whose job cannot be compared.")
    var strict = false

    @Flag(
        name: .customLong("trust-job"),
        help: "Merge data of a model that records none of its properties (its jobs cannot be compared).")
    var trustJob = false

    @Flag(
        help: "Keep the exact sums in the merged file too (when every part has them), so that it merges again exactly."
    )
    var mergeable = false

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give the HDF5 files to merge") }
    }

    func run() throws {
        reportingErrors {
            try OutputPath.checkWritable(output)
            let notes = Notes()
            var merged = try SimulationData.merging(
                files: inputs, comparison: JobComparison(strict: strict, trustJob: trustJob),
                note: notes.add)
            if let gaps = SeedList.describeGaps(merged.seeds) {
                if requireContiguous { throw QCLabError.incompatibleData("\(gaps) (--require-contiguous)") }
                warn([gaps])
                merged.log += "Warning: \(gaps)\n"
            }
            try merged.save(to: output, mergeable: mergeable)
            notes.print()
            try StandardStreams.writeOutput(
                "wrote \(output): \(merged.normFactor) trajectories (seeds \(SeedList.describe(merged.seeds))) from \(inputs.count) file\(inputs.count == 1 ? "" : "s")\n"
            )
        }
    }
}
