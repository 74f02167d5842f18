import ArgumentParser
import Foundation
import Logging
import QCLab
@_spi(Benchmarks) import QCLabCore

/// `qclab`: run QC Lab jobs from the command line.
@main
struct QCLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qclab",
        abstract: "Mixed quantum-classical dynamics (mean-field and surface hopping), QC Lab 1.3.0 compatible.",
        subcommands: [
            RunCommand.self, InfoCommand.self, PlotCommand.self, MergeCommand.self, ModelsCommand.self,
            InitCommand.self,
            CheckInputCommand.self,
        ],
        defaultSubcommand: nil)

    /// Parses the command line and runs the chosen subcommand.
    ///
    /// Help and version print as usual; any mistake on the command line ends in one line on
    /// standard error (`qclab: error: ...`, pointing at `--help`) and ArgumentParser's exit
    /// status.
    static func main() {
        StandardStreams.ignoreWriteSignals()
        ErrorLine.checkEnvironment()
        fixLinearAlgebraThreads()
        rejectUnknownSubcommand()
        do {
            var command = try parseAsRoot()
            reportingErrors { try InputCheck.checkReadable(hdf5Inputs(of: command)) }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code != .success else {
                // Help and version, through the checked writer like every other output.
                reportingErrors { try StandardStreams.writeOutput(fullMessage(for: error) + "\n") }
                Foundation.exit(0)
            }
            let message = self.message(for: error)
                .split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
                .joined(separator: " ")
            let arguments = CommandLine.arguments.dropFirst()
            let subcommand = configuration.subcommands
                .map { $0.configuration.commandName ?? "" }
                .first { arguments.first == $0 }
            let help = "see 'qclab " + (subcommand.map { $0 + " " } ?? "") + "--help'"
            let errorCode = QCLabError.code(of: error)?.rawValue ?? ErrorLine.usage
            StandardStreams.writeError(ErrorLine.text("\(message) (\(help))", code: errorCode))
            Foundation.exit(code.rawValue)
        }
    }
}

extension QCLabCommand {
    /// Ends with one line when the first argument is a word that names no subcommand
    /// (`qclab export`), where ArgumentParser would report "unexpected arguments".
    static func rejectUnknownSubcommand() {
        guard let first = CommandLine.arguments.dropFirst().first, !first.hasPrefix("-") else { return }
        let all = configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
        guard !all.contains(first) else { return }
        let names =
            configuration.subcommands.filter { $0.configuration.shouldDisplay }
            .compactMap { $0.configuration.commandName } + ["help"]
        StandardStreams.writeError(
            ErrorLine.text(
                "unknown subcommand '\(first)' (known: \(names.dropLast().joined(separator: ", ")); see 'qclab --help')",
                code: ErrorLine.usage))
        Foundation.exit(ExitCode.validationFailure.rawValue)
    }
}

/// Fixes OpenBLAS at one thread in this process before any BLAS call.
///
/// OpenBLAS starts its threads as it loads, before `main`: as many as there are cores
/// unless `OPENBLAS_NUM_THREADS` says otherwise (it reads nothing later). Those threads
/// are what resource limits wedge: under `ulimit -v` its shutdown at exit waits for ever on
/// them, and under `ulimit -u` it stops the process (SIGINT) when it cannot start them.
/// qclab's drivers give every worker one BLAS thread, so the serial driver runs with one
/// too (the forked and serial results are the same bits either way): when OpenBLAS has
/// started more, qclab sets `OPENBLAS_NUM_THREADS=1` and starts itself again (execv keeps
/// the process id; no other thread of ours exists yet). Should that fail, it lowers the
/// count in place, which leaves the extra threads idle.
private func fixLinearAlgebraThreads() {
    guard linearAlgebraThreads() > 1 else { return }
    // Already restarted (or told so), and still more: never restart again.
    guard ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"] != "1" else { return setLinearAlgebraThreads(1) }
    setenv("OPENBLAS_NUM_THREADS", "1", 1)
    let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
    execv("/proc/self/exe", arguments)
    setLinearAlgebraThreads(1)
}

/// The HDF5 files `command` reads, checked in a child process first (``InputCheck``).
private func hdf5Inputs(of command: ParsableCommand) -> [String] {
    switch command {
    case let info as InfoCommand: return [info.file]
    case let plot as PlotCommand: return [plot.file]
    case let merge as MergeCommand: return merge.inputs
    // Under MPI only rank 0 reads files (the others may not even see the path).
    case let run as RunCommand where run.driver == .mpi && !MPILauncher.isFirstRank(): return []
    case let run as RunCommand: return run.append.map { [$0] } ?? []
    default: return []
    }
}

/// Exits with status 1 and a one-line reason on standard error.
func fail(_ message: String, code: String = ErrorLine.other) -> Never {
    StandardStreams.writeError(ErrorLine.text(message, code: code))
    exit(1)
}

/// The line that reports an error on standard error.
///
/// `qclab: error: MESSAGE` by default; with `QCLAB_ERROR_CODES=1`, `qclab: error[CODE]:
/// MESSAGE`, for programs (the Python bridge) that switch on CODE: a ``QCLabError/Code``
/// raw value, `usage` for a mistake on the command line, or `other`.
enum ErrorLine {
    /// The code of a mistake on the command line (ArgumentParser's errors).
    static let usage = "usage"
    /// The code of an error that has none of its own.
    static let other = "other"
    private static let setting = ProcessInfo.processInfo.environment["QCLAB_ERROR_CODES"]

    /// The error line (newline included) for `message`.
    static func text(_ message: String, code: String) -> String {
        (setting == "1" ? "qclab: error[\(code)]: " : "qclab: error: ") + message + "\n"
    }

    /// The error line for `error`.
    static func text(for error: Error) -> String {
        text(QCLabError.describe(error), code: QCLabError.code(of: error)?.rawValue ?? other)
    }

    /// Refuses a `QCLAB_ERROR_CODES` other than unset, `0` or `1`.
    static func checkEnvironment() {
        guard let setting, setting != "0", setting != "1" else { return }
        fail(
            QCLabError.invalidEnvironment(variable: "QCLAB_ERROR_CODES", value: setting, expected: "0 or 1")
                .description,
            code: QCLabError.Code.invalidEnvironment.rawValue)
    }
}

/// Runs `body`, turning a thrown error into a one-line message and exit status 1.
func reportingErrors<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch let error as CleanExit {
        QCLabCommand.exit(withError: error)
    } catch {
        fail(QCLabError.describe(error), code: QCLabError.code(of: error)?.rawValue ?? ErrorLine.other)
    }
}

/// With `--verbose`, sends the library's log (swift-log) to standard error, every batch
/// included; otherwise the library stays quiet and the command prints warnings itself.
func bootstrapLogging(verbose: Bool) {
    guard verbose else { return }
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .debug
        return handler
    }
    QCLabLogging.logger = Logger(label: "qclab")
}

/// Prints each warning as one line on standard error.
func warn(_ warnings: [String]) {
    for warning in warnings {
        StandardStreams.writeError("qclab: warning: \(warning)\n")
    }
}

/// Notes (what could not be checked, say), printed one line each on standard error once
/// the command has succeeded: a refused command prints its one error line alone.
final class Notes {
    private var messages: [String] = []

    func add(_ message: String) {
        if !messages.contains(message) { messages.append(message) }
    }

    func print() {
        for message in messages { StandardStreams.writeError("qclab: note: \(message)\n") }
        messages = []
    }
}
