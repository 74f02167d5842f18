/// A dynamics algorithm: QC Lab's `Algorithm` with its initialization, update and
/// collect recipes, run on one batch of trajectories at a time.
public protocol Algorithm: Sendable {
    /// QC Lab's class name, such as `MeanField`.
    var algorithmName: String { get }
    /// Trajectories (rows of a batch) that share one set of initial conditions: 1, or
    /// the number of states in deterministic surface hopping.
    func branchCount(for model: any Model) -> Int
    /// Runs the trajectories of `seeds` as one batch and returns their summed outputs.
    func runBatch(model: any Model, grid: TimeGrid, initialWavefunction: [Complex], seeds: [Int]) throws -> SimulationData
}

/// Accumulates the outputs QC Lab's collect recipes produce (`t`, `dm_db`,
/// `quantum_energy`, `classical_energy`) as sums over the rows of a batch, and as sums
/// of squares over its independent samples (groups of `branches` rows).
struct OutputCollector {
    let batchSize: Int
    let branches: Int
    let states: Int
    var t: Observable
    var dmDb: Observable
    var quantumEnergy: Observable
    var classicalEnergy: Observable
    /// Per-sample scratch for the squares.
    private var sampleRe: [Double]
    private var sampleIm: [Double]

    init(grid: TimeGrid, batchSize: Int, branches: Int, states: Int) {
        self.batchSize = batchSize
        self.branches = branches
        self.states = states
        let count = grid.collectCount
        t = Observable(name: "t", shape: [count], isComplex: false)
        dmDb = Observable(name: "dm_db", shape: [count, states, states], isComplex: true)
        quantumEnergy = Observable(name: "quantum_energy", shape: [count], isComplex: false)
        classicalEnergy = Observable(name: "classical_energy", shape: [count], isComplex: false)
        sampleRe = [Double](repeating: 0, count: batchSize / branches)
        sampleIm = sampleRe
    }

    /// Records the time of collect point `index` (the same in every trajectory).
    mutating func collectTime(_ index: Int, time: Double) {
        t.recordConstant(slot: index, value: time, rows: batchSize)
    }

    /// Records a real per-row quantity of `observable` at collect point `index`.
    private mutating func collect(_ rows: [Double], into observable: WritableKeyPath<OutputCollector, Observable>, index: Int) {
        var output = self[keyPath: observable]
        rows.withUnsafeBufferPointer {
            output.record(slot: index, rows: $0, first: 0, count: batchSize, branches: branches, scratch: &sampleRe)
        }
        self[keyPath: observable] = output
    }

    /// Records the per-row quantum energies at collect point `index`.
    mutating func collectQuantumEnergy(_ index: Int, _ rows: [Double]) {
        collect(rows, into: \.quantumEnergy, index: index)
    }

    /// Records the per-row classical energies at collect point `index`.
    mutating func collectClassicalEnergy(_ index: Int, _ rows: [Double]) {
        collect(rows, into: \.classicalEnergy, index: index)
    }

    /// Records the per-row density matrices (an `N*N`-component batch) at collect point `index`.
    mutating func collectDensityMatrix(_ index: Int, _ rho: ComplexBatch) {
        let perTime = states * states
        for element in 0..<perTime {
            let slot = 2 * (index * perTime + element)
            rho.re.withUnsafeBufferPointer {
                dmDb.record(slot: slot, rows: $0, first: element * batchSize, count: batchSize, branches: branches,
                            scratch: &sampleRe)
            }
            rho.im.withUnsafeBufferPointer {
                dmDb.record(slot: slot + 1, rows: $0, first: element * batchSize, count: batchSize, branches: branches,
                            scratch: &sampleIm)
            }
        }
    }

    /// The batch's results as ``SimulationData``.
    func data(seeds: [Int]) -> SimulationData {
        SimulationData(seeds: seeds, normFactor: batchSize, sampleCount: batchSize / branches,
             observables: [t, dmDb, quantumEnergy, classicalEnergy])
    }
}

extension Observable {
    /// Records one collect point of one element: the per-row values of `count` rows,
    /// `rows[first + r]`, reduced into flat slot `slot` of this output (for complex outputs,
    /// `2 * element` for the real part and `2 * element + 1` for the imaginary part).
    /// Rows are grouped into independent samples of `branches` consecutive rows. This is
    /// the one place where per-row values become the output's sums: each sample's value
    /// (its rows added in order) and its square are deposited into exact sums, so the
    /// result does not depend on how samples are grouped into batches. `scratch` is unused
    /// (kept for the engine's call sites).
    mutating func record(slot: Int, rows: UnsafeBufferPointer<Double>, first: Int, count: Int, branches: Int,
                         scratch: inout [Double]) {
        recordSamples(slot: slot, rows: rows.baseAddress! + first, count: count, branches: branches)
    }

    /// Records a value that is the same in all `rows` rows (the collect time, say): its
    /// sum only, so its standard error is zero.
    mutating func recordConstant(slot: Int, value: Double, rows: Int) {
        depositConstant(slot: slot, value: value, rows: rows)
    }
}
