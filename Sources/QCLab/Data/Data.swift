/// One collected output of a run: its per-time sums over trajectories and the sums of
/// squares of its independent samples, from which means and standard errors follow.
public struct Observable: Sendable, Equatable {
    /// The output's name, as in QC Lab and the HDF5 file (`dm_db`, `quantum_energy`, ...).
    public let name: String
    /// Its full shape, time first: `[T]` or `[T, N, N]`.
    public let shape: [Int]
    /// Whether it is complex; complex values are stored as interleaved `re, im` pairs.
    public let isComplex: Bool
    /// Sum over trajectories of each element (real and imaginary parts apart).
    public var sum: [Double]
    /// Sum over independent samples of each element's square (real and imaginary parts
    /// squared apart), for standard errors.
    public var sumOfSquares: [Double]

    public init(name: String, shape: [Int], isComplex: Bool) {
        self.name = name
        self.shape = shape
        self.isComplex = isComplex
        let count = shape.reduce(1, *) * (isComplex ? 2 : 1)
        sum = [Double](repeating: 0, count: count)
        sumOfSquares = sum
    }

    /// Real numbers per time point.
    public var valuesPerTime: Int { shape.dropFirst().reduce(1, *) * (isComplex ? 2 : 1) }
}

/// The results of a run, QC Lab's `Data`: every seed that contributed, the number of
/// trajectories averaged (`norm_factor`) and the collected outputs.
///
/// Outputs are kept as sums, so merging is adding and batch results combined in the same
/// order give bit-identical results whichever driver ran them. `mean(_:)` gives what QC
/// Lab's `data_dict` holds; `standardError(_:)` gives the error bars QC Lab lacks.
public struct Data: Sendable, Equatable {
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
        return zip(o.sumOfSquares, mean).map { squares, m in
            // The spread is the small difference of two large sums; below their rounding
            // error (outputs that do not vary, such as `t`, or files without error bars)
            // it is indistinguishable from zero, and zero is what is reported.
            let excess = squares - samples * m * m
            let variance = excess > 1e-12 * squares ? excess / (samples - 1) : 0
            return (variance / samples).squareRoot()
        }
    }

    /// The collect times (mean of `t`).
    public var times: [Double] { mean("t") ?? [] }

    /// Adds `other` to this data, QC Lab's `add_data`: seeds are appended, sums added.
    /// Throws when both hold outputs that do not match in name, shape or type.
    public mutating func add(_ other: Data) throws {
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
            for (index, theirs) in other.observables.enumerated() {
                guard observables[index].shape == theirs.shape, observables[index].isComplex == theirs.isComplex else {
                    throw QCLabError.incompatibleData(
                        "'\(theirs.name)' has shape \(theirs.shape), expected \(observables[index].shape) (different time grid or model size)")
                }
                observables[index].sum.withUnsafeMutableBufferPointer { mine in
                    for i in mine.indices { mine[i] += theirs.sum[i] }
                }
                observables[index].sumOfSquares.withUnsafeMutableBufferPointer { mine in
                    for i in mine.indices { mine[i] += theirs.sumOfSquares[i] }
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
