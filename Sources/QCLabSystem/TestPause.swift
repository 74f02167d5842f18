import QCLabCore
import Foundation

/// Test-only: stops the process at a named moment of a run so that a test can kill or
/// signal it there, on an event it sees rather than after a delay.
///
/// With `QCLAB_TEST_PAUSE_AT=MOMENT` in the environment, the process prints
/// `qclab: paused at MOMENT` on standard error when it reaches `MOMENT` and waits there
/// for a signal: SIGKILL, or SIGTERM and the like, which end it as usual; a SIGTERM or
/// SIGINT that ``StopRequest`` catches lets the run go on, to stop as it would at once.
/// The moments are `checkpoint-N` (just after the process wrote its N-th checkpoint) and
/// `write-NAME` (a file named NAME written in full under its temporary name, not yet
/// renamed into place).
/// Unset, as outside the tests, it is one comparison with nil.
package enum TestPause {
    private static let moment = ProcessInfo.processInfo.environment["QCLAB_TEST_PAUSE_AT"]

    /// Pauses here, until a caught stop, if `QCLAB_TEST_PAUSE_AT` names `name`.
    package static func at(_ name: @autoclosure () -> String) {
        guard let moment, moment == name() else { return }
        StandardStreams.writeError("qclab: paused at \(moment)\n")
        // Polled: a signal between a check and pause() would be missed.
        while StopRequest.signal == nil { usleep(1_000) }
    }
}
