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

    /// Means and standard errors held as rounded numbers, for an output read from a file
    /// written without exact sums (see ``SimulationData/save(to:mergeable:)``); `nil` when
    /// ``exactSums`` hold the output (then they are empty).
    package internal(set) var rounded: RoundedMoments?

    package init(name: String, shape: [Int], isComplex: Bool) {
        self.name = name
        self.shape = shape
        self.isComplex = isComplex
        let count = shape.reduce(1, *) * (isComplex ? 2 : 1)
        // Cleared in one pass: qclab_exact_clear sets every value.
        exactSums = [Int64](unsafeUninitializedCapacity: count * Self.exactValuesPerElement) { buffer, initialized in
            qclab_exact_clear(buffer.baseAddress, count)
            initialized = count * Self.exactValuesPerElement
        }
    }

    /// An observable from stored exact sums (a file, a message); throws if they are not
    /// well formed for `shape`.
    package init(name: String, shape: [Int], isComplex: Bool, exactSums: [Int64]) throws {
        self.init(name: name, shape: shape, isComplex: isComplex)
        guard exactSums.count == self.exactSums.count,
            exactSums.withUnsafeBufferPointer({ qclab_exact_valid($0.baseAddress, elementCount) }) != 0
        else {
            throw QCLabError.unusableData("the exact sums of '\(name)' are damaged or do not fit its shape \(shape)")
        }
        self.exactSums = exactSums
    }

    /// An observable from stored means and, if the file has them, standard errors.
    ///
    /// An output of a file without exact sums. Throws unless they fit `shape`.
    public init(name: String, shape: [Int], isComplex: Bool, means: [Double], standardErrors: [Double]?) throws {
        self.name = name
        self.shape = shape
        self.isComplex = isComplex
        exactSums = []
        let count = shape.reduce(1, *) * (isComplex ? 2 : 1)
        guard means.count == count, standardErrors.map({ $0.count == count }) ?? true else {
            throw QCLabError.unusableData("the means or standard errors of '\(name)' do not fit its shape \(shape)")
        }
        rounded = RoundedMoments(mean: means, sem: standardErrors)
    }

    /// An observable held as rounded moments that fit `shape`.
    package init(name: String, shape: [Int], isComplex: Bool, rounded: RoundedMoments) {
        precondition(rounded.mean.count == shape.reduce(1, *) * (isComplex ? 2 : 1), "moments that fit the shape")
        self.name = name
        self.shape = shape
        self.isComplex = isComplex
        exactSums = []
        self.rounded = rounded
    }

    /// Real values per time series: the product of the shape, twice for complex outputs.
    package var elementCount: Int { rounded?.mean.count ?? exactSums.count / Self.exactValuesPerElement }

    /// Whether the output is held as exact sums (not as rounded means, ``rounded``).
    public var isExact: Bool { rounded == nil }

    /// The moments as rounded numbers (``rounded``, or computed from the exact sums).
    func roundedMoments(normFactor: Int, samples: Int, standardErrors: Bool) -> RoundedMoments {
        if let rounded { return RoundedMoments(mean: rounded.mean, sem: standardErrors ? rounded.sem : nil) }
        guard normFactor > 0 else {
            return RoundedMoments(mean: [Double](repeating: 0, count: elementCount), sem: nil)
        }
        let moments = moments(normFactor: normFactor, samples: samples, standardErrors: standardErrors)
        return RoundedMoments(mean: moments.mean, sem: moments.sem)
    }

    /// Adds one independent sample: `values[i]` is the sample's value of element `i` (real
    /// and imaginary parts apart), the sum of its `rows` rows (trajectories).
    package mutating func addSample(_ values: [Double]) {
        precondition(values.count == elementCount, "one value per element")
        let count = elementCount
        exactSums.withUnsafeMutableBufferPointer { sums in
            values.withUnsafeBufferPointer { values in
                for i in 0..<count {
                    qclab_exact_record(
                        sums.baseAddress! + i * Self.exactValuesPerElement, values.baseAddress! + i, 1, 1)
                }
            }
        }
    }

    /// Whether the exact sums alone show every mean finite, without computing the means.
    ///
    /// True when no sum received an infinity or a NaN, and no sum's window reaches the top bins
    /// (below bin 64 a sum is under 2^1000, so its mean over a positive `norm_factor` is finite).
    /// False says nothing: compute the means to know.
    package var meansAreCertainlyFinite: Bool {
        if let rounded { return rounded.mean.allSatisfy(\.isFinite) }
        return exactSums.withUnsafeBufferPointer { sums in
            // The sum of the samples' window top; an empty sum's (Int64.min) is below too.
            stride(from: 0, to: sums.count, by: Self.exactValuesPerElement).allSatisfy { sums[$0] <= 63 }
        }
    }

    /// Sets the exact sums of every upper-triangle element `(i, j)`, `i < j`, of a complex
    /// `states x states` output to those of `(j, i)`, the imaginary part's sum negated.
    ///
    /// The sums of a Hermitian matrix's samples are such: a deposit's window depends on the
    /// magnitude alone and its limbs take the sample's sign, so the sum of negated samples is
    /// the negated sum, limb by limb; the sums of squares are the same.
    package mutating func mirrorLowerTriangle(states n: Int, collectPoints: Int) {
        precondition(isComplex && rounded == nil && shape.suffix(2) == [n, n])
        let element = Self.exactValuesPerElement, state = Int(QCLAB_EXACT_STATE)
        exactSums.withUnsafeMutableBufferPointer { sums in
            for c in 0..<collectPoints {
                for i in 0..<n {
                    for j in (i + 1)..<n {
                        // Slots 2 e (real) and 2 e + 1 (imaginary) of element e at collect point c.
                        let upper = 2 * (c * n * n + i * n + j) * element,
                            lower = 2 * (c * n * n + j * n + i) * element
                        for v in 0..<(2 * element) { sums[upper + v] = sums[lower + v] }
                        // The imaginary part's sum of samples: its limbs (after the window's index).
                        for v in 1..<state { sums[upper + element + v] = -sums[lower + element + v] }
                    }
                }
            }
        }
    }

    /// Adds another observable's sums (same shape) to this one's.
    package mutating func addSums(of other: OutputAccumulator) {
        precondition(isExact && other.isExact, "exact sums only")
        let count = elementCount
        exactSums.withUnsafeMutableBufferPointer { mine in
            other.exactSums.withUnsafeBufferPointer { qclab_exact_add(mine.baseAddress, $0.baseAddress, count) }
        }
    }

    /// Means (sum over `normFactor`) and, if asked, standard errors of `samples` samples.
    package func moments(normFactor: Int, samples: Int, standardErrors: Bool) -> (mean: [Double], sem: [Double]?) {
        if let rounded {
            return (
                rounded.mean, standardErrors ? rounded.sem ?? [Double](repeating: 0, count: rounded.mean.count) : nil
            )
        }
        // Means first, then the standard errors when asked, in one buffer.
        let count = elementCount
        var moments = [Double](repeating: 0, count: (standardErrors ? 2 : 1) * count)
        exactSums.withUnsafeBufferPointer { sums in
            moments.withUnsafeMutableBufferPointer { out in
                let mean = out.baseAddress!, sem = standardErrors ? mean + count : nil
                /// The moments of the `values` values from `first` on (real and imaginary parts apart).
                func compute(_ first: Int, _ values: Int) {
                    qclab_exact_moments(
                        sums.baseAddress! + first * Self.exactValuesPerElement, values, Int64(normFactor),
                        Int64(samples), mean + first, sem.map { $0 + first })
                }
                guard isComplex, shape.count == 3, shape[1] == shape[2], shape[1] > 1 else {
                    return compute(0, count)
                }
                // A square complex matrix: the lower triangles first; then each upper element
                // whose sums mirror its lower one's (a Hermitian output's, mirrorLowerTriangle)
                // takes the conjugate mean and the same error from it; any other is computed.
                let n = shape[1]
                for c in 0..<shape[0] {
                    for i in 0..<n { compute(2 * (c * n * n + i * n), 2 * (i + 1)) }
                    for i in 0..<n {
                        for j in (i + 1)..<n {
                            let upper = 2 * (c * n * n + i * n + j), lower = 2 * (c * n * n + j * n + i)
                            guard Self.mirrors(sums, upper: upper, lower: lower) else {
                                compute(upper, 2)
                                continue
                            }
                            mean[upper] = mean[lower]
                            mean[upper + 1] = 0 - mean[lower + 1]
                            if let sem {
                                sem[upper] = sem[lower]
                                sem[upper + 1] = sem[lower + 1]
                            }
                        }
                    }
                }
            }
        }
        return (Array(moments[..<count]), standardErrors ? Array(moments[count...]) : nil)
    }

    /// Whether the sums of the complex value at `upper` (its real, then imaginary part) are
    /// those of the value at `lower` conjugated: the same but for the imaginary part's sum of
    /// samples, negated limb by limb (see ``mirrorLowerTriangle(states:collectPoints:)``).
    private static func mirrors(_ sums: UnsafeBufferPointer<Int64>, upper: Int, lower: Int) -> Bool {
        let element = exactValuesPerElement, state = Int(QCLAB_EXACT_STATE)
        let u = upper * element, l = lower * element
        for v in 0..<(2 * element) {
            let negated = v > element && v < element + state
            guard sums[u + v] == (negated ? 0 &- sums[l + v] : sums[l + v]) else { return false }
        }
        return true
    }

    /// An observable whose sums reproduce `means` over `normFactor` trajectories (one
    /// deposit of `mean × normFactor` each), without the squares: for files that hold
    /// means alone, which have no error bars.
    package static func fromMeans(name: String, shape: [Int], isComplex: Bool, means: [Double], normFactor: Int)
        -> OutputAccumulator
    {
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
    /// The job that produced the data, or `nil` when unknown (a file written by QC Lab).
    ///
    /// It is ``Simulation/jobRecord`` (JSON with every default filled in, seeds aside), the HDF5
    /// file's `job` attribute. Data of different jobs are never added together.
    public var job: String?
    /// Why the data has no error bars, if it has none (a part came from a file without
    /// them, say); ``standardError(_:)`` is then `nil`.
    public var errorBarsUnavailable: String?
    /// Why the data is not the exact result of its trajectories, if it is not.
    ///
    /// It holds or was combined with outputs of a file written without exact sums, whose means were
    /// combined in floating point (see ``RoundedMoments``). Such data is saved without exact sums.
    public var notExact: String?
    /// The eigensolvers' trajectory solves behind this data and those LAPACK redid: a
    /// diagnostic for the run's log, which ``add(_:)`` sums but equality ignores (files do not
    /// keep it).
    package var eigensolverCounts = EigensolverCounts()

    /// ``notExact`` of data read from a file without exact sums.
    public static let writtenWithoutExactSums = "written without exact sums"

    /// Whether every output is held as exact sums, so that adding more data stays exact.
    public var isExact: Bool { observables.allSatisfy(\.isExact) }

    /// Empty data, ready to merge results into.
    public init() {
        self.init(seeds: [], normFactor: 0, sampleCount: 0, observables: [])
    }

    package init(
        seeds: [Int], normFactor: Int, sampleCount: Int, observables: [OutputAccumulator], log: String = "",
        job: String? = nil, errorBarsUnavailable: String? = nil, notExact: String? = nil
    ) {
        self.seeds = seeds
        self.normFactor = normFactor
        self.sampleCount = sampleCount
        self.observables = observables
        self.log = log
        self.job = job
        self.errorBarsUnavailable = errorBarsUnavailable
        self.notExact = notExact
    }

    /// Whether no trajectory has been added yet.
    public var isEmpty: Bool { normFactor == 0 }

    /// The observable called `name`.
    package func observable(_ name: String) -> OutputAccumulator? { observables.first { $0.name == name } }

    /// The shape of output `name` at one collect point (`[N, N]` for `dm_db`), `nil` when
    /// the data has no such output.
    public func shape(of name: String) -> [Int]? { observable(name)?.shape }

    /// The trajectory average of output `name` (QC Lab's `data_dict[name]`), flat.
    ///
    /// In row-major order, real and imaginary parts interleaved for complex outputs. Shaped:
    /// ``dm_db``, ``matrices(_:standardErrors:)``, ``vectors(_:standardErrors:)``.
    public func mean(_ name: String) -> [Double]? {
        guard let o = observable(name), normFactor > 0 else { return nil }
        return o.moments(normFactor: normFactor, samples: sampleCount, standardErrors: false).mean
    }

    /// The means of the elements `elements` of output `name` (flat indices, real and
    /// imaginary parts apart, as in ``mean(_:)``), without computing the others; `nil`
    /// when there is no such output or an index is out of range.
    public func mean(_ name: String, elements: [Int]) -> [Double]? {
        guard let o = observable(name), normFactor > 0, elements.allSatisfy({ (0..<o.elementCount).contains($0) })
        else { return nil }
        if let rounded = o.rounded { return elements.map { rounded.mean[$0] } }
        var means = [Double](repeating: 0, count: elements.count)
        o.exactSums.withUnsafeBufferPointer { sums in
            for (i, element) in elements.enumerated() {
                qclab_exact_moments(
                    sums.baseAddress! + element * OutputAccumulator.exactValuesPerElement, 1, Int64(normFactor),
                    Int64(sampleCount), &means[i], nil)
            }
        }
        return means
    }

    /// The standard error of the mean of output `name`, per element.
    ///
    /// Real and imaginary parts are apart. It comes from the spread of the independent samples;
    /// zero with one sample or a spread below what the exact sums resolve. `nil` when the data has
    /// no error bars (``errorBarsUnavailable``).
    public func standardError(_ name: String) -> [Double]? {
        guard errorBarsUnavailable == nil, let o = observable(name), normFactor > 0 else { return nil }
        return o.moments(normFactor: normFactor, samples: sampleCount, standardErrors: true).sem
    }

    /// Whether the data has error bars.
    public var hasErrorBars: Bool { errorBarsUnavailable == nil }

    /// The collect times (mean of `t`).
    public var times: [Double] { mean("t") ?? [] }

    /// Adds `other` to this data, QC Lab's `add_data`.
    ///
    /// Seeds are appended, sums added exactly (so the result does not depend on the order of
    /// additions). Throws when they come from different jobs (naming the difference, before any
    /// difference of shape it causes) or both hold outputs that do not match in name, shape or
    /// type.
    public mutating func add(_ other: SimulationData) throws {
        try add(other, describedAs: "the data added")
    }

    /// ``add(_:)``, naming `other` as `source` in messages.
    package mutating func add(
        _ other: SimulationData, describedAs source: String, mineAs mine: String = "the data added to"
    ) throws {
        // The job first: a different job explains different shapes, and names the cause.
        if let difference = JobRecord.difference(job, other.job) {
            throw QCLabError.incompatibleData(
                "different jobs: \(difference.path) is \(difference.mine) in \(mine) but \(difference.theirs) in \(source)"
            )
        }
        if !observables.isEmpty && !other.observables.isEmpty {
            guard observables.map(\.name) == other.observables.map(\.name) else {
                throw QCLabError.incompatibleData(
                    "outputs differ: \(observables.map(\.name)) vs \(other.observables.map(\.name))")
            }
            for (index, theirs) in other.observables.enumerated() {
                guard observables[index].shape == theirs.shape, observables[index].isComplex == theirs.isComplex else {
                    throw QCLabError.incompatibleData(
                        "'\(theirs.name)' has shape \(theirs.shape), expected \(observables[index].shape) (different time grid or model size)"
                    )
                }
            }
        }
        let (samples, overflow) = sampleCount.addingReportingOverflow(other.sampleCount)
        guard !overflow, samples <= 1 << 30 else {
            throw QCLabError.incompatibleData(
                "more than 2^30 samples (\(sampleCount) + \(other.sampleCount)) exceed what the exact sums hold")
        }
        // Data that records no job (QC Lab's) takes on the known job: what could be
        // compared (outputs, shapes) was, and the job is never dropped.
        if job == nil { job = other.job }
        if observables.isEmpty {
            observables = other.observables
        } else if isExact && other.isExact {
            for index in other.observables.indices { observables[index].addSums(of: other.observables[index]) }
        } else {
            // Rounded means on either side: combined in floating point, this data first.
            let mineHasErrorBars = hasErrorBars && sampleCount > 0,
                theirsHaveErrorBars = other.hasErrorBars && other.sampleCount > 0
            for index in other.observables.indices {
                let mine = observables[index], theirs = other.observables[index]
                let a = mine.roundedMoments(
                    normFactor: normFactor, samples: sampleCount, standardErrors: mineHasErrorBars)
                let b = theirs.roundedMoments(
                    normFactor: other.normFactor, samples: other.sampleCount, standardErrors: theirsHaveErrorBars)
                let combined =
                    normFactor == 0
                    ? b
                    : other.normFactor == 0
                        ? a
                        : RoundedMoments.combining(
                            a, rows: normFactor, samples: sampleCount, b, rows: other.normFactor,
                            samples: other.sampleCount)
                observables[index] = try OutputAccumulator(
                    name: mine.name, shape: mine.shape, isComplex: mine.isComplex,
                    means: combined.mean, standardErrors: combined.sem)
            }
        }
        if notExact == nil, !isExact || other.notExact != nil {
            notExact = other.notExact ?? Self.writtenWithoutExactSums
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
        eigensolverCounts = eigensolverCounts + other.eigensolverCounts
    }

    /// Whether the two hold the same results and records (``eigensolverCounts`` aside).
    public static func == (a: SimulationData, b: SimulationData) -> Bool {
        a.seeds == b.seeds && a.normFactor == b.normFactor && a.sampleCount == b.sampleCount
            && a.observables == b.observables && a.log == b.log && a.job == b.job
            && a.errorBarsUnavailable == b.errorBarsUnavailable && a.notExact == b.notExact
    }

    /// The seed that new trajectories start from when this data is continued: one past
    /// the largest seed, or zero (QC Lab's drivers' rule).
    public var nextSeed: Int { (seeds.max() ?? -1) + 1 }
}

extension OutputAccumulator {
    /// Records one collect point of `elements` elements.
    ///
    /// Element `e`'s per-row values are the `count` rows `rows[e * count ..< (e + 1) * count]`,
    /// reduced into flat slot `slot + e * stride` of this output (for complex outputs,
    /// `2 * element` holds the real part and `2 * element + 1` the imaginary part, so their stride
    /// is 2). Rows are grouped into independent samples of `branches` consecutive rows. This is the
    /// one place where per-row values become the output's sums: each sample's value (its rows added
    /// in order) and its square are deposited into exact sums, so the result does not depend on how
    /// samples are grouped into batches.
    package mutating func record(
        slot: Int, stride: Int, elements: Int, rows: UnsafeBufferPointer<Double>, count: Int, branches: Int
    ) {
        precondition(
            rows.count >= elements * count && slot + (elements - 1) * stride < elementCount,
            "rows or slots out of range")
        guard elements > 0 else { return }
        exactSums.withUnsafeMutableBufferPointer {
            qclab_exact_record_elements(
                $0.baseAddress! + slot * Self.exactValuesPerElement, stride, elements,
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

/// Means and standard errors as rounded numbers: an output of a file written without
/// exact sums, or of data combined with one.
package struct RoundedMoments: Sendable, Equatable {
    /// The means, per element (real and imaginary parts apart).
    package var mean: [Double]
    /// The standard errors of the means, per element; `nil` without error bars.
    package var sem: [Double]?

    package init(mean: [Double], sem: [Double]?) {
        self.mean = mean
        self.sem = sem
    }

    /// The moments of two parts' rows together, in floating point.
    ///
    /// Part `a` (`rowsA` rows in `samplesA` samples) comes first, then `b`, always in that order.
    /// The means are weighted by rows; the standard errors by the pooled spread of the samples
    /// (Chan, Golub and LeVeque's pairwise update: each part's sum of squared deviations, plus that
    /// of its mean from the other's). `nil` standard errors in either part give `nil`.
    static func combining(
        _ a: RoundedMoments, rows rowsA: Int, samples samplesA: Int,
        _ b: RoundedMoments, rows rowsB: Int, samples samplesB: Int
    ) -> RoundedMoments {
        let na = Double(samplesA), nb = Double(samplesB), n = na + nb
        let ra = Double(rowsA), rb = Double(rowsB), rows = ra + rb
        // Rows per sample (the branches of a group), the same in both parts of one job.
        let perSampleA = samplesA > 0 ? ra / na : 1, perSampleB = samplesB > 0 ? rb / nb : 1
        let perSample = n > 0 ? rows / n : 1
        var mean = [Double](repeating: 0, count: a.mean.count)
        var sem: [Double]? = a.sem != nil && b.sem != nil ? mean : nil
        for i in mean.indices {
            mean[i] = (a.mean[i] * ra + b.mean[i] * rb) / rows
            guard let semA = a.sem?[i], let semB = b.sem?[i] else { continue }
            // Per sample: its mean, and the sum of squared deviations (n - 1) n sem^2.
            let meanA = a.mean[i] * perSampleA, meanB = b.mean[i] * perSampleB
            let squaresA = na > 1 ? (na - 1) * na * (semA * perSampleA) * (semA * perSampleA) : 0
            let squaresB = nb > 1 ? (nb - 1) * nb * (semB * perSampleB) * (semB * perSampleB) : 0
            let delta = meanB - meanA
            let squares = squaresA + squaresB + delta * delta * (na * nb / n)
            sem![i] = n > 1 ? (squares / (n * (n - 1))).squareRoot() / perSample : 0
        }
        return RoundedMoments(mean: mean, sem: sem)
    }
}
