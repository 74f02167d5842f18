/// The run settings of a simulation, with QC Lab 1.3.0's names and defaults.
///
/// `tmax`, `dtUpdate` and `dtCollect` are in the model's time unit; the time grid that
/// is actually run is ``TimeGrid``, which rounds them exactly as QC Lab does.
public struct SimulationSettings: Sendable, Equatable {
    /// Total simulated time (`tmax`).
    public var tmax: Double = 10.0
    /// Integration time step (`dt_update`).
    public var dtUpdate: Double = 0.001
    /// Interval between collected outputs (`dt_collect`).
    public var dtCollect: Double = 0.1
    /// Number of trajectories (`num_trajs`).
    public var numTrajs: Int = 100
    /// Trajectories run together as one vectorized batch (`batch_size`).
    public var batchSize: Int = 25
    /// Whether a driver shows a progress bar (`progress_bar`); shown only on a terminal.
    public var progressBar: Bool = true

    public init(
        tmax: Double = 10.0, dtUpdate: Double = 0.001, dtCollect: Double = 0.1,
        numTrajs: Int = 100, batchSize: Int = 25, progressBar: Bool = true
    ) {
        self.tmax = tmax
        self.dtUpdate = dtUpdate
        self.dtCollect = dtCollect
        self.numTrajs = numTrajs
        self.batchSize = batchSize
        self.progressBar = progressBar
    }

    /// Checks the settings, throwing an error that names the first bad one.
    public func validate() throws {
        func positive(_ value: Double, _ name: String) throws {
            guard value.isFinite, value > 0 else {
                throw QCLabError.invalidSetting(name, "must be a positive number, got \(value)")
            }
        }
        try positive(dtUpdate, "dt_update")
        try positive(dtCollect, "dt_collect")
        guard tmax.isFinite, tmax >= 0 else {
            throw QCLabError.invalidSetting("tmax", "must be a non-negative number, got \(tmax)")
        }
        guard numTrajs >= 1 else {
            throw QCLabError.invalidSetting("num_trajs", "must be at least 1, got \(numTrajs)")
        }
        guard numTrajs <= Self.maxTrajectories else {
            throw QCLabError.invalidSetting(
                "num_trajs",
                "must be at most \(Self.maxTrajectories) (one trajectory per seed in 0...4294967295), got \(numTrajs)")
        }
        guard batchSize >= 1 else {
            throw QCLabError.invalidSetting("batch_size", "must be at least 1, got \(batchSize)")
        }
        // The counts TimeGrid makes, in floating point first, so that no conversion traps.
        let counts = TimeGrid.counts(self)
        guard counts.stepsPerCollect <= Double(Self.maxSteps) else {
            throw QCLabError.invalidSetting(
                "dt_collect",
                "of \(dtCollect) is \(counts.stepsPerCollect) update steps of dt_update \(dtUpdate); at most \(Self.maxSteps) steps are allowed"
            )
        }
        guard counts.totalSteps <= Double(Self.maxSteps) else {
            throw QCLabError.invalidSetting(
                "tmax",
                "of \(tmax) is \(counts.totalSteps) update steps of dt_update \(dtUpdate); at most \(Self.maxSteps) steps are allowed (use a smaller tmax or a larger dt_update)"
            )
        }
    }

    /// The most trajectories a run can have: one per seed in `0...UInt32.max`.
    public static let maxTrajectories = Int(UInt32.max) + 1
    /// The most update steps a trajectory may take (and so the most per collect interval).
    public static let maxSteps = 10_000_000_000
}

/// The discrete time grid of a run, rounded exactly as QC Lab 1.3.0's
/// `Simulation.initialize_timesteps` rounds it.
///
/// `dt_collect` becomes the nearest whole number of update steps (at least one), and
/// `tmax` the nearest whole number of collect intervals; NumPy's `round` is half-to-even,
/// and so is this.
public struct TimeGrid: Sendable, Equatable {
    /// The update step.
    public let dtUpdate: Double
    /// Update steps per collect interval (`dt_collect_n`).
    public let stepsPerCollect: Int
    /// Total number of update steps (`tmax_n`).
    public let totalSteps: Int

    /// The grid of `settings`; counts beyond `Int` (settings that `validate()` refuses) saturate.
    public init(_ settings: SimulationSettings) {
        dtUpdate = settings.dtUpdate
        let counts = Self.counts(settings)
        stepsPerCollect = Self.saturatingInt(counts.stepsPerCollect)
        totalSteps = Self.saturatingInt(counts.totalSteps)
    }

    /// Update steps per collect interval and in total, as QC Lab rounds them, computed in
    /// floating point so that a huge ratio (dt_collect 1e300) can be checked before it
    /// becomes an integer.
    package static func counts(_ settings: SimulationSettings) -> (stepsPerCollect: Double, totalSteps: Double) {
        var perCollect = (settings.dtCollect / settings.dtUpdate).rounded(.toNearestOrEven)
        var dtCollect = settings.dtCollect
        if perCollect == 0 || perCollect.isNaN {
            perCollect = 1
            dtCollect = settings.dtUpdate
        }
        var intervals = (settings.tmax / dtCollect).rounded(.toNearestOrEven)
        if intervals.isNaN { intervals = 0 }
        return (perCollect, intervals == 0 ? 0 : intervals * perCollect)
    }

    private static func saturatingInt(_ value: Double) -> Int {
        value.isNaN || value < 0 ? 0 : value >= 9.2e18 ? Int.max : Int(value)
    }

    /// The collect interval actually used.
    public var dtCollect: Double { Double(stepsPerCollect) * dtUpdate }
    /// The total time actually simulated.
    public var tmax: Double { Double(totalSteps) * dtUpdate }
    /// Number of collect points, including t = 0 and t = tmax.
    public var collectCount: Int { totalSteps / stepsPerCollect + 1 }
    /// The collect times, `t_collect`.
    public var collectTimes: [Double] {
        (0..<collectCount).map { Double($0 * stepsPerCollect) * dtUpdate }
    }
    /// Number of update steps per trajectory, counting QC Lab's step at t = 0 (`len(t_update)`).
    public var updateTimeCount: Int { totalSteps + 1 }
}
