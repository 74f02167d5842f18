import CQCLabExactSums

/// One collected output of a run, kept as exact sums: per element, the sum of its
/// independent samples and the sum of their squares, from which the mean and the standard
/// error follow once, at the end.
///
/// The sums are exact binned sums (`CSources/CQCLabExactSums`, after Demmel & Nguyen,
/// "Parallel Reproducible Summation", IEEE Trans. Computers 64(7), 2015): adding samples
/// or whole observables gives the same bits in any order and any grouping, so every
/// driver, any number of workers or ranks, any `batch_size`, a resumed run and a merge of
/// parts all produce identical results.
package struct OutputAccumulator: Sendable, Equatable {
    /// The output's name, as in QC Lab and the HDF5 file (`dm_db`, `quantum_energy`, ...).
    package let name: String
    /// Its full shape, time first: `[T]` or `[T, N, N]`.
    package let shape: [Int]
    /// Whether it is complex; complex values are stored as interleaved `re, im` pairs.
    package let isComplex: Bool
    /// The exact sums, ``OutputAccumulator/exactValuesPerElement`` integers per element (real and
    /// imaginary parts apart): the sum of the samples, then the sum of their squares.
    package package(set) var exactSums: [Int64]

    /// Integers per element in ``exactSums``.
    package static let exactValuesPerElement = Int(QCLAB_EXACT_ELEMENT)

    package init(name: String, shape: [Int], isComplex: Bool) {
        self.name = name
        self.shape = shape
        self.isComplex = isComplex
        let count = shape.reduce(1, *) * (isComplex ? 2 : 1)
        exactSums = [Int64](repeating: 0, count: count * Self.exactValuesPerElement)
        exactSums.withUnsafeMutableBufferPointer { qclab_exact_clear($0.baseAddress, count) }
    }

    /// An observable from stored exact sums (a file, a message); throws if they are not
    /// well formed for `shape`.
    package init(name: String, shape: [Int], isComplex: Bool, exactSums: [Int64]) throws {
        self.init(name: name, shape: shape, isComplex: isComplex)
        guard exactSums.count == self.exactSums.count,
              exactSums.withUnsafeBufferPointer({ qclab_exact_valid($0.baseAddress, elementCount) }) != 0 else {
            throw QCLabError.unusableData("the exact sums of '\(name)' are damaged or do not fit its shape \(shape)")
        }
        self.exactSums = exactSums
    }

    /// Real values per time series: the product of the shape, twice for complex outputs.
    package var elementCount: Int { exactSums.count / Self.exactValuesPerElement }

    /// Adds one independent sample: `values[i]` is the sample's value of element `i` (real
    /// and imaginary parts apart), the sum of its `rows` rows (trajectories).
    package mutating func addSample(_ values: [Double]) {
        precondition(values.count == elementCount, "one value per element")
        let count = elementCount
        exactSums.withUnsafeMutableBufferPointer { sums in
            values.withUnsafeBufferPointer { values in
                for i in 0..<count {
                    qclab_exact_record(sums.baseAddress! + i * Self.exactValuesPerElement, values.baseAddress! + i, 1, 1)
                }
            }
        }
    }

    /// Whether the exact sums alone show every mean finite, without computing the means:
    /// no sum received an infinity or a NaN, and no sum's window reaches the top bins
    /// (below bin 64 a sum is under 2^1000, so its mean over a positive `norm_factor`
    /// is finite). False says nothing: compute the means to know.
    package var meansAreCertainlyFinite: Bool {
        exactSums.withUnsafeBufferPointer { sums in
            // The sum of the samples' window top; an empty sum's (Int64.min) is below too.
            stride(from: 0, to: sums.count, by: Self.exactValuesPerElement).allSatisfy { sums[$0] <= 63 }
        }
    }

    /// Adds another observable's sums (same shape) to this one's.
    package mutating func addSums(of other: OutputAccumulator) {
        let count = elementCount
        exactSums.withUnsafeMutableBufferPointer { mine in
            other.exactSums.withUnsafeBufferPointer { qclab_exact_add(mine.baseAddress, $0.baseAddress, count) }
        }
    }

    /// Means (sum over `normFactor`) and, if asked, standard errors of `samples` samples.
    package func moments(normFactor: Int, samples: Int, standardErrors: Bool) -> (mean: [Double], sem: [Double]?) {
        // Means first, then the standard errors when asked, in one buffer.
        let count = elementCount
        var moments = [Double](repeating: 0, count: (standardErrors ? 2 : 1) * count)
        exactSums.withUnsafeBufferPointer { sums in moments.withUnsafeMutableBufferPointer { out in
            qclab_exact_moments(sums.baseAddress, count, Int64(normFactor), Int64(samples), out.baseAddress,
                                standardErrors ? out.baseAddress! + count : nil)
        }}
        return (Array(moments[..<count]), standardErrors ? Array(moments[count...]) : nil)
    }

    /// An observable whose sums reproduce `means` over `normFactor` trajectories (one
    /// deposit of `mean × normFactor` each), without the squares: for files that hold
    /// means alone, which have no error bars.
    package static func fromMeans(name: String, shape: [Int], isComplex: Bool, means: [Double], normFactor: Int) -> OutputAccumulator {
        var observable = OutputAccumulator(name: name, shape: shape, isComplex: isComplex)
        observable.exactSums.withUnsafeMutableBufferPointer { sums in
            for (i, mean) in means.enumerated() {
                qclab_exact_deposit(sums.baseAddress! + i * exactValuesPerElement, mean * Double(normFactor), 1)
            }
        }
        return observable
    }
}

