import Foundation
import XCTest
@testable import QCLab

/// The vectorized pieces behind the fast paths agree with what they replace: exp and
/// sincos with the C library, lockstep random streams with single ones, the fused
/// scattering RK4 step with the generic four-stage one, and the fused two-state
/// surface-hopping kernel with the separate kernels, trajectory by trajectory.
final class VectorKernelTests: XCTestCase {
    /// Distance in units of the last place of `reference` (0 when both are the same
    /// special value).
    func ulps(_ value: Double, _ reference: Double) -> Double {
        if value == reference || (value.isNaN && reference.isNaN) { return 0 }
        if reference == 0 || !reference.isFinite { return .infinity }
        return abs(value - reference) / reference.ulp
    }

    func arguments(_ count: Int, in range: ClosedRange<Double>, seed: Int) -> [Double] {
        var random = LegacyRandomState(seed: seed)
        return (0..<count).map { _ in range.lowerBound + (range.upperBound - range.lowerBound) * random.nextDouble() }
    }

    func testExpIsWithinTwoUlpsOfTheCLibrary() {
        var x = arguments(20_000, in: -700...700, seed: 1) + arguments(20_000, in: -30...30, seed: 2)
            + arguments(5_000, in: -1e-3...1e-3, seed: 3)
        x += [0, -0.0, 1, -1, 709.78, -708.4, -745.0, -746.5, -800, 711, .infinity, -.infinity, .nan]
        var y = x
        y.withUnsafeMutableBufferPointer { VectorMath.exp(inPlace: $0) }
        var worst = 0.0
        for (argument, value) in zip(x, y) {
            let reference = Foundation.exp(argument)
            if reference.isNormal || !reference.isFinite || reference == 0 {
                if reference == 0 || !reference.isFinite || reference.isNaN {
                    XCTAssert(value == reference || (value.isNaN && reference.isNaN), "exp(\(argument)) = \(value), not \(reference)")
                } else {
                    worst = max(worst, ulps(value, reference))
                }
            } else {
                // Subnormal results: absolute agreement to a few of the smallest steps.
                XCTAssertLessThanOrEqual(abs(value - reference), 4 * Double.leastNonzeroMagnitude, "exp(\(argument))")
            }
        }
        XCTAssertLessThanOrEqual(worst, 2, "largest error in ulps")
    }

    func testSinCosAreWithinTwoUlpsOfTheCLibrary() {
        var x = arguments(20_000, in: -20...20, seed: 4) + arguments(20_000, in: -1e5...1e5, seed: 5)
            + arguments(5_000, in: -1e-4...1e-4, seed: 6)
        x += [0, .pi / 2, .pi, -.pi, 3 * .pi / 2, 1e5, 2e5, -3e7, .infinity, .nan]
        var sine = [Double](repeating: 0, count: x.count), cosine = sine
        x.withUnsafeBufferPointer { x in
            sine.withUnsafeMutableBufferPointer { s in
                cosine.withUnsafeMutableBufferPointer { c in VectorMath.sincos(x, sine: s, cosine: c) }
            }
        }
        for (i, argument) in x.enumerated() {
            for (value, reference) in [(sine[i], Foundation.sin(argument)), (cosine[i], Foundation.cos(argument))] {
                if reference.isNaN {
                    XCTAssert(value.isNaN, "sincos(\(argument))")
                } else {
                    // Near a zero of the function, relative error is not the measure.
                    XCTAssertLessThanOrEqual(abs(value - reference), max(2 * reference.ulp, 2 * Double.ulpOfOne * 0.5),
                                             "sincos(\(argument)): \(value) vs \(reference)")
                }
            }
        }
    }

