import Foundation
import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// The complex avoided crossings' ingredients: a Hermitian `H` with eigenvalues `∓A`, a
/// gauge-field force that does no work, a unit rescaling direction along `∇θ`, their
/// constants and `init_classical` checks; and MSMASH's use of a model's own sampler.
final class ComplexAvoidedCrossingTests: XCTestCase {
    let models: [any ComplexAvoidedCrossing] = [
        ComplexAvoidedCrossingA(), ComplexAvoidedCrossingB(), ComplexAvoidedCrossingC(),
    ]

    func testHamiltonianIsHermitianWithEigenvaluesMinusAPlusA() throws {
        for model in models {
            let z = model.initialClassicalCoordinates(seeds: Array(0..<32))
            var h = ComplexBatch(components: 4, batchSize: 32)
            model.quantumHamiltonian(z: z, into: &h)
            var solver = try BatchEigensolver(states: 2, batchSize: 32, isReal: false)
            var values = [Double](repeating: 0, count: 64)
            var vectors = h
            try solver.diagonalize(h, eigenvalues: &values, eigenvectors: &vectors)
            for t in 0..<32 {
                XCTAssertEqual(h[1, t], h[2, t].conjugate)
                XCTAssertEqual(values[t], -model.A, accuracy: 1e-12 * model.A)
                XCTAssertEqual(values[32 + t], model.A, accuracy: 1e-12 * model.A)
            }
        }
    }

    /// `F = Ω (v_y, -v_x)` is perpendicular to the velocity: it bends, never accelerates.
    func testGaugeFieldForceDoesNoWork() {
        for model in models {
            let z = model.initialClassicalCoordinates(seeds: Array(0..<16))
            var moved = z
            for t in 0..<16 { moved.re[t] = 0.05 * Double(t) - 0.4 }  // near the crossing, where Ω ≠ 0
            for surface in 0..<2 {
                var force = ComplexBatch(components: 2, batchSize: 16)
                model.addGaugeFieldForce(z: moved, activeSurface: [Int](repeating: surface, count: 16), to: &force)
                var largest = 0.0
                for t in 0..<16 {
                    // dp/dt = -sqrt(2 m) Re(force) and v = sqrt(2/m) Im z (h = 1).
                    let fx = -(2 * model.mass).squareRoot() * force.re[t],
                        fy = -(2 * model.mass).squareRoot() * force.re[16 + t]
                    let vx = (2 / model.mass).squareRoot() * moved.im[t],
                        vy = (2 / model.mass).squareRoot() * moved.im[16 + t]
                    XCTAssertEqual(fx * vx + fy * vy, 0, accuracy: 1e-12 * max(1, abs(fx * vx)))
                    largest = max(largest, abs(fx) + abs(fy))
                }
                XCTAssertGreaterThan(largest, 0, "\(model.modelName): no force at all")
            }
        }
    }

    /// The one-pass force (one evaluation of the mixing angles) has the bits of the
    /// quantum-classical force followed by the gauge-field force, the protocol's default.
    func testOnePassForceIsBothForcesInTurn() {
        var rng = LegacyRandomState(seed: 9)
        for model in models {
            var z = model.initialClassicalCoordinates(seeds: Array(0..<24))
            for t in 0..<24 { z.re[t] = 0.04 * Double(t) - 0.5 }  // across the crossing
            var psi = ComplexBatch(components: 2, batchSize: 24)
            for i in psi.re.indices { psi.re[i] = rng.nextGaussian(); psi.im[i] = rng.nextGaussian() }
            let surfaces = (0..<24).map { $0 % 2 }
            var onePass = ComplexBatch(components: 2, batchSize: 24), inTurn = onePass
            model.quantumClassicalForce(z: z, wavefunction: psi, activeSurface: surfaces, withGaugeFieldInto: &onePass)
            model.quantumClassicalForce(z: z, wavefunction: psi, into: &inTurn)
            model.addGaugeFieldForce(z: z, activeSurface: surfaces, to: &inTurn)
            XCTAssertTrue(
                onePass.re.map(\.bitPattern) == inTurn.re.map(\.bitPattern), "\(model.modelName): real parts")
            XCTAssertTrue(
                onePass.im.map(\.bitPattern) == inTurn.im.map(\.bitPattern), "\(model.modelName): imaginary parts")
            // The gauge term is there: without it the force differs.
            var without = onePass
            model.quantumClassicalForce(z: z, wavefunction: psi, into: &without)
            XCTAssertNotEqual(without.re, onePass.re, model.modelName)
        }
    }

