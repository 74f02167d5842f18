import ArgumentParser
import Foundation
import QCLab

/// Reads HDF5 inputs once in a child process before this process reads them.
///
/// The HDF5 library (1.10, as Debian and Ubuntu ship it) can corrupt its memory on some
/// damaged files and crash later, inside `H5Fclose` (found by FuzzHDF5Reader; see
/// Fuzz/Findings). Our own checks refuse every damaged file we know how to recognise;
/// this catches the rest: a child `qclab` reads the file first, and if it is killed by a
/// signal the file is refused as damaged instead of crashing the command. The child is
/// started with posix_spawn (Foundation's Process), so it is safe with threads running.
enum InputCheck {
    /// The hidden subcommand the child runs.
    static let commandName = "_check-input"

    static func checkReadable(_ paths: [String]) throws {
        for path in paths {
            // Missing files and folders get their usual message from the real read.
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else { continue }
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
            if !FileManager.default.isExecutableFile(atPath: child.executableURL!.path) {
                child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            }
            child.arguments = [commandName, path]
            // A crash is expected here at times: no backtrace, which would only cost time.
            child.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
            child.standardInput = FileHandle.nullDevice
            child.standardOutput = FileHandle.nullDevice
            child.standardError = FileHandle.nullDevice
            do { try child.run() } catch { continue }
            child.waitUntilExit()
            if child.terminationReason == .uncaughtSignal {
                throw QCLabError.hdf5(path: path, reason: "damaged: the HDF5 library crashed reading it (signal \(child.terminationStatus))")
            }
        }
    }
}

/// `qclab _check-input FILE`: reads an HDF5 file as `info` would and exits 0, or 1 if it
/// is refused; it prints nothing. Run by ``InputCheck`` in a child process.
struct CheckInputCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: InputCheck.commandName, shouldDisplay: false)

    @Argument var file: String

    func run() throws {
        let readable = (try? SimulationData(contentsOf: file)) != nil && (try? SimulationData.datasetNames(inFileAt: file)) != nil
        Foundation.exit(readable ? 0 : 1)
    }
}
