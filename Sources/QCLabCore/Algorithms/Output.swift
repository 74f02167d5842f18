import CQCLabExactSums

/// One quantity a run collects: a name, a shape at each collect point, and the per-trajectory
/// values it computes from the batch's state there (QC Lab's collect tasks).
///
/// The ``OutputCollector`` turns the per-trajectory values into sums and error bars, and
/// merging, the drivers and HDF5 treat every output alike. Algorithms declare their
/// default outputs (``Algorithm/defaultOutputs(for:)``); a simulation adds its own
/// (``Simulation/outputs``), and a job file names built-in extras in its `"outputs"` list
/// (``OutputRegistry``).
///
/// ```swift
/// // The mean position of the first coordinate: one real value per trajectory.
/// let q0 = Output(name: "q0", shape: []) { state, values in
///     let scale = (2 / (state.model.classicalCoordinateMass[0] * state.model.classicalCoordinateWeight[0])).squareRoot()
///     for t in 0..<state.rows { values.re[t] = scale * state.z.re[t] }
/// }
/// ```
public struct Output: Sendable {
    /// Computes the values of every trajectory (row) of `state` into `values`.
    ///
    /// `values` is a batch of one component per element of ``shape`` (row-major), real parts in
    /// `re`, imaginary parts in `im` (left alone for real outputs). It holds the last collect
    /// point's values on entry.
    package typealias Values = @Sendable (_ state: CollectState, _ values: inout ComplexBatch) throws -> Void

    /// The output's name in the results and the HDF5 file.
    public let name: String
    /// Its shape at one collect point (`[]` for a scalar, `[N, N]` for a matrix); the
    /// results have the shape `[T] + shape`.
    public let shape: [Int]
    public let isComplex: Bool
    /// What the output needs of the algorithm's state beyond `z`, `wf_db` and `H`.
    public let requirement: Requirement
    package let kind: Kind
    /// Whether every trajectory's value is a Hermitian `N x N` matrix to the bit (its upper
    /// triangle mirrors the lower one, the imaginary parts negated, as a kernel that computes
    /// the lower triangle and copies it makes it): the collector then sums the lower triangle
    /// only and mirrors the sums, which are the same bits.
    package var isHermitianMatrix = false

    /// What an output needs beyond `z`, `wf_db` and `H`.
    public enum Requirement: Sendable, Equatable {
        case none
        /// Active surfaces (surface hopping).
        case activeSurfaces
    }

    package enum Kind: Sendable {
        case perTrajectory(Values)
        /// The same value in every trajectory (the collect time).
        case shared(@Sendable (CollectState) -> Double)
    }

    /// An output of per-trajectory values.
    public init(
        name: String, shape: [Int], isComplex: Bool = false, requirement: Requirement = .none,
        values: @escaping @Sendable (_ state: CollectState, _ values: inout ComplexBatch) throws -> Void
    ) {
        self.name = name
        self.shape = shape
        self.isComplex = isComplex
        self.requirement = requirement
        kind = .perTrajectory(values)
    }

    /// A real scalar output that is the same in every trajectory.
    public init(name: String, sharedValue: @escaping @Sendable (CollectState) -> Double) {
        self.name = name
        shape = []
        isComplex = false
        requirement = .none
        kind = .shared(sharedValue)
    }

    /// Elements per collect point.
    public var elementCount: Int { shape.reduce(1, *) }
}

/// The state of a batch at a collect point, as outputs see it.
///
/// Rows are trajectories; in deterministic surface hopping, row `g N + b` is branch `b` of initial
/// condition `g`.
public struct CollectState {
    public let model: any Model
    /// The collect time.
    public let time: Double
    /// Classical coordinates `z`.
    public let z: ComplexBatch
    /// Diabatic wavefunctions `wf_db`.
    public let wfDb: ComplexBatch
    /// `H_q + H_qc(z)` of every row.
    public let hamiltonian: ComplexBatch
    /// Estimator weights of the rows (deterministic surface hopping: `N` times the branch's
    /// initial population), or `nil` when every row counts once.
    public let weights: [Double]?
    /// The adiabatic frame, for algorithms that keep one.
    public let frame: AdiabaticFrame?
    /// Each row's active surface, for surface-hopping algorithms.
    public let activeSurface: [Int]?
    /// Adiabatic wavefunctions `wf_adb`, for algorithms that keep them.
    public let wfAdb: ComplexBatch?
    /// Each row's active eigenvector, for surface-hopping algorithms.
    public let activeWavefunction: ComplexBatch?
    /// Rows (trajectories) of the batch.
    public var rows: Int { z.batchSize }