    func testLockstepStreamsDrawWhatSingleStreamsDraw() {
        let seeds = [0, 1, 7, 123_456, 4_294_967_295]
        var streams = LegacyRandomStreams(seeds: seeds)
        var singles = seeds.map { LegacyRandomState(seed: $0) }
        var row = [Double](repeating: 0, count: seeds.count)
        // 1500 doubles are 3000 words: several refills of the 624-word keys.
        for draw in 0..<1500 {
            row.withUnsafeMutableBufferPointer { streams.nextDoubles(into: $0) }
            for s in seeds.indices where row[s] != singles[s].nextDouble() {
                XCTFail("stream \(s) differs at draw \(draw)")
                return
            }
        }
    }

    func testTheTenThousandthMT19937Output() {
        // The C++ standard's check of mt19937: seeded with 5489, the 10000th output is 4123659995.
        var stream = LegacyRandomState(seed: 5489)
        for _ in 0..<9999 { _ = stream.nextUInt32() }
        XCTAssertEqual(stream.nextUInt32(), 4_123_659_995)
    }

    /// Coordinates spread over both sides of the interaction region, with random complex
    /// wavefunctions.
    func scatteringState(_ model: some TwoStateScatteringModel, count: Int) -> (ComplexBatch, ComplexBatch) {
        var random = LegacyRandomState(seed: 11)
        var z = ComplexBatch(components: 1, batchSize: count)
        var psi = ComplexBatch(components: 2, batchSize: count)
        for t in 0..<count {
            let q = -12.0 + 24.0 * Double(t) / Double(count - 1), p = 5 + 20 * random.nextDouble()
            z.re[t] = (0.5 * model.mass).squareRoot() * q
            z.im[t] = (0.5 / model.mass).squareRoot() * (t % 3 == 0 ? -p : p)
            let a = Complex(random.nextGaussian(), random.nextGaussian()), b = Complex(random.nextGaussian(), random.nextGaussian())
            let norm = (a.lengthSquared + b.lengthSquared).squareRoot()
            (psi.re[t], psi.im[t], psi.re[count + t], psi.im[count + t]) = (a.re / norm, a.im / norm, b.re / norm, b.im / norm)
        }
        return (z, psi)
    }

    func testFusedScatteringStepMatchesTheGenericRK4() {
        let models: [any TwoStateScatteringModel] = [TullyProblemOne(), TullyProblemTwo(), TullyProblemThree(),
                                                     TullyProblemOne(A: 0.02, B: 0.8, C: 0.01, D: 2)]
        for model in models {
            checkFusedStep(model)
        }
    }

    func checkFusedStep(_ model: some TwoStateScatteringModel) {
        let count = 37, dt = 0.5
        var (fusedZ, psi) = scatteringState(model, count: count)
        var genericZ = fusedZ
        var fused = model.fusedClassicalStep(dt: dt, batchSize: count)
        var generic = ClassicalRK4(coordinates: 1, batchSize: count)
        var h = ComplexBatch(components: 4, batchSize: count), reference = h
        for step in 0..<40 {
            fused.advance(z: &fusedZ, psi: psi, hamiltonian: &h)
            generic.step(model: model, z: &genericZ, psi: psi, dt: dt)
            model.quantumHamiltonian(z: genericZ, into: &reference)
            if step == 20 { psi = scatteringState(model, count: count).1.reversedRows() }
        }
        for t in 0..<count {
            XCTAssertEqual(fusedZ.re[t], genericZ.re[t], accuracy: 1e-12 * max(1, abs(genericZ.re[t])), "\(model.modelName) x, row \(t)")
            XCTAssertEqual(fusedZ.im[t], genericZ.im[t], accuracy: 1e-12 * max(1, abs(genericZ.im[t])), "\(model.modelName) y, row \(t)")
            for e in 0..<4 {
                XCTAssertEqual(h.re[e * count + t], reference.re[e * count + t], accuracy: 1e-14, "\(model.modelName) H, row \(t)")
                XCTAssertEqual(h.im[e * count + t], 0)
            }
        }
    }

