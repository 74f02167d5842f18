import ArgumentParser
import Foundation
import Logging
import QCLab

/// `qclab`: run QC Lab jobs from the command line.
@main
struct QCLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qclab",
        abstract: "Mixed quantum-classical dynamics (mean-field and surface hopping), QC Lab 1.3.0 compatible.",
        subcommands: [RunCommand.self, InfoCommand.self, PlotCommand.self, MergeCommand.self, ModelsCommand.self, InitCommand.self,
                      CheckInputCommand.self],
        defaultSubcommand: nil)

    /// Parses the command line and runs the chosen subcommand. Help and version print
    /// as usual; any mistake on the command line ends in one line on standard error
    /// (`qclab: error: ...`, pointing at `--help`) and ArgumentParser's exit status.
    static func main() {
        rejectUnknownSubcommand()
        do {
            var command = try parseAsRoot()
            reportingErrors { try InputCheck.checkReadable(hdf5Inputs(of: command)) }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code != .success else { exit(withError: error) }
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
            FileHandle.standardError.write(Foundation.Data(("qclab: error: \(message) (\(help))\n").utf8))
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
        let names = configuration.subcommands.filter { $0.configuration.shouldDisplay }
            .compactMap { $0.configuration.commandName } + ["help"]
        FileHandle.standardError.write(Foundation.Data(
            "qclab: error: unknown subcommand '\(first)' (known: \(names.dropLast().joined(separator: ", ")); see 'qclab --help')\n".utf8))
        Foundation.exit(ExitCode.validationFailure.rawValue)
    }
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
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("qclab: error: " + message + "\n").utf8))
    exit(1)
}

/// Runs `body`, turning a thrown error into a one-line message and exit status 1.
func reportingErrors<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch let error as CleanExit {
        QCLabCommand.exit(withError: error)
    } catch {
        fail("\(error)")
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
        FileHandle.standardError.write(Foundation.Data("qclab: warning: \(warning)\n".utf8))
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
        for message in messages { FileHandle.standardError.write(Foundation.Data("qclab: note: \(message)\n".utf8)) }
        messages = []
    }
}
