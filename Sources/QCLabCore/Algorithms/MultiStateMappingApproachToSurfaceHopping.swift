import Numerics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The multi-state mapping approach to surface hopping (multi-state MASH).
///
/// The classical coordinates move on the most populated adiabatic surface of a spin-mapping
/// wavefunction. Hops happen exactly when another surface overtakes it (located by bisection and
/// resolved by energy-conserving rescaling along Runeson's weighted derivative-coupling direction,
/// or a momentum reversal when frustrated), and populations come from the MASH estimator
/// `Φ_n = 1/N + α_N (|c_n|² - 1/N)`, `α_N = (N - 1)/(H_N - 1)`. QC Lab 1.3.0's
/// `MultiStateMappingApproachToSurfaceHopping`, with its outputs `t` and `dm_db`. Runeson &
/// Manolopoulos, J. Chem. Phys. 159, 094115 (2023).
public struct MultiStateMappingApproachToSurfaceHopping: Algorithm {
    package typealias GaugeFixing = FewestSwitchesSurfaceHopping.GaugeFixing

    public var algorithmName: String { "MultiStateMappingApproachToSurfaceHopping" }
    /// How each new eigenvector's phase is fixed (`gauge_fixing`, default `sign_overlap`).
    public var gaugeFixing: FewestSwitchesSurfaceHopping.GaugeFixing
    /// Add the model's gauge-field force, when it has one (`use_gauge_field_force`).
    public var useGaugeFieldForce: Bool
    /// Reverse the momentum along the rescaling direction on a frustrated hop
    /// (`reverse_frustrated_hops`, default true; not representation-invariant).
    public var reverseFrustratedHops: Bool
    /// Hop-resolution passes per update step (`msmash_max_hops`, default 10).
    public var maxHops: Int
    /// Bisections that locate each crossing time (`msmash_num_bisections`, default 10).
    public var numBisections: Int

    public init(
        gaugeFixing: FewestSwitchesSurfaceHopping.GaugeFixing = .signOverlap, useGaugeFieldForce: Bool = false,
        reverseFrustratedHops: Bool = true, maxHops: Int = 10, numBisections: Int = 10
    ) throws {
        guard maxHops >= 0 else {
            throw QCLabError.invalidAlgorithmSetting(
                name: "msmash_max_hops", reason: "must be a non-negative integer, got \(maxHops)")
        }
        guard numBisections >= 1 else {
            throw QCLabError.invalidAlgorithmSetting(
                name: "msmash_num_bisections", reason: "must be a positive integer, got \(numBisections)")
        }
        self.gaugeFixing = gaugeFixing
        self.useGaugeFieldForce = useGaugeFieldForce
        self.reverseFrustratedHops = reverseFrustratedHops
        self.maxHops = maxHops
        self.numBisections = numBisections
    }

    public func branchCount(for model: any Model) -> Int { 1 }

    /// QC Lab's MSMASH collect recipe: `t` and `dm_db` (the MASH estimator).
    public func defaultOutputs(for model: any Model) -> [Output] {
        [.time, .mappingDensityMatrix(states: model.numQuantumStates)]
    }

    public func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData {
        var batch = try MSMASHBatch(
            algorithm: self, model: model, seeds: seeds, initialWavefunction: initialWavefunction)
        var data = try runTimeLoop(batch: &batch, grid: grid, outputs: outputs, seeds: seeds)
        data.eigensolverCounts = batch.eigensolverCounts
        return data
    }

    /// `α_N = (N - 1)/(H_N - 1)` with `H_N` the N-th harmonic number (QC Lab's `calc_alpha_n_mash`).
    public static func estimatorAlpha(states n: Int) -> Double {
        var harmonic = 0.0
        for k in 1...n { harmonic += 1.0 / Double(k) }
        return Double(n - 1) / (harmonic - 1.0)
    }

    /// QC Lab's default focused sampling (`sample_wf_db_focused_msmash`): the state that
    /// `initial` populates most gets `|c|² = 1/N + (N-1)/(α N)`, the others `(α-1)/(α N)`,
    /// so that `Φ_init(0) = 1`; each amplitude gets a phase from
    /// `np.random.default_rng(seed).uniform(0, 2π, N)`.
    public static func focusedWavefunctions(initial: [Complex<Double>], seeds: [Int]) -> ComplexBatch {
        let n = initial.count, alpha = estimatorAlpha(states: n)
        var focus = 0
        for k in 0..<n where initial[k].lengthSquared > initial[focus].lengthSquared { focus = k }
        var magnitudes = [Double](repeating: ((alpha - 1) / (alpha * Double(n))).squareRoot(), count: n)
        magnitudes[focus] = (1.0 / Double(n) + Double(n - 1) / (alpha * Double(n))).squareRoot()
        var wf = ComplexBatch(components: n, batchSize: seeds.count)
        for (t, seed) in seeds.enumerated() {
            var random = PCG64(seed: UInt64(seed))
            let phases = random.uniform(0.0, 2.0 * Double.pi, count: n)
            for k in 0..<n { wf[k, t] = Complex(cos(phases[k]) * magnitudes[k], sin(phases[k]) * magnitudes[k]) }
        }
        return wf
    }
}
