import Foundation
import XCTest
import QCLab

/// A model needs only the core (H(z), its gradient, the classical energy and force, sizes,
/// masses and weights): the hop rule and the initial-condition sampler have QC Lab's
/// defaults, and a model's own capability replaces a default.
final class CoreModelTests: XCTestCase {
    /// The core-only model, registered under its QC Lab name and run from the job files of
    /// `generate_core_model_fixtures.py`, agrees with qclab 1.3.0 running the same model
    /// without `hop` and `init_classical` ingredients: our ``MonteCarloBoltzmannSampler``
    /// and ``NumericalHop`` are QC Lab's `initialize_z_mcmc` and `numerical_fssh_hop`.
    func testCoreOnlyModelFromAJobFileAgreesWithQCLab() throws {
        AnharmonicDimer.register()
        let cases = try Fixtures.cases(index: "index_core_model.json")
        XCTAssertEqual(cases.map(\.name), ["core_model_mf", "core_model_fssh"])
        for (name, purpose) in cases {
            let job = try Fixtures.job(name)
            XCTAssertTrue(job.simulation.model is AnharmonicDimer, name)
            let ours = try serialDriver(job.simulation, seeds: job.seeds)
            let theirs = try SimulationData(contentsOf: Fixtures.url("\(name).h5").path)
            XCTAssertEqual(ours.seeds, theirs.seeds, name)
            for output in ["t", "dm_db", "quantum_energy", "classical_energy"] {
                guard let mine = ours.mean(output), let reference = theirs.mean(output),
                    let observable = theirs.observable(output)
                else {
                    XCTFail("\(name): output \(output) missing"); continue
                }
                assertAgrees(mine, reference, isComplex: observable.isComplex, "\(name) (\(purpose)) \(output)")
            }
        }
    }

    /// The default hop rule really is the numerical one: hops happen, some are frustrated,
    /// and an allowed hop conserves the total energy to QC Lab's threshold (1e-6).
    func testDefaultHopIsNumericalAndConservesEnergy() {
        let model = AnharmonicDimer()
        let z = model.initialClassicalCoordinates(seeds: Array(0..<20))
        var allowed = 0, frustrated = 0
        for t in 0..<z.batchSize {
            let row = z.trajectory(t), direction = [Complex(0.4), Complex(-0.3)]
            let before = energy(model, row)
            for gap in [-0.3, 0.2, 0.8] {
                guard let shift = model.hopShift(z: row, direction: direction, energyGap: gap) else {
                    frustrated += 1
                    continue
                }
                allowed += 1
                XCTAssertEqual(energy(model, zip(row, shift).map { $0 + $1 }), before - gap, accuracy: 1e-6)
                XCTAssertEqual(shift, NumericalHop().shift(model: model, z: row, direction: direction, energyGap: gap))
            }
        }
        XCTAssertGreaterThan(allowed, 20)
        XCTAssertGreaterThan(frustrated, 0)
    }

    /// The numerical rule, given a harmonic bath or a free particle, conserves the energy
    /// as the closed forms `hop_harmonic` and `hop_free` do (possibly at the other root of
    /// the quadratic: the grid search takes whichever it meets first, as QC Lab's does), and
    /// is frustrated where they are.
    func testNumericalHopAgreesWithTheClosedForms() throws {
        let spinBoson = SpinBoson(A: 6)
        let z = spinBoson.initialClassicalCoordinates(seeds: [3]).trajectory(0)
        let direction = (0..<6).map { Complex(0.2 + 0.1 * Double($0), 0.05) }
        let before = energy(spinBoson, z)
        for gap in [-0.05, -0.2 * before, 0.5 * before, 3 * before] {
            let exact = spinBoson.bath.hopRule.shift(z: z, direction: direction, energyGap: gap)
            let numerical = NumericalHop().shift(model: spinBoson, z: z, direction: direction, energyGap: gap)
            XCTAssertEqual(exact == nil, numerical == nil, "gap \(gap)")
            for shift in [exact, numerical].compactMap({ $0 }) {
                XCTAssertEqual(energy(spinBoson, zip(z, shift).map { $0 + $1 }), before - gap, accuracy: 1e-6)
            }
        }
        let tully = TullyProblemOne()
        let row = [Complex(-3.0, (0.5 / 2000.0).squareRoot() * 10)], kinetic = energy(tully, row)
        for gap in [-0.01, 0.02, 0.03] {
            let free = FreeParticleHop(weight: [1]).shift(z: row, direction: [Complex(0.7)], energyGap: gap)
            let numerical = NumericalHop().shift(model: tully, z: row, direction: [Complex(0.7)], energyGap: gap)
            XCTAssertEqual(free == nil, numerical == nil, "gap \(gap)")
            for shift in [free, numerical].compactMap({ $0 }) {
                XCTAssertEqual(energy(tully, [row[0] + shift[0]]), kinetic - gap, accuracy: 1e-6)
            }
        }
    }