    public init(
        model: any Model, time: Double, z: ComplexBatch, wfDb: ComplexBatch, hamiltonian: ComplexBatch,
        weights: [Double]? = nil, frame: AdiabaticFrame? = nil, activeSurface: [Int]? = nil,
        wfAdb: ComplexBatch? = nil, activeWavefunction: ComplexBatch? = nil
    ) {
        self.model = model
        self.time = time
        self.z = z
        self.wfDb = wfDb
        self.hamiltonian = hamiltonian
        self.weights = weights
        self.frame = frame
        self.activeSurface = activeSurface
        self.wfAdb = wfAdb
        self.activeWavefunction = activeWavefunction
    }
}

/// Accumulates a batch's outputs: at each collect point, every output's per-trajectory
/// values become sums over the rows and squared deviations over the independent samples
/// (groups of `branches` rows), through ``OutputAccumulator/record(slot:stride:elements:rows:count:branches:)``.
///
/// Each collect point also tells the driver how far the batch has got (``BatchProgress``),
/// so that progress shows within a batch under every algorithm.
@usableFromInline
package struct OutputCollector {
    package let outputs: [Output]
    package let rows: Int
    package let branches: Int
    /// Collect points of the time grid.
    private let collectCount: Int
    private var observables: [OutputAccumulator]
    private var values: [ComplexBatch]
    /// Per output, per flat slot, the sum of the samples then the sum of their squares, when
    /// the collector keeps plain floating-point sums (``OutputReduction``); `nil` for exact sums.
    private var plainSums: [[Double]]?

    /// A collector for `outputs` on `grid`, for a batch of `rows` rows in groups of `branches`.
    @usableFromInline
    package init(outputs: [Output], grid: TimeGrid, rows: Int, branches: Int = 1) {
        self.outputs = outputs
        self.rows = rows
        self.branches = branches
        collectCount = grid.collectCount
        observables = outputs.map {
            OutputAccumulator(name: $0.name, shape: [grid.collectCount] + $0.shape, isComplex: $0.isComplex)
        }
        plainSums =
            OutputReduction.plainFloatingPointSums
            ? observables.map { [Double](repeating: 0, count: 2 * $0.elementCount) } : nil
        values = outputs.map { output in
            if case .shared = output.kind { return ComplexBatch(components: 0, batchSize: 0) }
            return ComplexBatch(components: output.elementCount, batchSize: rows)
        }
    }

    /// Records every output at collect point `index`, then reports the batch's progress
    /// (collect points are recorded in order, so `index + 1` of them are done).
    @usableFromInline
    package mutating func collect(_ state: CollectState, index: Int) throws {
        precondition(state.rows == rows, "a state of \(state.rows) rows for a collector of \(rows)")
        for (o, output) in outputs.enumerated() {
            let elements = output.elementCount
            switch output.kind {
            case let .shared(value):
                if plainSums != nil {
                    plainSums![o][2 * index * elements] += value(state) * Double(rows)
                } else {
                    observables[o].recordConstant(slot: index * elements, value: value(state), rows: rows)
                }
            case let .perTrajectory(compute):
                try compute(state, &values[o])
                // Element e's rows are re[e * rows ..< (e + 1) * rows] (and im alike).
                let first = index * elements, stride = output.isComplex ? 2 : 1
                if mirrorsHermitian(output) {
                    // Row i's elements (i, 0 ... i): the lower triangle, mirrored in data(seeds:).
                    let n = output.shape[0], rows = self.rows
                    for i in 0..<n {
                        values[o].re.withUnsafeBufferPointer {
                            record(
                                o, slot: 2 * (first + i * n), stride: 2, elements: i + 1,
                                rows: UnsafeBufferPointer(rebasing: $0[(i * n * rows)...]))
                        }
                        values[o].im.withUnsafeBufferPointer {
                            record(
                                o, slot: 2 * (first + i * n) + 1, stride: 2, elements: i + 1,
                                rows: UnsafeBufferPointer(rebasing: $0[(i * n * rows)...]))
                        }
                    }
                    continue
                }
                values[o].re.withUnsafeBufferPointer {
                    record(o, slot: stride * first, stride: stride, elements: elements, rows: $0)
                }
                if output.isComplex {
                    values[o].im.withUnsafeBufferPointer {
                        record(o, slot: 2 * first + 1, stride: 2, elements: elements, rows: $0)
                    }
                }
            }
        }
        BatchProgress.collected(index + 1, of: collectCount)
    }

    /// Whether `output`'s sums are kept for its lower triangle only (exact sums of a Hermitian
    /// matrix; plain sums keep every element).
    private func mirrorsHermitian(_ output: Output) -> Bool {
        output.isHermitianMatrix && output.isComplex && plainSums == nil && output.shape.count == 2
            && output.shape[0] == output.shape[1]
    }

    /// Records `elements` elements of output `o` from their rows, into flat slots `slot`,
    /// `slot + stride`, ...: exactly, or into the plain sums when the collector keeps them.
    private mutating func record(_ o: Int, slot: Int, stride: Int, elements: Int, rows: UnsafeBufferPointer<Double>) {
        guard plainSums != nil else {
            observables[o].record(
                slot: slot, stride: stride, elements: elements, rows: rows, count: self.rows, branches: branches)
            return
        }
        precondition(rows.count >= elements * self.rows && 2 * (slot + (elements - 1) * stride) < plainSums![o].count)
        plainSums![o].withUnsafeMutableBufferPointer {
            qclab_plain_record_elements(
                $0.baseAddress! + 2 * slot, stride, elements, rows.baseAddress!, self.rows, branches)
        }
    }

    /// The batch's results: sums over its `rows` rows, `rows / branches` independent samples.
    ///
    /// With plain floating-point sums, the outputs are rounded means and standard errors (which
    /// the drivers then combine in floating point), marked not exact.
    ///
    /// The batch's last call: the sums move into the result rather than being copied (a
    /// Holstein lattice's `dm_db` sums are tens to hundreds of megabytes), and the collector
    /// is left without them.
    @usableFromInline
    package mutating func data(seeds: [Int]) -> SimulationData {
        let samples = rows / max(branches, 1)
        guard let plainSums else {
            var observables: [OutputAccumulator] = []
            swap(&observables, &self.observables)
            for (o, output) in outputs.enumerated() where mirrorsHermitian(output) {
                observables[o].mirrorLowerTriangle(states: output.shape[0], collectPoints: collectCount)
            }
            return SimulationData(seeds: seeds, normFactor: rows, sampleCount: samples, observables: observables)
        }
        let n = Double(samples), perSample = Double(max(branches, 1))
        let rounded = zip(observables, plainSums).map { observable, sums in
            var moments = RoundedMoments(mean: [], sem: [])
            for slot in 0..<sums.count / 2 {
                let s1 = sums[2 * slot], s2 = sums[2 * slot + 1]
                // n (n - 1) B² s² = n S2 - S1², as the exact moments compute it.
                let spread = n * s2 - s1 * s1
                moments.mean.append(s1 / Double(rows))
                moments.sem!.append(n > 1 && spread > 0 ? (spread / (n * n * (n - 1))).squareRoot() / perSample : 0)
            }
            return OutputAccumulator(
                name: observable.name, shape: observable.shape, isComplex: observable.isComplex, rounded: moments)
        }
        return SimulationData(
            seeds: seeds, normFactor: rows, sampleCount: samples, observables: rounded,
            notExact: "plain floating-point sums (OutputReduction.plainFloatingPointSums)")
    }
}

/// How collectors reduce per-trajectory values (for benchmarks).
@_spi(Benchmarks) public enum OutputReduction {
    /// Whether collectors made from now on keep plain floating-point sums instead of exact ones.
    ///
    /// For benchmarks only, to time a run with the exact reduction switched off: the results
    /// are then rounded means, combined in floating point (not bit-identical across drivers or
    /// batch sizes). Nothing but a benchmark sets it; runs, tests and tools leave it `false`.
    nonisolated(unsafe) public static var plainFloatingPointSums = false
}
