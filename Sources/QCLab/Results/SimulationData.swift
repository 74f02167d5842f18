/// One collected output of a run: its per-time sums over trajectories and the summed
/// squared deviations of its independent samples from their mean, from which means and
/// standard errors follow.
public struct Observable: Sendable, Equatable {
    /// The output's name, as in QC Lab and the HDF5 file (`dm_db`, `quantum_energy`, ...).
    public let name: String
    /// Its full shape, time first: `[T]` or `[T, N, N]`.
    public let shape: [Int]
    /// Whether it is complex; complex values are stored as interleaved `re, im` pairs.
    public let isComplex: Bool
    /// Sum over trajectories of each element (real and imaginary parts apart).
    public var sum: [Double]
    /// `M₂ = Σ_g (x_g - x̄)²` over the independent samples `x_g`, per element (real and
    /// imaginary parts apart): computed in two passes within a batch and combined across
    /// batches with the pairwise update of Chan, Golub & LeVeque (Am. Stat. 37, 242 (1983)),
    /// so that no large sums cancel.
    public var squaredDeviations: [Double]

    public init(name: String, shape: [Int], isComplex: Bool) {
        self.name = name
        self.shape = shape
        self.isComplex = isComplex
        let count = shape.reduce(1, *) * (isComplex ? 2 : 1)
        sum = [Double](repeating: 0, count: count)
        squaredDeviations = sum
    }
}

/// The results of a run, QC Lab's `Data`: every seed that contributed, the number of
/// trajectories averaged (`norm_factor`) and the collected outputs.
///
/// Outputs are kept as sums, so merging is adding and batch results combined in the same
/// order give bit-identical results whichever driver ran them. `mean(_:)` gives what QC
/// Lab's `data_dict` holds; `standardError(_:)` gives the error bars QC Lab lacks.
public struct SimulationData: Sendable, Equatable {
    /// Seeds of all trajectories, in the order they were added.
    public var seeds: [Int]
    /// Trajectories averaged over (`norm_factor`); in deterministic surface hopping every
    /// branch counts, as in QC Lab.
    public var normFactor: Int
    /// Statistically independent samples behind the standard errors: trajectories, or
    /// in deterministic surface hopping, groups of branches sharing initial conditions.
    public var sampleCount: Int
    /// The outputs, in collection order.
    public var observables: [Observable]
    /// The log of the run(s), stored as the `log` attribute of the HDF5 file.
    public var log: String

    /// Empty data, ready to merge results into.
    public init() {
        seeds = []
        normFactor = 0
        sampleCount = 0
        observables = []
        log = ""
    }

    public init(seeds: [Int], normFactor: Int, sampleCount: Int, observables: [Observable], log: String = "") {
        self.seeds = seeds
        self.normFactor = normFactor
        self.sampleCount = sampleCount
        self.observables = observables
        self.log = log
    }

    /// Whether no trajectory has been added yet.
    public var isEmpty: Bool { normFactor == 0 }

    /// The observable called `name`.
    public func observable(_ name: String) -> Observable? { observables.first { $0.name == name } }

    /// The trajectory average of output `name` (QC Lab's `data_dict[name]`), real and
    /// imaginary parts interleaved for complex outputs.
    public func mean(_ name: String) -> [Double]? {
        guard let o = observable(name), normFactor > 0 else { return nil }
        let n = Double(normFactor)
        return o.sum.map { $0 / n }
    }

    /// The standard error of the mean of output `name`, per element (real and imaginary
    /// parts apart), from the spread of the independent samples; zero with one sample.
    public func standardError(_ name: String) -> [Double]? {
        guard let o = observable(name), let mean = mean(name) else { return nil }
        let samples = Double(sampleCount)
        guard sampleCount > 1 else { return [Double](repeating: 0, count: mean.count) }
        return o.squaredDeviations.map { ((max($0, 0) / (samples - 1)) / samples).squareRoot() }
    }

    /// The collect times (mean of `t`).
    public var times: [Double] { mean("t") ?? [] }

    /// Adds `other` to this data, QC Lab's `add_data`: seeds are appended, sums added.
    /// Throws when both hold outputs that do not match in name, shape or type.
    public mutating func add(_ other: SimulationData) throws {
        if other.isEmpty && other.observables.isEmpty {
            seeds += other.seeds
            log += other.log
            return
        }
        if observables.isEmpty {
            observables = other.observables
        } else {
            guard observables.map(\.name) == other.observables.map(\.name) else {
                throw QCLabError.incompatibleData(
                    "outputs differ: \(observables.map(\.name)) vs \(other.observables.map(\.name))")
            }
            // Chan's update: M₂ = M₂a + M₂b + δ² na nb / (na + nb), δ the difference of the
            // means (each part's sample mean equals its sum over its norm factor).
            let na = Double(sampleCount), nb = Double(other.sampleCount)
            let weight = na > 0 && nb > 0 ? na * nb / (na + nb) : 0
            let ma = Double(max(normFactor, 1)), mb = Double(max(other.normFactor, 1))
            for (index, theirs) in other.observables.enumerated() {
                guard observables[index].shape == theirs.shape, observables[index].isComplex == theirs.isComplex else {
                    throw QCLabError.incompatibleData(
                        "'\(theirs.name)' has shape \(theirs.shape), expected \(observables[index].shape) (different time grid or model size)")
                }
                let sumA = observables[index].sum
                observables[index].squaredDeviations.withUnsafeMutableBufferPointer { mine in
                    for i in mine.indices {
                        let delta = theirs.sum[i] / mb - sumA[i] / ma
                        mine[i] += theirs.squaredDeviations[i] + delta * delta * weight
                    }
                }
                observables[index].sum.withUnsafeMutableBufferPointer { mine in
                    for i in mine.indices { mine[i] += theirs.sum[i] }
                }
            }
        }
        seeds += other.seeds
        normFactor += other.normFactor
        sampleCount += other.sampleCount
        log += other.log
    }

    /// The seed that new trajectories start from when this data is continued: one past
    /// the largest seed, or zero (QC Lab's drivers' rule).
    public var nextSeed: Int { (seeds.max() ?? -1) + 1 }
}
