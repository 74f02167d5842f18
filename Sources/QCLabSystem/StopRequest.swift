import QCLabCore
import CQCLabProcess
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stop asked for by SIGTERM or SIGINT, which the drivers act on between batches.
///
/// A program that calls ``catchSignals()`` is no longer ended by SIGTERM or SIGINT: the
/// signal is recorded (by a C handler that does only that), and every driver checks
/// ``signal`` between batches. With a checkpoint, the driver then writes a last one holding
/// every batch done so far, so only the batches in flight are lost, and throws
/// ``RunStopped``; the same command resumes. Until ``catchSignals()`` is called (the
/// library alone never calls it), ``signal`` is nil and the check costs one load.
package enum StopRequest {
    /// Starts recording SIGTERM and SIGINT instead of being ended by them.
    package static func catchSignals() { qclab_stop_catch(1) }

    /// Puts back the handlers there were before ``catchSignals()`` (a signal that arrives
    /// later ends the process as usual; files being written are still removed).
    package static func release() { qclab_stop_catch(0) }

    /// While signals are caught, makes a stop end the process at once.
    ///
    /// A stop writes "qclab: stopped by SIGTERM" and `text` on standard error and ends the process
    /// with status 128 + the signal (for an MPI rank whose driver has nothing to save, and cannot
    /// check ``signal``). With `waitingForReader`, it first waits (a second at most) until the pipe
    /// standard error is (an MPI launcher's) has been read.
    package static func exitOnStop(saying text: String, waitingForReader: Bool = false) {
        _ = qclab_stop_exit_with(text + "\n", waitingForReader ? 1 : 0)
    }

    /// Gives an MPI launcher time to pass on this rank's last line: waits until the pipe
    /// standard error is has been read, then up to two seconds for the launcher to end the
    /// job (Open MPI's mpirun kills its ranks a second after passing on SIGTERM; a rank
    /// that left first would have it end at once, its output queue unwritten).
    package static func lingerForLauncher() { qclab_stop_linger() }

    /// While signals are caught: the first stop writes "qclab: stopped by SIGTERM" and
    /// `text` on standard error at once (from the signal handler), then is recorded for
    /// the driver as usual: for MPI rank 0, which the launcher may kill within
    /// milliseconds when a rank dies, before its driver could say anything.
    package static func announceStop(saying text: String) { _ = qclab_stop_announce(text + "\n") }

    /// The signal that asked the run to stop (SIGTERM or SIGINT), if one did.
    package static var signal: Int32? {
        let value = qclab_stop_signal()
        return value == 0 ? nil : value
    }

    /// The name of `signal`: SIGTERM, SIGINT, or its number.
    package static func name(of signal: Int32) -> String {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGINT: return "SIGINT"
        default: return "signal \(signal)"
        }
    }

    /// What to do when a stop comes while the serial driver runs a batch.
    ///
    /// A batch cannot be left by throwing, so this is called at the batch's next collect point,
    /// once the last checkpoint is written, with the stop; it must not return (`qclab` prints its
    /// line and exits). Nil, as in a program that does not set it: the serial driver stops after
    /// the batch.
    nonisolated(unsafe) package static var withinBatch: ((RunStopped) -> Never)?
}

/// A run ended by SIGTERM or SIGINT before it finished (see `StopRequest`).
package struct RunStopped: Error, CustomStringConvertible, Sendable {
    /// The signal that stopped it.
    package let signal: Int32
    /// Trajectories done (and, with a checkpoint, kept in it) and the run's total.
    package let done: Int
    package let total: Int
    /// The run's checkpoint, which holds the trajectories done, if it has one.
    package let checkpoint: String?

    package init(signal: Int32, done: Int, total: Int, checkpoint: String?) {
        self.signal = signal
        self.done = done
        self.total = total
        self.checkpoint = checkpoint
    }

    /// One line: what stopped the run, how far it got, and what is kept.
    package var description: String {
        let name = StopRequest.name(of: signal)
        guard done > 0 else {
            return
                "stopped by \(name) before any of \(total) trajectories was done; run the same command to start again"
        }
        let head = "stopped by \(name) after \(done) of \(total) trajectories"
        guard let checkpoint else {
            return head
                + "; they are lost (no --checkpoint): a run with --checkpoint CK keeps its progress and resumes"
        }
        return head + "; checkpoint '\(checkpoint)' holds them: run the same command to resume"
    }

    /// The exit status of a process ended by the signal: 128 + its number.
    package var exitStatus: Int32 { 128 + signal }
}
