/// Which gradients QC Lab's finite differences replace (an ingredient set to `None` in QC Lab),
/// and their steps: the job file's `model.gradients`.
///
/// QC Lab's scheme (`update_dh_qc_dzc_finite_differences`, `update_dh_c_dzc_finite_differences`):
/// forward differences of step `δ` along the real and the imaginary axis of each coordinate,
/// `∂H/∂z*_k = ½ [(H(z + δ e_k) - H(z)) / δ + i (H(z + iδ e_k) - H(z)) / δ]`, with `δ` the model
/// constant `dh_qc_dzc_finite_difference_delta` or `dh_c_dzc_finite_difference_delta`, default
/// `1e-6` (`numerical_constants.FINITE_DIFFERENCE_DELTA`).
public struct FiniteDifferenceSettings: Sendable, Equatable {
    /// QC Lab's `FINITE_DIFFERENCE_DELTA`.
    public static let defaultDelta = 1e-6
    /// The job file's keys, QC Lab's ingredient and constant names.
    public static let keys = [
        "dh_qc_dzc", "dh_c_dzc", "dh_qc_dzc_finite_difference_delta", "dh_c_dzc_finite_difference_delta",
    ]

    /// Whether `∂H_qc/∂z*` (`dh_qc_dzc`) is taken by finite differences, and its step.
    public var quantumClassical: Bool
    public var quantumClassicalDelta: Double
    /// Whether `∂H_c/∂z*` (`dh_c_dzc`) is taken by finite differences, and its step.
    public var classical: Bool
    public var classicalDelta: Double

    public init(
        quantumClassical: Bool = false, quantumClassicalDelta: Double = defaultDelta,
        classical: Bool = false, classicalDelta: Double = defaultDelta
    ) {
        (self.quantumClassical, self.quantumClassicalDelta) = (quantumClassical, quantumClassicalDelta)
        (self.classical, self.classicalDelta) = (classical, classicalDelta)
    }

    /// Whether any gradient is taken by finite differences.
    public var isEmpty: Bool { !quantumClassical && !classical }

    /// Reads the job's `model.gradients` object: `"dh_qc_dzc"` and `"dh_c_dzc"` each
    /// `"finite_difference"` or `"analytic"` (the default), the two deltas numbers > 0.
    init(json: JSONValue) throws {
        guard case let .object(dict) = json else {
            throw QCLabError.malformedJob("'model.gradients' must be an object, got \(json.typeName)")
        }
        if let unknown = dict.keys.sorted().first(where: { !Self.keys.contains($0) }) {
            throw QCLabError.unknownName(kind: "key in model.gradients", name: unknown, known: Self.keys)
        }
        func method(_ key: String) throws -> Bool {
            guard let value = dict[key] else { return false }
            guard case let .string(text) = value, text == "finite_difference" || text == "analytic" else {
                throw QCLabError.invalidSetting(
                    "model.gradients.\(key)", "must be \"finite_difference\" or \"analytic\"")
            }
            return text == "finite_difference"
        }
        func delta(_ key: String) throws -> Double {
            guard let value = dict[key] else { return Self.defaultDelta }
            guard case let .number(x) = value, x.isFinite, x > 0 else {
                throw QCLabError.invalidSetting("model.gradients.\(key)", "must be a number > 0")
            }
            return x
        }
        self.init(
            quantumClassical: try method("dh_qc_dzc"),
            quantumClassicalDelta: try delta("dh_qc_dzc_finite_difference_delta"),
            classical: try method("dh_c_dzc"), classicalDelta: try delta("dh_c_dzc_finite_difference_delta"))
    }

    /// As the job record writes it: the finite-difference gradients and their steps only.
    var jobRecord: [String: JSONValue] {
        var record: [String: JSONValue] = [:]
        if quantumClassical {
            record["dh_qc_dzc"] = .string("finite_difference")
            record["dh_qc_dzc_finite_difference_delta"] = .number(quantumClassicalDelta)
        }
        if classical {
            record["dh_c_dzc"] = .string("finite_difference")
            record["dh_c_dzc_finite_difference_delta"] = .number(classicalDelta)
        }
        return record
    }
}

/// A model whose gradients are QC Lab's finite differences (``FiniteDifferenceSettings``).
protocol FiniteDifferenceGradientModel: Model {
    var finiteDifferences: FiniteDifferenceSettings { get }
}