    /// The named rules give, bit for bit, what the built-in models computed before the rules
    /// were factored out (the formulas below are the previous code, kept as the reference).
    func testNamedHopRulesReproduceTheBuiltInModels() {
        var random = SystemRandomNumberGenerator()
        func value(_ scale: Double = 1) -> Double { Double.random(in: -scale...scale, using: &random) }
        let spinBoson = SpinBoson(A: 5), tully = TullyProblemTwo(), crossing = ComplexAvoidedCrossingA()
        for _ in 0..<500 {
            let gap = value(0.05)
            // hop_harmonic of the spin-boson bath, as HarmonicBath.hopShift wrote it.
            let z5 = (0..<5).map { _ in Complex(value(), value()) },
                d5 = (0..<5).map { _ in Complex(value(), value(0.3)) }
            XCTAssertEqual(
                spinBoson.hopShift(z: z5, direction: d5, energyGap: gap),
                previousHarmonic(spinBoson.bath, z5, d5, gap))
            // hop_free of a Tully problem, as TwoStateScatteringModel.hopShift wrote it.
            let z1 = [Complex(value(), value(0.2))], d1 = [Complex(value(), 0)]
            XCTAssertEqual(tully.hopShift(z: z1, direction: d1, energyGap: gap), previousTully(z1, d1, gap))
            // hop_free in two dimensions, as ComplexAvoidedCrossing.hopShift wrote it.
            let z2 = (0..<2).map { _ in Complex(value(), value(0.2)) },
                d2 = (0..<2).map { _ in Complex(value(), value()) }
            XCTAssertEqual(crossing.hopShift(z: z2, direction: d2, energyGap: gap), previousCrossing(z2, d2, gap))
        }
    }

    /// A model's own capability replaces the default: its sampler gives the initial `z` and
    /// its hop rule decides every hop the engine attempts.
    func testAModelsOwnCapabilitiesReplaceTheDefaults() throws {
        let log = HopLog()
        let model = FrustratedDimer(log: log)
        var settings = SimulationSettings(tmax: 5, dtUpdate: 0.01, dtCollect: 0.5)
        settings.numTrajs = 8
        settings.batchSize = 8
        let mf = try serialDriver(
            Simulation(
                settings: settings, model: model, algorithm: MeanField(),
                initialWavefunction: [Complex(1), Complex(0)]))
        // The sampler's fixed z: H_c = 0.5 p²/m with p = sqrt(2 m h) Im z = sqrt(2) * 1.
        XCTAssertEqual(mf.mean("classical_energy")![0], 1.0, accuracy: 1e-12)
        _ = try serialDriver(
            Simulation(
                settings: settings, model: model, algorithm: FewestSwitchesSurfaceHopping(),
                initialWavefunction: [Complex(1), Complex(0)]))
        XCTAssertGreaterThan(log.count, 0, "the engine must ask the model's own hop rule")
    }

    /// Without a sampler and a `kBT` a model does not compile, so only a ``ThermalModel``
    /// gets the Monte Carlo default; its draws are Boltzmann: for a harmonic coordinate,
    /// `<p²/m> = kBT`, checked on many seeds of one chain.
    func testMonteCarloDefaultIsBoltzmann() {
        let model = AnharmonicDimer(quartic: 0, kBT: 0.8)
        let z = model.initialClassicalCoordinates(seeds: Array(0..<4000))
        for c in 0..<2 {
            let m = model.classicalCoordinateMass[c], h = model.classicalCoordinateWeight[c]
            let kinetic = (0..<z.batchSize).map { t -> Double in
                let p = (2 * m * h).squareRoot() * z[c, t].imaginary
                return p * p / m
            }
            XCTAssertEqual(kinetic.reduce(0, +) / Double(kinetic.count), 0.8, accuracy: 0.12, "coordinate \(c)")
        }
    }

