import QCLabCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SystemPackage

/// Standard output and standard error, written with `write(2)` (swift-system's
/// `FileDescriptor.writeAll`) and every write checked.
///
/// Standard output is what a user keeps (`qclab init ... > job.json`): a write that fails
/// (a full disk, a closed pipe) throws, so that the command fails with one line instead of
/// leaving a short file behind. Standard error is where failures are told: when it is
/// closed or full there is nowhere left to tell, so its failed writes are dropped (the
/// exit status still says what happened) instead of ending the process.
package enum StandardStreams {
    /// Writes `text` to standard output, all of it, or throws naming standard output.
    package static func writeOutput(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }
        do {
            _ = try FileDescriptor.standardOutput.writeAll(bytes)
        } catch let error as Errno {
            throw QCLabError.system("cannot write to standard output: \(error.explained())")
        }
    }

    /// Writes `text` to standard error; a failure is dropped (see above).
    package static func writeError(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return }
        _ = try? FileDescriptor.standardError.writeAll(bytes)
    }

    /// Makes writes to a reader that has gone (SIGPIPE) and past the file-size limit
    /// (SIGXFSZ) fail with EPIPE and EFBIG, which the writer reports in one line naming
    /// the file, instead of killing the process silently; child processes get the default
    /// handling back (``ChildProcess``).
    package static func ignoreWriteSignals() {
        Syscalls.ignoreSignal(SIGPIPE)
        Syscalls.ignoreSignal(SIGXFSZ)
    }
}
