import QCLab

// The test target compiles this file too (Tests/QCLabTests/ReversingFSSH.swift is a
// symlink to it), so the example and its tests run one and the same algorithm.
/// Stochastic FSSH that reverses the momentum when a hop is frustrated.
///
/// The momentum is reversed along the rescaling direction (QC Lab's "modify FSSH" tutorial; Jasper
/// & Truhlar, Chem. Phys. Lett. 369, 60 (2003)). It is built from the library's blocks: the
/// ``AdiabaticFrame``, ``ClassicalRK4``, ``LegacyRandomStreams`` and the library's time loop, which
/// collects QC Lab's FSSH outputs. With `reverseFrustratedHops == false` it is QC Lab's FSSH.
public struct ReversingFSSH: Algorithm {
    public var reverseFrustratedHops = true
    public var gaugeFixing = FewestSwitchesSurfaceHopping.GaugeFixing.signOverlap
    public init(reverseFrustratedHops: Bool = true) { self.reverseFrustratedHops = reverseFrustratedHops }

    public var algorithmName: String { "ReversingFSSH" }
    public func branchCount(for model: any Model) -> Int { 1 }
    public func defaultOutputs(for model: any Model) -> [Output] {
        FewestSwitchesSurfaceHopping().defaultOutputs(for: model)
    }

    public func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData {
        var batch = try ReversingFSSHBatch(
            algorithm: self, model: model, grid: grid, seeds: seeds,
            initialWavefunction: initialWavefunction)
        return try runTimeLoop(batch: &batch, grid: grid, outputs: outputs, seeds: seeds)
    }

    /// Reverses the mass-weighted momentum's component along the position part of
    /// `direction` (all of it in one dimension), leaving the positions alone.
    func reverseMomentum(of t: Int, along direction: [Complex<Double>], z: inout ComplexBatch, model: any Model) {
        let m = model.classicalCoordinateMass, h = model.classicalCoordinateWeight
        var row = z.trajectory(t)
        // p_c = sqrt(2 m h) Im z_c; the direction's position part, mass-weighted.
        let p = row.indices.map { (2 * m[$0] * h[$0]).squareRoot() * row[$0].imaginary / m[$0].squareRoot() }
        let d = direction.indices.map { direction[$0].real / m[$0].squareRoot() }
        let dd = d.reduce(0) { $0 + $1 * $1 }
        let along = dd > 0 ? zip(p, d).reduce(0) { $0 + $1.0 * $1.1 } / dd : 0
        for c in row.indices {
            let reversed = (p[c] - 2 * along * d[c]) * m[c].squareRoot()
            row[c] = Complex(row[c].real, reversed / (2 * m[c] * h[c]).squareRoot())
        }
        z.setTrajectory(t, row)
    }
}

/// One batch of ``ReversingFSSH`` trajectories: set up by QC Lab's FSSH initialization
/// recipe, advanced by its update recipe with the reversal, and collected by the library's
/// time loop (``runTimeLoop(batch:grid:outputs:seeds:branches:)``).
struct ReversingFSSHBatch: TrajectoryBatch {
    let algorithm: ReversingFSSH
    let model: any Model
    let n: Int, rows: Int
    var z, wfDb, wfAdb, active, h: ComplexBatch
    var frame: AdiabaticFrame
    var rk4: ClassicalRK4
    var random: LegacyRandomStreams
    var draws, probabilities: [Double]
    var targets, surface: [Int]

    /// QC Lab's initialization: eigenvectors in the derivative-coupling gauge, and each
    /// active surface drawn from the adiabatic populations with the draw that follows the
    /// run's hop draws.
    init(
        algorithm: ReversingFSSH, model: any Model, grid: TimeGrid, seeds: [Int],
        initialWavefunction: [Complex<Double>]
    ) throws {
        (self.algorithm, self.model) = (algorithm, model)
        n = model.numQuantumStates
        rows = seeds.count
        z = model.initialClassicalCoordinates(seeds: seeds)
        wfDb = ComplexBatch(repeating: initialWavefunction, batchSize: rows)
        (wfAdb, active) = (wfDb, wfDb)
        h = ComplexBatch(components: n * n, batchSize: rows)
        frame = try AdiabaticFrame(states: n, rows: rows, isReal: model.hamiltonianIsReal)
        rk4 = ClassicalRK4(coordinates: model.numClassicalCoordinates, batchSize: rows)
        random = LegacyRandomStreams(seeds: seeds)
        draws = [Double](repeating: 0, count: rows)
        probabilities = [Double](repeating: 0, count: n * rows)
        targets = [Int](repeating: -1, count: rows)
        surface = [Int](repeating: 0, count: rows)

        model.quantumHamiltonian(z: z, into: &h)
        try frame.diagonalizeAtStart(h, z: z, model: model)
        frame.toAdiabatic(wfDb, into: &wfAdb)
        var surfaceRandom = random
        surfaceRandom.skipDoubles(grid.updateTimeCount)
        surfaceRandom.nextDoubles(into: &draws)
        for t in 0..<rows {
            var cumulative = 0.0
            for k in 0..<n {
                cumulative += wfAdb[k, t].lengthSquared
                if cumulative > draws[t] { surface[t] = k; break }
            }
        }
        frame.activeEigenvectors(surface, into: &active)
    }

    /// QC Lab's FSSH update recipe, step by step, with the reversal of frustrated hops.
    mutating func step(dt: Double) throws {
        frame.beginStep()
        rk4.step(model: model, z: &z, psi: active, dt: dt)
        model.quantumHamiltonian(z: z, into: &h)
        random.nextDoubles(into: &draws)
        frame.propagate(&wfDb, dt: dt)
        try frame.diagonalize(h)
        frame.fixGauge(algorithm.gaugeFixing, z: z, model: model)
        frame.toAdiabatic(wfDb, into: &wfAdb)
        frame.hopProbabilities(wfAdb: wfAdb, activeSurface: surface, into: &probabilities)
        AdiabaticFrame.hopTargets(probabilities: probabilities, draws: draws, states: n, into: &targets)
        for t in 0..<rows where targets[t] >= 0 {
            let direction = frame.derivativeCoupling(row: t, from: surface[t], to: targets[t], z: z, model: model)
            let hop = frame.attemptHop(
                row: t, to: targets[t], z: &z, activeSurface: &surface, model: model,
                direction: direction)
            if !hop.succeeded && algorithm.reverseFrustratedHops {
                algorithm.reverseMomentum(of: t, along: direction, z: &z, model: model)
            }
        }
        frame.activeEigenvectors(surface, into: &active)
    }

    /// QC Lab's FSSH state at a collect point, which its outputs read.
    func collectState(time: Double) -> CollectState {
        CollectState(
            model: model, time: time, z: z, wfDb: wfDb, hamiltonian: h, frame: frame, activeSurface: surface,
            wfAdb: wfAdb, activeWavefunction: active)
    }
}