extension Model {
    /// This model with the gradients `settings` names taken by QC Lab's finite differences of
    /// its own `H(z)` and `H_c(z)`; the model itself when it names none.
    public func withFiniteDifferenceGradients(_ settings: FiniteDifferenceSettings) -> any Model {
        settings.isEmpty ? self : FiniteDifferenceGradients(base: self, settings: settings)
    }
}

/// `Base` with finite-difference gradients.
///
/// The forces and the coupling gradient (derivative couplings, rescaling directions) come from
/// differences of `Base`'s Hamiltonians; everything else (initial conditions, hops, a
/// rescaling-direction or gauge-field ingredient, the job constants) is `Base`'s, as in QC Lab,
/// where only the gradient ingredient is missing. Fused fast paths of `Base` do not apply: they use
/// its analytic gradients.
struct FiniteDifferenceGradients<Base: Model>: FiniteDifferenceGradientModel {
    let base: Base
    let finiteDifferences: FiniteDifferenceSettings

    init(base: Base, settings: FiniteDifferenceSettings) {
        self.base = base
        finiteDifferences = settings
    }

    public var modelName: String { base.modelName }
    public var numQuantumStates: Int { base.numQuantumStates }
    public var numClassicalCoordinates: Int { base.numClassicalCoordinates }
    public var classicalCoordinateMass: [Double] { base.classicalCoordinateMass }
    public var classicalCoordinateWeight: [Double] { base.classicalCoordinateWeight }
    public var hamiltonianIsReal: Bool { base.hamiltonianIsReal }
    /// Always with differences: even of a linear coupling they change with `z` by rounding.
    public var couplingGradientDependsOnZ: Bool {
        finiteDifferences.quantumClassical || base.couplingGradientDependsOnZ
    }