    private func energy(_ model: some Model, _ row: [Complex<Double>]) -> Double {
        var energy = [0.0]
        model.classicalEnergy(z: ComplexBatch(repeating: row, batchSize: 1), into: &energy)
        return energy[0]
    }
}

// MARK: - The previous hop code of the built-in models (reference for the named rules)

private func previousRoot(a: Double, b: Double, c: Double) -> Double? {
    let disc = b * b - 4.0 * a * c
    guard disc >= 0 else { return nil }
    let root = b < 0 ? b + disc.squareRoot() : b - disc.squareRoot()
    return a == 0 ? 0 : 0.5 * root / a
}

private func previousHarmonic(
    _ bath: HarmonicBath, _ z: [Complex<Double>], _ d: [Complex<Double>], _ energyGap: Double
) -> [Complex<Double>]? {
    var a = 0.0, b = 0.0
    for c in 0..<bath.count {
        let w2h = bath.frequency[c] * bath.frequency[c] / bath.weight[c], h = bath.weight[c]
        let aConst = 0.25 * (w2h - h), bConst = 0.25 * (w2h + h)
        a +=
            2.0 * d[c].lengthSquared * bConst - aConst * 2.0
            * (d[c].real * d[c].real - d[c].imaginary * d[c].imaginary)
        b += h * z[c].imaginary * d[c].real - w2h * z[c].real * d[c].imaginary
    }
    b *= 2.0
    guard let gamma = previousRoot(a: a, b: b, c: energyGap) else { return nil }
    return d.map { Complex(0, -gamma) * $0 }
}

private func previousTully(_ z: [Complex<Double>], _ d: [Complex<Double>], _ energyGap: Double) -> [Complex<Double>]? {
    let h = 1.0
    let a = -h * d[0].real * d[0].real
    let b = -2.0 * h * d[0].real * z[0].imaginary
    guard let gamma = previousRoot(a: a, b: b, c: -energyGap) else { return nil }
    return [Complex(0, -gamma) * d[0]]
}

private func previousCrossing(_ z: [Complex<Double>], _ d: [Complex<Double>], _ energyGap: Double) -> [Complex<
    Double
>]? {
    var a = 0.0, b = 0.0
    for c in 0..<2 {
        a += -(d[c].real * d[c].real)
        b += -(2.0 * d[c].real * z[c].imaginary)
    }
    guard let gamma = previousRoot(a: a, b: b, c: -energyGap) else { return nil }
    return d.map { Complex(0, -gamma) * $0 }
}

// MARK: - Models

/// Two states and two anharmonic coordinates with only the core.
///
/// `generate_core_model_fixtures.py`'s `AnharmonicDimer`. `H_q = [[E, V], [V, -E]]`,
/// `[H_qc]_nn = Σ_ξ γ_nξ (z_ξ + z*_ξ)` with `γ = [[g0, g1], [-g0, -g1]]`, and
/// `H_c = Σ_ξ p²/(2m) + m ω² q²/2 + quartic q⁴`.
struct AnharmonicDimer: ThermalModel {
    let kBT, E, V, quartic, g0, g1: Double
    let frequency = [1.0, 0.7]
    let coupling: DiagonalLinearCoupling

    init(
        E: Double = 0.5, V: Double = 0.3, quartic: Double = 0.05, g0: Double = 0.6, g1: Double = -0.4,
        kBT: Double = 1.0
    ) {
        (self.E, self.V, self.quartic, self.g0, self.g1, self.kBT) = (E, V, quartic, g0, g1, kBT)
        coupling = DiagonalLinearCoupling(gamma: [[g0, g1], [-g0, -g1]])
    }

    /// Registers the model for job files under QC Lab's class name of the generator.
    static func register() {
        ModelRegistry.register("AnharmonicDimer") { constants, distribution in
            var c = ModelConstants(model: "AnharmonicDimer", constants)
            if distribution != nil {
                throw QCLabError.invalidConstant(
                    model: "AnharmonicDimer", name: "init_classical", reason: "has no named distributions")
            }
            let model = AnharmonicDimer(
                E: try c.double("E", default: 0.5), V: try c.double("V", default: 0.3),
                quartic: try c.double("quartic", default: 0.05, .nonNegative),
                g0: try c.double("g0", default: 0.6), g1: try c.double("g1", default: -0.4),
                kBT: try c.double("kBT", default: 1.0, .positive))
            try c.finish()
            return model
        }
    }

