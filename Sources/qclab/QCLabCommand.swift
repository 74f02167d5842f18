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
        subcommands: [RunCommand.self, InfoCommand.self, PlotCommand.self, MergeCommand.self, CheckInputCommand.self],
        defaultSubcommand: nil)

    /// Parses the command line and runs the chosen subcommand. Help and version print
    /// as usual; any mistake on the command line ends in one line on standard error
    /// (`qclab: error: ...`, pointing at `--help`) and ArgumentParser's exit status.
    static func main() {
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

/// The HDF5 files `command` reads, checked in a child process first (``InputCheck``).
private func hdf5Inputs(of command: ParsableCommand) -> [String] {
    switch command {
    case let info as InfoCommand: return [info.file]
    case let plot as PlotCommand: return [plot.file]
    case let merge as MergeCommand: return merge.inputs
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

/// Sends swift-log output to standard error at `level`.
func bootstrapLogging(verbose: Bool) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = verbose ? .debug : .warning
        return handler
    }
}