    /// The batched forces (one C pass over the rows) against the generic per-row path: the
    /// force is each row's `couplingGradient(z:left:right:)` with ψ on both sides (which takes
    /// sin and cos from the C library, the batch from vector lanes within about one ulp), and
    /// the gauge-field force the formula `Ω (v_y, -v_x)` row by row.
    func testBatchedForcesAreThePerRowOnes() {
        var rng = LegacyRandomState(seed: 23)
        for model in models {
            let rows = 37  // not a multiple of any vector width
            var z = model.initialClassicalCoordinates(seeds: Array(0..<rows))
            for t in 0..<rows { z.re[t] = 0.05 * Double(t) - 0.9 }  // across the crossing
            var psi = ComplexBatch(components: 2, batchSize: rows)
            for i in psi.re.indices { psi.re[i] = rng.nextGaussian(); psi.im[i] = rng.nextGaussian() }
            let surfaces = (0..<rows).map { ($0 / 3) % 2 }
            var force = ComplexBatch(components: 2, batchSize: rows), gauge = force
            model.quantumClassicalForce(z: z, wavefunction: psi, into: &force)
            model.addGaugeFieldForce(z: z, activeSurface: surfaces, to: &gauge)
            let p = (2 / model.mass).squareRoot(), s = (0.5 / model.mass).squareRoot()
            for t in 0..<rows {
                let u = [psi[0, t], psi[1, t]]
                let expected = model.couplingGradient(z: [z[0, t], z[1, t]], left: u, right: u)
                for c in 0..<2 {
                    let scale = max(1, expected[c].length)
                    XCTAssertEqual(force.re[c * rows + t], expected[c].real, accuracy: 1e-13 * scale, "\(t)")
                    XCTAssertEqual(force.im[c * rows + t], expected[c].imaginary, accuracy: 1e-13 * scale, "\(t)")
                }
                let a = model.mixingAngles(x: p * z.re[t], y: p * z.re[rows + t])
                let omega =
                    0.5 * sin(a.theta) * (a.dThetaX * a.dPhiY - a.dThetaY * a.dPhiX) * (surfaces[t] == 0 ? 1 : -1)
                let vx = p * z.im[t], vy = p * z.im[rows + t]
                XCTAssertEqual(gauge.re[t], -s * omega * vy, accuracy: 1e-13 * max(1, abs(omega * vy)), "\(t)")
                XCTAssertEqual(gauge.re[rows + t], s * omega * vx, accuracy: 1e-13 * max(1, abs(omega * vx)), "\(t)")
                XCTAssertEqual(gauge.im[t], 0)
                XCTAssertEqual(gauge.im[rows + t], 0)
            }
        }
    }

    /// The remembered mixing angles (``MixingAngleMemo``) serve only the positions they were
    /// computed at: forces and Hamiltonians after other calls have the bits of a fresh model's.
    func testRememberedAnglesServeTheirPositionsOnly() {
        var rng = LegacyRandomState(seed: 5)
        func fresh(_ model: any ComplexAvoidedCrossing) -> any ComplexAvoidedCrossing {
            if model is ComplexAvoidedCrossingA { return ComplexAvoidedCrossingA() }
            if model is ComplexAvoidedCrossingB { return ComplexAvoidedCrossingB() }
            return ComplexAvoidedCrossingC()
        }
        for model in models {
            let z = model.initialClassicalCoordinates(seeds: Array(0..<19))
            var psi = ComplexBatch(components: 2, batchSize: 19)
            for i in psi.re.indices { psi.re[i] = rng.nextGaussian(); psi.im[i] = rng.nextGaussian() }
            var nudged = z  // one position one ulp away, one momentum changed (not a position)
            nudged.re[7] = nudged.re[7].nextUp
            nudged.im[3] += 1
            for (first, second) in [(z, z), (z, nudged), (nudged, z), (z, z)] {
                var h = ComplexBatch(components: 4, batchSize: 19), force = ComplexBatch(components: 2, batchSize: 19)
                model.quantumHamiltonian(z: first, into: &h)
                model.quantumClassicalForce(z: second, wavefunction: psi, into: &force)
                var freshH = h, freshForce = force
                fresh(model).quantumHamiltonian(z: first, into: &freshH)
                fresh(model).quantumClassicalForce(z: second, wavefunction: psi, into: &freshForce)
                XCTAssertEqual(h.re.map(\.bitPattern), freshH.re.map(\.bitPattern), model.modelName)
                XCTAssertEqual(h.im.map(\.bitPattern), freshH.im.map(\.bitPattern), model.modelName)
                XCTAssertEqual(force.re.map(\.bitPattern), freshForce.re.map(\.bitPattern), model.modelName)
                XCTAssertEqual(force.im.map(\.bitPattern), freshForce.im.map(\.bitPattern), model.modelName)
            }
        }
    }