/// The results of a run, QC Lab's `Data`: every seed that contributed, the number of
/// trajectories averaged (`norm_factor`) and the collected outputs.
///
/// Outputs are kept as exact sums (``OutputAccumulator``), so adding results is exact and its
/// result does not depend on order or grouping: every driver gives the same bits.
/// `mean(_:)` gives what QC Lab's `data_dict` holds; `standardError(_:)` gives the error
/// bars QC Lab lacks.
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
    package var observables: [OutputAccumulator]
    /// The log of the run(s), stored as the `log` attribute of the HDF5 file.
    public var log: String
    /// The job that produced the data (``Simulation/jobRecord``: JSON with every default
    /// filled in, seeds aside), the HDF5 file's `job` attribute; `nil` when unknown (a
    /// file written by QC Lab). Data of different jobs are never added together.
    public var job: String?
    /// Why the data has no error bars, if it has none (a part came from a file without
    /// them, say); ``standardError(_:)`` is then `nil`.
    public var errorBarsUnavailable: String?

    /// Empty data, ready to merge results into.
    public init() {
        self.init(seeds: [], normFactor: 0, sampleCount: 0, observables: [])
    }

    package init(seeds: [Int], normFactor: Int, sampleCount: Int, observables: [OutputAccumulator], log: String = "",
                job: String? = nil, errorBarsUnavailable: String? = nil) {
        self.seeds = seeds
        self.normFactor = normFactor
        self.sampleCount = sampleCount
        self.observables = observables
        self.log = log
        self.job = job
        self.errorBarsUnavailable = errorBarsUnavailable
    }

    /// Whether no trajectory has been added yet.
    public var isEmpty: Bool { normFactor == 0 }

    /// The observable called `name`.
    package func observable(_ name: String) -> OutputAccumulator? { observables.first { $0.name == name } }

    /// The shape of output `name` at one collect point (`[N, N]` for `dm_db`), `nil` when
    /// the data has no such output.
    public func shape(of name: String) -> [Int]? { observable(name)?.shape }

    /// The trajectory average of output `name` (QC Lab's `data_dict[name]`), flat in
    /// row-major order, real and imaginary parts interleaved for complex outputs. Shaped:
    /// ``dm_db``, ``matrices(_:standardErrors:)``, ``vectors(_:standardErrors:)``.
    public func mean(_ name: String) -> [Double]? {
        guard let o = observable(name), normFactor > 0 else { return nil }
        return o.moments(normFactor: normFactor, samples: sampleCount, standardErrors: false).mean
    }

    /// The standard error of the mean of output `name`, per element (real and imaginary
    /// parts apart), from the spread of the independent samples; zero with one sample or
    /// a spread below what the exact sums resolve. `nil` when the data has no error bars
    /// (``errorBarsUnavailable``).
    public func standardError(_ name: String) -> [Double]? {
        guard errorBarsUnavailable == nil, let o = observable(name), normFactor > 0 else { return nil }
        return o.moments(normFactor: normFactor, samples: sampleCount, standardErrors: true).sem
    }

    /// Whether the data has error bars.
    public var hasErrorBars: Bool { errorBarsUnavailable == nil }

    /// The collect times (mean of `t`).
    public var times: [Double] { mean("t") ?? [] }

    /// Adds `other` to this data, QC Lab's `add_data`: seeds are appended, sums added
    /// exactly (so the result does not depend on the order of additions). Throws when
    /// they come from different jobs (naming the difference, before any difference of shape
    /// it causes) or both hold outputs that do not match in name, shape or type.
    public mutating func add(_ other: SimulationData) throws {
        try add(other, describedAs: "the data added")
    }

    /// ``add(_:)``, naming `other` as `source` in messages.
    package mutating func add(_ other: SimulationData, describedAs source: String, mineAs mine: String = "the data added to") throws {
        // The job first: a different job explains different shapes, and names the cause.
        if let difference = JobRecord.difference(job, other.job) {
            throw QCLabError.incompatibleData(
                "different jobs: \(difference.path) is \(difference.mine) in \(mine) but \(difference.theirs) in \(source)")
        }
        if !observables.isEmpty && !other.observables.isEmpty {
            guard observables.map(\.name) == other.observables.map(\.name) else {
                throw QCLabError.incompatibleData(
                    "outputs differ: \(observables.map(\.name)) vs \(other.observables.map(\.name))")
            }
            for (index, theirs) in other.observables.enumerated() {
                guard observables[index].shape == theirs.shape, observables[index].isComplex == theirs.isComplex else {
                    throw QCLabError.incompatibleData(
                        "'\(theirs.name)' has shape \(theirs.shape), expected \(observables[index].shape) (different time grid or model size)")
                }
            }
        }
        let (samples, overflow) = sampleCount.addingReportingOverflow(other.sampleCount)
        guard !overflow, samples <= 1 << 30 else {
            throw QCLabError.incompatibleData("more than 2^30 samples (\(sampleCount) + \(other.sampleCount)) exceed what the exact sums hold")
        }
        // Data that records no job (QC Lab's) takes on the known job: what could be
        // compared (outputs, shapes) was, and the job is never dropped.
        if job == nil { job = other.job }
        if observables.isEmpty {
            observables = other.observables
        } else {
            for index in other.observables.indices { observables[index].addSums(of: other.observables[index]) }
        }
        if !other.isEmpty || !other.observables.isEmpty {
            if errorBarsUnavailable == nil, let reason = other.errorBarsUnavailable {
                errorBarsUnavailable = isEmpty ? reason : "\(source): \(reason)"
            }
        }
        seeds += other.seeds
        normFactor += other.normFactor
        sampleCount = samples
        log += other.log
    }

    /// The seed that new trajectories start from when this data is continued: one past
    /// the largest seed, or zero (QC Lab's drivers' rule).
    public var nextSeed: Int { (seeds.max() ?? -1) + 1 }
}