    func testFusedTwoStateKernelMatchesTheSeparateKernels() throws {
        // Tully's first problem hops often near q = 0; the spin-boson model has a harmonic
        // bath; deterministic mode has branches sharing draws.
        let cases: [(any Model, FewestSwitchesSurfaceHopping, Double, Int)] = [
            (TullyProblemOne(initMomentum: 20, initPosition: -2), FewestSwitchesSurfaceHopping(), 0.5, 1000),
            (SpinBoson(), FewestSwitchesSurfaceHopping(), 0.01, 400),
            (SpinBoson(), FewestSwitchesSurfaceHopping(deterministic: true), 0.01, 300),
        ]
        for (model, algorithm, dt, steps) in cases {
            let grid = TimeGrid(SimulationSettings(tmax: dt * Double(steps), dtUpdate: dt, dtCollect: dt * Double(steps)))
            let seeds = Array(0..<24)
            let psi0 = [Complex(0.6), Complex(0, 0.8)]
            var fused = try SurfaceHoppingBatch(algorithm: algorithm, model: model, grid: grid, seeds: seeds, initialWavefunction: psi0)
            var separate = fused
            XCTAssertTrue(fused.usesTwoStateKernel)
            separate.usesTwoStateKernel = false
            var hops = 0
            for step in 0..<steps {
                try fused.step(dt: dt)
                try separate.step(dt: dt)
                XCTAssertEqual(fused.hopEvents, separate.hopEvents, "\(model.modelName), step \(step)")
                XCTAssertEqual(fused.activeSurface, separate.activeSurface, "\(model.modelName), step \(step)")
                hops += fused.hopEvents.filter(\.succeeded).count
            }
            XCTAssertGreaterThan(hops, 0, "\(model.modelName): the comparison covers hops")
            for (a, b) in [(fused.wfDb, separate.wfDb), (fused.wfAdb, separate.wfAdb), (fused.eigenvectors, separate.eigenvectors),
                           (fused.z, separate.z), (fused.activeWavefunction, separate.activeWavefunction)] {
                for i in a.re.indices {
                    XCTAssertEqual(a.re[i], b.re[i], accuracy: 1e-10, model.modelName)
                    XCTAssertEqual(a.im[i], b.im[i], accuracy: 1e-10, model.modelName)
                }
            }
            for (a, b) in zip(fused.eigenvalues, separate.eigenvalues) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        }
    }

    func testFusedTwoStateKernelLeavesHugePhasesToTheCLibrary() throws {
        // |E dt| ≈ 1.5e5 is beyond the vectorized sincos: the fused kernel declines and the
        // separate kernels (with libm for such phases) take the step, so both batches agree
        // exactly, and the propagation keeps every wavefunction normalized.
        let model = TullyProblemTwo(initPosition: -3, E0: 3e5)
        let dt = 0.5, steps = 50
        let grid = TimeGrid(SimulationSettings(tmax: dt * Double(steps), dtUpdate: dt, dtCollect: dt * Double(steps)))
        var fused = try SurfaceHoppingBatch(algorithm: FewestSwitchesSurfaceHopping(), model: model, grid: grid,
                                            seeds: Array(0..<8), initialWavefunction: [Complex(0.6), Complex(0, 0.8)])
        var separate = fused
        separate.usesTwoStateKernel = false
        for _ in 0..<steps {
            try fused.step(dt: dt)
            try separate.step(dt: dt)
        }
        XCTAssertEqual(fused.wfDb.re, separate.wfDb.re)
        XCTAssertEqual(fused.wfDb.im, separate.wfDb.im)
        for t in 0..<8 {
            let norm = (0..<2).map { fused.wfDb[$0, t].lengthSquared }.reduce(0, +)
            XCTAssertEqual(norm, 1, accuracy: 1e-12)
        }
    }
}

private extension ComplexBatch {
    /// The same values with the order of the trajectories reversed.
    func reversedRows() -> ComplexBatch {
        var out = self
        for c in 0..<components {
            for t in 0..<batchSize {
                out.re[c * batchSize + t] = re[c * batchSize + batchSize - 1 - t]
                out.im[c * batchSize + t] = im[c * batchSize + batchSize - 1 - t]
            }
        }
        return out
    }
}
