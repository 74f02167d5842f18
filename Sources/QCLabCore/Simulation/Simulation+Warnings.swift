import Foundation

/// Where a run will differ from what its settings and initial state say, in words.
extension Simulation {
    /// One sentence for each way the run differs from what was asked.
    ///
    /// Such as `tmax` or `dt_collect` rounded to the time grid (as QC Lab rounds them), a
    /// `dt_update` larger than `tmax`, an initial wavefunction that is not normalized (used as
    /// given, as in QC Lab). The drivers put them in the run's log; `qclab run` also prints them.
    public var warnings: [String] {
        var warnings: [String] = []
        let grid = timeGrid
        func differs(_ a: Double, _ b: Double) -> Bool { abs(a - b) > 1e-9 * max(abs(a), abs(b), 1e-300) }
        if settings.dtUpdate > settings.tmax && settings.tmax > 0 {
            warnings.append(
                "dt_update \(Self.format(settings.dtUpdate)) is larger than tmax \(Self.format(settings.tmax)): "
                    + "the run has \(grid.collectCount) time point\(grid.collectCount == 1 ? "" : "s") (t = \(Self.describe(grid.collectTimes)))"
            )
        } else {
            let collectRounded = differs(grid.dtCollect, settings.dtCollect)
            if collectRounded {
                warnings.append(
                    "dt_collect \(Self.format(settings.dtCollect)) is not a whole number of dt_update steps "
                        + "(\(Self.format(settings.dtUpdate))); collecting every \(Self.format(grid.dtCollect)) instead"
                )
            }
            if differs(grid.tmax, settings.tmax) {
                let intervals = grid.collectCount - 1
                warnings.append(
                    collectRounded
                        ? "tmax \(Self.format(settings.tmax)) becomes \(Self.format(grid.tmax)): QC Lab's rounding takes "
                            + "round(tmax / dt_collect) = \(intervals) intervals of the rounded dt_collect \(Self.format(grid.dtCollect))"
                        : "tmax \(Self.format(settings.tmax)) is not a whole number of dt_collect intervals "
                            + "(\(Self.format(grid.dtCollect))); running to tmax \(Self.format(grid.tmax)) instead")
            }
        }
        let normSquared = initialWavefunction.reduce(0) { $0 + $1.real * $1.real + $1.imaginary * $1.imaginary }
        if normSquared > 0 && abs(normSquared - 1) > 1e-6 {
            warnings.append(
                "wf_db is not normalized (sum of |c|² is \(Self.format(normSquared)), not 1); it is used as given, as QC Lab does, "
                    + "so the populations start summing to \(Self.format(normSquared))")
        }
        return warnings
    }

    /// A number in at most ten significant digits (1.34, not 1.3400000000000001).
    private static func format(_ x: Double) -> String { String(format: "%.10g", x) }

    /// "0, 0.5" or "0, 0.1, ..., 1": collect times, short.
    private static func describe(_ times: [Double]) -> String {
        times.count <= 3
            ? times.map(format).joined(separator: ", ")
            : "\(format(times[0])), \(format(times[1])), ..., \(format(times[times.count - 1]))"
    }
}
