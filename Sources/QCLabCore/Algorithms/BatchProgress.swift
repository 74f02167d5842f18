/// Where a running batch reports how far it has got.
///
/// The drivers set one around ``Simulation/runBatch(seeds:)``, and
/// ``OutputCollector/collect(_:index:)`` tells it each collect point it passes. So every algorithm
/// reports progress within a batch without knowing about it (physics holds no I/O), and the drivers
/// turn the count into progress of the whole run (drivers hold no physics).
///
/// The sink is task-local (a thread-local outside Swift concurrency): it reaches the
/// collector through the algorithm's code without being passed, and a batch run on
/// another thread or task without one reports nothing. A forked worker inherits none and
/// sets its own. Reading it costs a thread-local lookup per collect point.
///
/// ```swift
/// let result = try BatchProgress.reporting({ collected, total in print("\(collected)/\(total)") }) {
///     try simulation.runBatch(seeds: Array(0..<10))
/// }
/// ```
package final class BatchProgress: @unchecked Sendable {
    /// The sink of the batch running in this task or thread, if any.
    @TaskLocal package static var current: BatchProgress?

    /// Called with the collect points passed so far (from 1) and the batch's collect points.
    ///
    /// Only ever called synchronously, on the thread that runs the batch.
    private let report: (_ collected: Int, _ total: Int) -> Void

    private init(_ report: @escaping (_ collected: Int, _ total: Int) -> Void) { self.report = report }

    /// Runs `body` (which runs a batch) with `report` called at each collect point the
    /// batch passes, with the collect points passed so far and the batch's total; with
    /// `report` nil, runs `body` as it is.
    package static func reporting<T>(_ report: ((_ collected: Int, _ total: Int) -> Void)?, _ body: () throws -> T)
        rethrows -> T
    {
        guard let report else { return try body() }
        return try $current.withValue(BatchProgress(report), operation: body)
    }

    /// Tells the running batch's sink, if any, that `collected` of `total` collect points are done.
    @inline(__always)
    package static func collected(_ collected: Int, of total: Int) {
        current?.report(collected, total)
    }

    /// Trajectories (of a batch of `seeds`) that count as done after `collected` of `total`
    /// collect points: a batch's seeds count in proportion to the collect points it has
    /// passed, rounded down, so that the count reaches `seeds` only when the batch is over.
    package static func trajectories(of seeds: Int, collected: Int, total: Int) -> Int {
        total > 0 ? seeds * min(collected, total) / total : 0
    }
}
