/// A dynamics algorithm: QC Lab's `Algorithm` with its initialization, update and
/// collect recipes, run on one batch of trajectories at a time.
public protocol Algorithm: Sendable {
    /// QC Lab's class name, such as `MeanField`.
    var algorithmName: String { get }
    /// Trajectories (rows of a batch) that share one set of initial conditions: 1, or
    /// the number of states in deterministic surface hopping.
    func branchCount(for model: any Model) -> Int
    /// Runs the trajectories of `seeds` as one batch and returns their summed outputs.
    func runBatch(model: any Model, grid: TimeGrid, initialWavefunction: [Complex], seeds: [Int]) throws -> Data
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

    /// Records the time of collect point `index`.
    mutating func collectTime(_ index: Int, time: Double) {
        t.sum[index] = time * Double(batchSize)
        t.sumOfSquares[index] = time * time * Double(batchSize / branches)
    }

    /// Adds a real per-row quantity to `observable` at element `element` (time index).
    private static func accumulate(_ observable: inout Observable, element: Int, rows: UnsafeBufferPointer<Double>, branches: Int) {
        var sum = 0.0, squares = 0.0
        for group in 0..<rows.count / branches {
            var sample = 0.0
            for b in 0..<branches { sample += rows[group * branches + b] }
            sum += sample
            sample /= Double(branches)
            squares += sample * sample
        }
        observable.sum[element] += sum
        observable.sumOfSquares[element] += squares
    }

    /// Records the per-row quantum energies at collect point `index`.
    mutating func collectQuantumEnergy(_ index: Int, _ rows: [Double]) {
        rows.withUnsafeBufferPointer { Self.accumulate(&quantumEnergy, element: index, rows: $0, branches: branches) }
    }

    /// Records the per-row classical energies at collect point `index`.
    mutating func collectClassicalEnergy(_ index: Int, _ rows: [Double]) {
        rows.withUnsafeBufferPointer { Self.accumulate(&classicalEnergy, element: index, rows: $0, branches: branches) }
    }

    /// Records the per-row density matrices (an `N*N`-component batch) at collect point `index`.
    mutating func collectDensityMatrix(_ index: Int, _ rho: ComplexBatch) {
        let perTime = states * states
        for element in 0..<perTime {
            let base = element * batchSize
            var sumRe = 0.0, sumIm = 0.0, squaresRe = 0.0, squaresIm = 0.0
            for group in 0..<batchSize / branches {
                var re = 0.0, im = 0.0
                for b in 0..<branches {
                    re += rho.re[base + group * branches + b]
                    im += rho.im[base + group * branches + b]
                }
                sumRe += re
                sumIm += im
                re /= Double(branches)
                im /= Double(branches)
                squaresRe += re * re
                squaresIm += im * im
            }
            let slot = 2 * (index * perTime + element)
            dmDb.sum[slot] += sumRe
            dmDb.sum[slot + 1] += sumIm
            dmDb.sumOfSquares[slot] += squaresRe
            dmDb.sumOfSquares[slot + 1] += squaresIm
        }
    }

    /// The batch's results as ``Data``.
    func data(seeds: [Int]) -> Data {
        Data(seeds: seeds, normFactor: batchSize, sampleCount: batchSize / branches,
             observables: [t, dmDb, quantumEnergy, classicalEnergy])
    }
}