    func testRescalingDirectionIsTheUnitGradientOfTheMixingAngle() {
        let model = ComplexAvoidedCrossingB()
        let z = [Complex(-0.3, 10), Complex(0.2, 1)]
        let d = model.hopRescalingDirection(z: z, from: 0, to: 1)
        // In q: d * sqrt(2 m h); a unit vector.
        let q = d.map { $0.real * (2 * model.mass).squareRoot() }
        XCTAssertEqual((q[0] * q[0] + q[1] * q[1]).squareRoot(), 1, accuracy: 1e-14)
        XCTAssertEqual(d[0].imaginary, 0); XCTAssertEqual(d[1].imaginary, 0)
        // Zero where ∇θ vanishes (the origin of model B).
        XCTAssertEqual(
            model.hopRescalingDirection(z: [Complex(0, 3), Complex(0, 1)], from: 0, to: 1), [Complex(0), Complex(0)])
    }

    func testConstantsAndInitialDistributionAreChecked() throws {
        XCTAssertThrowsError(try ModelRegistry.make(name: "ComplexAvoidedCrossingA", constants: ["Bx": .number(1)])) {
            XCTAssertEqual(($0 as? QCLabError)?.code, .unknownName, "\($0)")
            XCTAssertEqual(($0 as? QCLabError)?.culprit, "Bx", "\($0)")
        }
        XCTAssertThrowsError(try ModelRegistry.make(name: "ComplexAvoidedCrossingB", constants: ["mass": .number(-1)]))
        XCTAssertThrowsError(
            try ModelRegistry.make(name: "ComplexAvoidedCrossingC", initialDistribution: .definitePositionMomentum))
        XCTAssertThrowsError(try ModelRegistry.make(name: "SpinBoson", initialDistribution: .wignerCoherentState))
        let c = try XCTUnwrap(
            try ModelRegistry.make(
                name: "ComplexAvoidedCrossingC", constants: ["W": .number(0.5), "two_level_00": .number(1)],
                initialDistribution: .wignerCoherentState) as? ComplexAvoidedCrossingC)
        XCTAssertEqual(c.W, 0.5)
        XCTAssertEqual(c.twoLevel.e00, 1)
        XCTAssertEqual(c.By, 0.25)
    }

    /// A model's own `sample_wf_db_msmash` replaces the focused sampling.
    func testMSMASHUsesTheModelsOwnSampler() throws {
        struct Sampled: ModelWrapper, MSMASHWavefunctionSampling {
            let base: any Model = SpinBoson()
            var modelName: String { "Sampled" }
            var hamiltonianIsReal: Bool { true }
            func sampleMSMASHWavefunction(initial: [Complex<Double>], seeds: [Int]) -> ComplexBatch {
                ComplexBatch(repeating: [Complex(0.6), Complex(0, 0.8)], batchSize: seeds.count)
            }
        }
        let batch = try MSMASHBatch(
            algorithm: try MultiStateMappingApproachToSurfaceHopping(), model: Sampled(),
            seeds: [0, 1], initialWavefunction: [Complex(1), Complex(0)])
        var rho = ComplexBatch(components: 4, batchSize: 2)
        batch.densityMatrix(into: &rho)
        // α = 2 for two states: Φ_0 = 1/2 + 2 (0.36 - 1/2).
        XCTAssertEqual(rho[0, 0].real, 0.22, accuracy: 1e-14)
        XCTAssertEqual(rho[3, 1].real, 0.78, accuracy: 1e-14)
    }
}
