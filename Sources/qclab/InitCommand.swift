import ArgumentParser
import QCLab

/// `qclab init`: a complete job file with every default filled in.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Print a complete job file for a model and an algorithm, with every default filled in.",
        discussion: """
            Every simulation setting, every constant of the model, its init_classical and every \
            setting of the algorithm, at QC Lab's defaults; wf_db puts all of the population on \
            state 0. Edit it and run it: qclab init SpinBoson MeanField > job.json; qclab run job.json. \
            `qclab models` lists the names; docs/Reference.md explains every key.
            """)

    @Argument(help: "A model name (qclab models lists them; any case, or an alias such as tully1).")
    var model: String

    @Argument(help: "An algorithm name (any case, or an alias: mf, fssh, msmash).")
    var algorithm: String = "MeanField"

    func run() throws {
        reportingErrors {
            try StandardStreams.writeOutput(try JobCatalog.defaultJob(model: model, algorithm: algorithm))
        }
    }
}