    public func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch {
        base.initialClassicalCoordinates(seeds: seeds)
    }
    public func quantumHamiltonian(z: ComplexBatch, into hamiltonian: inout ComplexBatch) {
        base.quantumHamiltonian(z: z, into: &hamiltonian)
    }
    public func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) {
        base.classicalEnergy(z: z, into: &energy)
    }
    public func hopShift(z: [Complex<Double>], direction: [Complex<Double>], energyGap: Double) -> [Complex<Double>]? {
        base.hopShift(z: z, direction: direction, energyGap: energyGap)
    }

    /// Rows `rows` of `z`, each followed by QC Lab's offsets: `z`, then `z + δ e_k` for every
    /// `k`, then `z + iδ e_k`; `2C + 1` rows per trajectory.
    private func offsets(_ z: ComplexBatch, rows: Range<Int>, delta: Double) -> ComplexBatch {
        let c = z.components, block = 2 * c + 1, count = rows.count * block
        var points = ComplexBatch(components: c, batchSize: count)
        points.withUnsafeMutableHandle(reading: z) { points, z in
            let (pre, pim, zre, zim) = (points.re!, points.im!, z.re!, z.im!)
            for k in 0..<c {
                for (i, t) in rows.enumerated() {
                    let (x, y) = (zre[k * z.batchSize + t], zim[k * z.batchSize + t])
                    let first = k * count + i * block
                    for r in first..<(first + block) { pre[r] = x; pim[r] = y }
                    pre[first + 1 + k] = x + delta
                    pim[first + 1 + c + k] = y + delta
                }
            }
        }
        return points
    }

    /// Trajectories per evaluation, so that the offsets and their Hamiltonians stay near a
    /// million numbers however many coordinates and states the model has.
    private func chunk(components: Int) -> Int {
        max(1, 1 << 20 / max(1, (2 * numClassicalCoordinates + 1) * components))
    }

    /// `∂H/∂z*` of the trajectories `rows` by QC Lab's differences: element `e` (row-major
    /// `N x N`) of coordinate `k` of the `i`-th row at `(i * C + k) * N² + e`.
    private func hamiltonianGradients(z: ComplexBatch, rows: Range<Int>) -> (re: [Double], im: [Double]) {
        let delta = finiteDifferences.quantumClassicalDelta, c = z.components, n2 = numQuantumStates * numQuantumStates
        let points = offsets(z, rows: rows, delta: delta), count = points.batchSize, block = 2 * c + 1
        var h = ComplexBatch(components: n2, batchSize: count)
        base.quantumHamiltonian(z: points, into: &h)
        var (gre, gim) = (
            [Double](repeating: 0, count: rows.count * c * n2), [Double](repeating: 0, count: rows.count * c * n2)
        )
        for i in 0..<rows.count {
            for e in 0..<n2 {
                let at = e * count + i * block
                let (h0re, h0im) = (h.re[at], h.im[at])
                for k in 0..<c {
                    let (xre, xim) = ((h.re[at + 1 + k] - h0re) / delta, (h.im[at + 1 + k] - h0im) / delta)
                    let (yre, yim) = ((h.re[at + 1 + c + k] - h0re) / delta, (h.im[at + 1 + c + k] - h0im) / delta)
                    // ½ (x + i y)
                    gre[(i * c + k) * n2 + e] = 0.5 * (xre - yim)
                    gim[(i * c + k) * n2 + e] = 0.5 * (xim + yre)
                }
            }
        }
        return (gre, gim)
    }

    /// `Σ_ab conj(u_a) G_ab v_b` for the `N x N` matrix `G` at `offset` of `g`.
    private func sandwich(
        _ g: (re: [Double], im: [Double]), at offset: Int, _ u: [Complex<Double>], _ v: [Complex<Double>]
    ) -> Complex<Double> {
        let n = u.count
        var sum = Complex<Double>.zero
        for a in 0..<n {
            for b in 0..<n {
                let element = Complex(g.re[offset + a * n + b], g.im[offset + a * n + b])
                if element != .zero { sum += (u[a].conjugate * element) * v[b] }
            }
        }
        return sum
    }

    public func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch)
    {
        guard finiteDifferences.quantumClassical else {
            return base.quantumClassicalForce(z: z, wavefunction: psi, into: &force)
        }
        let c = z.components, n = numQuantumStates, size = chunk(components: max(c, n * n))
        for start in stride(from: 0, to: z.batchSize, by: size) {
            let rows = start..<min(start + size, z.batchSize)
            let gradient = hamiltonianGradients(z: z, rows: rows)
            for (i, t) in rows.enumerated() {
                let u = (0..<n).map { psi[$0, t] }
                for k in 0..<c { force[k, t] = sandwich(gradient, at: (i * c + k) * n * n, u, u) }
            }
        }
    }

    public func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>])
        -> [Complex<Double>]
    {
        guard finiteDifferences.quantumClassical else { return base.couplingGradient(z: z, left: u, right: v) }
        var point = ComplexBatch(components: z.count, batchSize: 1)
        for (k, x) in z.enumerated() { point[k, 0] = x }
        let gradient = hamiltonianGradients(z: point, rows: 0..<1), n2 = numQuantumStates * numQuantumStates
        return (0..<z.count).map { sandwich(gradient, at: $0 * n2, u, v) }
    }

    /// `∂H_c/∂z*` by QC Lab's differences of ``Model/classicalEnergy(z:into:)``.
    public func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
        guard finiteDifferences.classical else { return base.classicalForce(z: z, into: &force) }
        let delta = finiteDifferences.classicalDelta, c = z.components, block = 2 * c + 1, size = chunk(components: c)
        for start in stride(from: 0, to: z.batchSize, by: size) {
            let rows = start..<min(start + size, z.batchSize)
            let points = offsets(z, rows: rows, delta: delta)
            var energy = [Double](repeating: 0, count: points.batchSize)
            base.classicalEnergy(z: points, into: &energy)
            for (i, t) in rows.enumerated() {
                let at = i * block
                for k in 0..<c {
                    let x = (energy[at + 1 + k] - energy[at]) / delta,
                        y = (energy[at + 1 + c + k] - energy[at]) / delta
                    force[k, t] = Complex(0.5 * x, 0.5 * y)
                }
            }
        }
    }
}

extension FiniteDifferenceGradients: HopRescalingDirectionModel where Base: HopRescalingDirectionModel {
    func hopRescalingDirection(z: [Complex<Double>], from: Int, to: Int) -> [Complex<Double>] {
        base.hopRescalingDirection(z: z, from: from, to: to)
    }
}

extension FiniteDifferenceGradients: GaugeFieldForceModel where Base: GaugeFieldForceModel {
    func addGaugeFieldForce(z: ComplexBatch, activeSurface: [Int], to force: inout ComplexBatch) {
        base.addGaugeFieldForce(z: z, activeSurface: activeSurface, to: &force)
    }
}

extension FiniteDifferenceGradients: JobDescribableModel where Base: JobDescribableModel {
    var jobConstants: [String: ParameterValue] { base.jobConstants }
    var initialDistribution: InitialClassicalDistribution { base.initialDistribution }
}

extension FiniteDifferenceGradients: JobRecordable where Base: JobRecordable {
    var recordedProperties: [String: JSONValue] { base.recordedProperties }
}
