import Foundation
import QCLab

/// A one-line progress bar on standard error (trajectories done, rate, time left), shown
/// only when standard error is a terminal; or, for MPI rank 0 (whose standard error the
/// launcher forwards, and is no terminal), a plain line at most every `lineInterval`
/// seconds and one at the end.
///
/// The drivers report within batches too (a batch's trajectories count in proportion to
/// the collect points it has passed), so the bar moves during a run of one batch; it is
/// redrawn when it gains a cell, and otherwise at most ten times a second.
final class ProgressReporter: @unchecked Sendable {
    private let enabled: Bool
    private let lines: Bool
    private let lineInterval: Double
    private var start = Date()
    /// Trajectories done before this process began (a resumed run's): not counted in the rate.
    private var base = 0
    private var lastDraw = Date.distantPast
    /// Whether a bar is on screen, so that `finish()` ends its line exactly once.
    private var drawn = false
    /// The count last shown, so that the same count is never shown twice.
    private var lastDone = -1
    /// The bar's filled cells last drawn.
    private var lastFilled = -1
    private let lock = NSLock()

    init(enabled: Bool, linesWhenNoTerminal: Bool = false, lineInterval: Double = 10) {
        let terminal = isatty(STDERR_FILENO) == 1
        self.enabled = enabled && (terminal || linesWhenNoTerminal)
        lines = !terminal
        self.lineInterval = lineInterval
    }

    /// Tells the reporter the run resumed with `done` trajectories done already: the rate
    /// (and the time left) count only the trajectories run from now on.
    func resumed(from done: Int) {
        lock.lock(); defer { lock.unlock() }
        base = done
        start = Date()
    }

    /// Redraws the bar for `done` of `total` trajectories.
    func update(done: Int, total: Int) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        let width = 30, filled = total > 0 ? width * done / total : 0
        // The bar is redrawn when it gains a cell (so it moves however fast the run), and
        // otherwise at most ten times a second.
        let grows = !lines && filled != lastFilled
        guard done != lastDone,
            done == total || grows || now.timeIntervalSince(lastDraw) > (lines ? lineInterval : 0.1)
        else { return }
        lastDraw = now
        lastDone = done
        lastFilled = filled
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(max(done - base, 0)) / elapsed : 0
        // Until a trajectory counts as done there is no rate to tell the time left from.
        let pace = rate > 0 ? String(format: "%.1f/s, %.0fs left", rate, Double(total - done) / rate) : "starting"
        if lines {
            let line = String(format: "qclab: %d/%d trajectories, %@\n", done, total, pace)
            StandardStreams.writeError(line)
            return
        }
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let line = String(format: "\r[%@] %d/%d trajectories, %@ ", bar, done, total, pace)
        StandardStreams.writeError(line)
        drawn = true
    }

    /// Ends the bar's line, if a bar was drawn: after a run, or before an error message.
    func finish() {
        lock.lock(); defer { lock.unlock() }
        guard drawn else { return }
        drawn = false
        StandardStreams.writeError("\n")
    }
}