    var modelName: String { "AnharmonicDimer" }
    var numQuantumStates: Int { 2 }
    var numClassicalCoordinates: Int { 2 }
    var classicalCoordinateMass: [Double] { [1.0, 2.0] }
    var classicalCoordinateWeight: [Double] { frequency }

    func quantumHamiltonian(z: ComplexBatch, into hamiltonian: inout ComplexBatch) {
        hamiltonian.fill(repeating: [Complex(E), Complex(V), Complex(V), Complex(-E)])
        coupling.addDiagonal(z: z, to: &hamiltonian)
    }

    func quantumClassicalForce(z: ComplexBatch, wavefunction: ComplexBatch, into force: inout ComplexBatch) {
        coupling.force(wavefunction: wavefunction, into: &force)
    }

    func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>]) -> [Complex<
        Double
    >] {
        coupling.gradient(left: u, right: v)
    }

    /// The generator's `h_c`, operation for operation.
    func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) {
        for t in 0..<z.batchSize {
            var sum = 0.0
            for c in 0..<2 {
                let m = classicalCoordinateMass[c], w = frequency[c], h = classicalCoordinateWeight[c]
                let q = (2.0 / (m * h)).squareRoot() * z[c, t].real, p = (2.0 * m * h).squareRoot() * z[c, t].imaginary
                sum += 0.5 * (p * p) / m + 0.5 * m * (w * w) * (q * q) + quartic * ((q * q) * (q * q))
            }
            energy[t] = sum
        }
    }

    /// The generator's `dh_c_dzc`.
    func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
        for t in 0..<z.batchSize {
            for c in 0..<2 {
                let m = classicalCoordinateMass[c], w = frequency[c], h = classicalCoordinateWeight[c]
                let q = (2.0 / (m * h)).squareRoot() * z[c, t].real, p = (2.0 * m * h).squareRoot() * z[c, t].imaginary
                force[c, t] = Complex(
                    (m * (w * w) * q + 4.0 * quartic * (q * q * q)) / (2.0 * m * h).squareRoot(),
                    (p / m) * (0.5 * m * h).squareRoot())
            }
        }
    }
}

/// Counts the hops the engine asks for.
final class HopLog: @unchecked Sendable {
    private let lock = NSLock()
    private var attempts = 0
    var count: Int { lock.withLock { attempts } }
    func record() { lock.withLock { attempts += 1 } }
}

/// The dimer with its own sampler (every trajectory at one point) and its own hop rule
/// (every hop frustrated, and logged).
struct FrustratedDimer: ThermalModel {
    let base = AnharmonicDimer(quartic: 0)
    let log: HopLog

    var kBT: Double { base.kBT }
    var modelName: String { "FrustratedDimer" }
    var numQuantumStates: Int { 2 }
    var numClassicalCoordinates: Int { 2 }
    var classicalCoordinateMass: [Double] { base.classicalCoordinateMass }
    var classicalCoordinateWeight: [Double] { base.classicalCoordinateWeight }
    func quantumHamiltonian(z: ComplexBatch, into h: inout ComplexBatch) { base.quantumHamiltonian(z: z, into: &h) }
    func quantumClassicalForce(z: ComplexBatch, wavefunction: ComplexBatch, into force: inout ComplexBatch) {
        base.quantumClassicalForce(z: z, wavefunction: wavefunction, into: &force)
    }
    func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>]) -> [Complex<
        Double
    >] {
        base.couplingGradient(z: z, left: u, right: v)
    }
    func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) { base.classicalEnergy(z: z, into: &energy) }
    func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) { base.classicalForce(z: z, into: &force) }

    /// Own sampler: `z = 0 + i sqrt(1/(2 m h))·sqrt(2)`, so `p = sqrt(2)` and `H_c = 0.5 p²/m = 1/m`;
    /// only the first coordinate moves (`H_c = 1`).
    func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch {
        var z = ComplexBatch(components: 2, batchSize: seeds.count)
        let m = classicalCoordinateMass[0], h = classicalCoordinateWeight[0]
        for t in seeds.indices { z[0, t] = Complex(0, (2.0).squareRoot() / (2.0 * m * h).squareRoot()) }
        return z
    }

    /// Own hop rule: always frustrated.
    func hopShift(z: [Complex<Double>], direction: [Complex<Double>], energyGap: Double) -> [Complex<Double>]? {
        log.record()
        return nil
    }
}