extension OutputAccumulator {
    /// Records one collect point of `elements` elements: element `e`'s per-row values are
    /// the `count` rows `rows[e * count ..< (e + 1) * count]`, reduced into flat slot
    /// `slot + e * stride` of this output (for complex outputs, `2 * element` holds the real
    /// part and `2 * element + 1` the imaginary part, so their stride is 2). Rows are
    /// grouped into independent samples of `branches` consecutive rows. This is the one
    /// place where per-row values become the output's sums: each sample's value (its rows
    /// added in order) and its square are deposited into exact sums, so the result does
    /// not depend on how samples are grouped into batches.
    package mutating func record(slot: Int, stride: Int, elements: Int, rows: UnsafeBufferPointer<Double>, count: Int, branches: Int) {
        precondition(rows.count >= elements * count && slot + (elements - 1) * stride < elementCount, "rows or slots out of range")
        guard elements > 0 else { return }
        exactSums.withUnsafeMutableBufferPointer {
            qclab_exact_record_elements($0.baseAddress! + slot * Self.exactValuesPerElement, stride, elements,
                                        rows.baseAddress!, count, branches)
        }
    }

    /// Records a value that is the same in all `rows` rows (the collect time, say): its
    /// sum only (the value deposited `rows` times), so its standard error is zero.
    package mutating func recordConstant(slot: Int, value: Double, rows: Int) {
        exactSums.withUnsafeMutableBufferPointer {
            qclab_exact_deposit($0.baseAddress! + slot * Self.exactValuesPerElement, value, Int64(rows))
        }
    }
}
