import ArgumentParser
import Foundation
import QCLab

/// Reads HDF5 inputs once in a child process before this process reads them.
///
/// The HDF5 library (1.10, as Debian and Ubuntu ship it) can corrupt its memory on some
/// damaged files and crash later, inside `H5Fclose` (found by FuzzHDF5Reader; see
/// Fuzz/Findings). Our own checks refuse every damaged file we know how to recognise;
/// this catches the rest: a child `qclab` reads the file first, and if it is killed by a
/// signal, or does not finish in time (HDF5 can also loop for ever), the file is refused
/// as damaged instead of crashing or hanging the command. The child is started and
/// waited for by ``ChildProcess`` (posix_spawn, a deadline, killed and reaped past it); a
/// child that cannot be started (the open-file or process limit) fails the command with
/// one line naming the limit: the check is never skipped quietly.
enum InputCheck {
    /// The hidden subcommand the child runs.
    static let commandName = "_check-input"

    static func checkReadable(_ paths: [String]) throws {
        for path in paths {
            // Missing files and folders get their usual message from the real read.
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
                continue
            }
            var executable = "/proc/self/exe"
            if !FileManager.default.isExecutableFile(atPath: executable) { executable = CommandLine.arguments[0] }
            let limit = try timeLimit(forFileAt: path)
            // A crash is expected here at times: no backtrace, which would only cost time.
            let environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
            let child = try ChildProcess.run(
                executable, role: "the check of '\(path)' (a child qclab)",
                arguments: [commandName, path, "--seconds", String(Int(limit.rounded(.up)))],
                environment: environment, capture: false, seconds: limit)
            if child.timedOut {
                throw QCLabError.hdf5(
                    path: path,
                    reason: "damaged: the HDF5 library did not finish reading it in \(Summary.number(limit, "%g")) s"
                        + " (QCLAB_INPUT_CHECK_SECONDS sets the limit)")
            }
            if let signal = child.signal {
                throw QCLabError.hdf5(
                    path: path, reason: "damaged: the HDF5 library crashed reading it (signal \(signal))")
            }
            // The child's own one-line refusals (a limit it ran into, a file it cannot open)
            // come from the real read that follows.
        }
    }
}

extension InputCheck {
    /// How long the child may take: 30 s plus 1 s per 20 MB (a slow disk), at most a day.
    ///
    /// `QCLAB_INPUT_CHECK_SECONDS` (seconds in (0, 86400]) overrides it when set. HDF5 1.10 loops
    /// for ever on some damaged variable-length strings (found by FuzzHDF5Reader); a whole file
    /// reads far faster.
    static func timeLimit(forFileAt path: String) throws -> Double {
        let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
        let fallback = min(30 + Double(size) / 20e6, EnvironmentSettings.maximumSeconds)
        return try EnvironmentSettings.seconds("QCLAB_INPUT_CHECK_SECONDS", default: fallback)
    }
}

/// `qclab _check-input FILE`: reads an HDF5 file as `info` would and exits 0, or 1 if refused.
///
/// It prints nothing. Run by ``InputCheck`` in a child process.
struct CheckInputCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: InputCheck.commandName, shouldDisplay: false)

    @Argument var file: String

    /// The parent's time limit: past it (and a margin) the child ends itself by SIGALRM,
    /// so that it cannot outlive a parent that was killed while waiting for it.
    @Option var seconds: UInt32 = 60

    func run() throws {
        alarm(seconds + 5)
        let readable =
            (try? SimulationData(contentsOf: file)) != nil && (try? SimulationData.datasetNames(inFileAt: file)) != nil
        Foundation.exit(readable ? 0 : 1)
    }
}
