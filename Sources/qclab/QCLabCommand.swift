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
        subcommands: [RunCommand.self],
        defaultSubcommand: nil)
}

/// Exits with status 1 and a one-line reason on standard error.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("qclab: error: " + message + "\n").utf8))
    exit(1)
}

/// Runs `body`, turning a thrown error into a one-line message and exit status 1.
func reportingErrors<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch let error as QCLabError {
        fail(error.description)
    } catch let error as CleanExit {
        QCLabCommand.exit(withError: error)
    } catch {
        fail("\(error)")
    }
}

/// Sends swift-log output to standard error at `level`.
func bootstrapLogging(verbose: Bool) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = verbose ? .info : .warning
        return handler
    }
}
