import Foundation
import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

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

    /// The table-driven exp (lanes.h) is within 1.5 ulps of the C library over its whole
    /// domain (its own error is at most about one ulp: half from the correctly rounded table
    /// entry, half from the final rounding; the C library's is within about half an ulp),
    /// the Tully problems' arguments (`-B|q|`, `-D q²`) included, and exact at the special
    /// values: 0 below the underflow limit, infinity above the overflow one, NaN for NaN.
    func testExpIsWithinOneAndAHalfUlpsOfTheCLibrary() {
        var x =
            arguments(100_000, in: -708.3...709.7, seed: 1) + arguments(20_000, in: -30...30, seed: 2)
            + arguments(5_000, in: -1e-3...1e-3, seed: 3) + arguments(20_000, in: -800...0, seed: 7)
            + arguments(5_000, in: -746...(-708), seed: 8)
        // The table's nodes j ln2 / 128 (with k ln2 added), where r is near zero, and the
        // midpoints between them, where |r| is largest.
        x += (-1000...1000).map { Double($0) * M_LN2 / 128 } + (-1000...1000).map { (Double($0) + 0.5) * M_LN2 / 128 }
        x += [
            0, -0.0, 1, -1, 709.78, -708.4, -745.0, -746.5, -800, 711, .infinity, -.infinity, .nan,
            .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1e-300, -1e-300, 709.782712893384, -745.1332191019411,
        ]
        var y = x
        y.withUnsafeMutableBufferPointer { VectorMath.exp(inPlace: $0) }
        var worst = 0.0
        for (argument, value) in zip(x, y) {
            let reference = Foundation.exp(argument)
            if reference.isNormal || !reference.isFinite || reference == 0 {
                if reference == 0 || !reference.isFinite || reference.isNaN {
                    XCTAssert(
                        value == reference || (value.isNaN && reference.isNaN),
                        "exp(\(argument)) = \(value), not \(reference)")
                } else {
                    worst = max(worst, ulps(value, reference))
                }
            } else {
                // Subnormal results: absolute agreement to a few of the smallest steps.
                XCTAssertLessThanOrEqual(abs(value - reference), 4 * Double.leastNonzeroMagnitude, "exp(\(argument))")
            }
        }
        XCTAssertLessThanOrEqual(worst, 1.5, "largest error in ulps")
        XCTAssertGreaterThan(worst, 0, "the comparison measures something")
    }

    func testSinCosAreWithinTwoUlpsOfTheCLibrary() {
        var x =
            arguments(20_000, in: -20...20, seed: 4) + arguments(20_000, in: -1e5...1e5, seed: 5)
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
                    XCTAssertLessThanOrEqual(
                        abs(value - reference), max(2 * reference.ulp, 2 * Double.ulpOfOne * 0.5),
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
            let a = Complex(random.nextGaussian(), random.nextGaussian()),
                b = Complex(random.nextGaussian(), random.nextGaussian())
            let norm = (a.lengthSquared + b.lengthSquared).squareRoot()
            (psi.re[t], psi.im[t], psi.re[count + t], psi.im[count + t]) = (
                a.real / norm, a.imaginary / norm, b.real / norm, b.imaginary / norm
            )
        }
        return (z, psi)
    }

    func testFusedScatteringStepMatchesTheGenericRK4() {
        let models: [any TwoStateScatteringModel] = [
            TullyProblemOne(), TullyProblemTwo(), TullyProblemThree(),
            TullyProblemOne(A: 0.02, B: 0.8, C: 0.01, D: 2),
        ]
        for model in models {
            checkFusedStep(model)
        }
    }

    func checkFusedStep(_ model: some TwoStateScatteringModel) {
        let count = 37, dt = 0.5
        var (fusedZ, psi) = scatteringState(model, count: count)
        var genericZ = fusedZ
        var fused = fusedClassicalDynamics(of: model)!.fusedClassicalStep(dt: dt, batchSize: count)
        var generic = ClassicalRK4(coordinates: 1, batchSize: count)
        var h = ComplexBatch(components: 4, batchSize: count), reference = h
        for step in 0..<40 {
            fused.advance(z: &fusedZ, psi: psi, hamiltonian: &h)
            generic.step(model: model, z: &genericZ, psi: psi, dt: dt)
            model.quantumHamiltonian(z: genericZ, into: &reference)
            if step == 20 { psi = scatteringState(model, count: count).1.reversedRows() }
        }
        for t in 0..<count {
            XCTAssertEqual(
                fusedZ.re[t], genericZ.re[t], accuracy: 1e-12 * max(1, abs(genericZ.re[t])),
                "\(model.modelName) x, row \(t)")
            XCTAssertEqual(
                fusedZ.im[t], genericZ.im[t], accuracy: 1e-12 * max(1, abs(genericZ.im[t])),
                "\(model.modelName) y, row \(t)")
            for e in 0..<4 {
                XCTAssertEqual(
                    h.re[e * count + t], reference.re[e * count + t], accuracy: 1e-14, "\(model.modelName) H, row \(t)"
                )
                XCTAssertEqual(h.im[e * count + t], 0)
            }
        }
    }

    /// The plan with the fused two-state quantum kernel after the model's fused classical step.
    static let fusedTwoStatePlan = StepPlan(
        classical: .fused, eigensolver: .closedFormTwoByTwo, quantum: .fusedTwoState,
        realProducts: true)

    func testFusedTwoStateKernelMatchesTheSeparateKernels() throws {
        // Tully's first problem hops often near q = 0; the spin-boson model has a harmonic
        // bath; deterministic mode has branches sharing draws.
        let cases: [(any Model, FewestSwitchesSurfaceHopping, Double, Int)] = [
            (
                TullyProblemOne(initMomentum: 20, initPosition: -2),
                FewestSwitchesSurfaceHopping(stepPlan: Self.fusedTwoStatePlan),
                0.5, 1000
            ),
            (SpinBoson(), FewestSwitchesSurfaceHopping(), 0.01, 400),
            // Phases |E dt| up to about 1: the sincos with range reduction.
            (
                TullyProblemTwo(initMomentum: 25, initPosition: -4, E0: 0.1),
                FewestSwitchesSurfaceHopping(stepPlan: Self.fusedTwoStatePlan),
                10, 600
            ),
            (SpinBoson(), FewestSwitchesSurfaceHopping(deterministic: true), 0.01, 300),
        ]
        for (model, algorithm, dt, steps) in cases {
            let grid = TimeGrid(
                SimulationSettings(tmax: dt * Double(steps), dtUpdate: dt, dtCollect: dt * Double(steps)))
            let seeds = Array(0..<24)
            let psi0 = [Complex(0.6), Complex(0, 0.8)]
            var fused = try SurfaceHoppingBatch(
                algorithm: algorithm, model: model, grid: grid, seeds: seeds, initialWavefunction: psi0)
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
            for (a, b) in [
                (fused.wfDb, separate.wfDb), (fused.wfAdb, separate.wfAdb),
                (fused.eigenvectors, separate.eigenvectors),
                (fused.z, separate.z), (fused.activeWavefunction, separate.activeWavefunction),
            ] {
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
        var fused = try SurfaceHoppingBatch(
            algorithm: FewestSwitchesSurfaceHopping(stepPlan: Self.fusedTwoStatePlan),
            model: model, grid: grid, seeds: Array(0..<8),
            initialWavefunction: [Complex(0.6), Complex(0, 0.8)])
        var separate = fused
        separate.usesTwoStateKernel = false
        // The whole-step kernel declines as well, and its fallback is the same separate path.
        var whole = try SurfaceHoppingBatch(
            algorithm: FewestSwitchesSurfaceHopping(stepPlan: Self.wholeStepPlan),
            model: model, grid: grid, seeds: Array(0..<8),
            initialWavefunction: [Complex(0.6), Complex(0, 0.8)])
        for _ in 0..<steps {
            try fused.step(dt: dt)
            try separate.step(dt: dt)
            try whole.step(dt: dt)
        }
        for batch in [fused, whole] {
            XCTAssertEqual(batch.wfDb.re, separate.wfDb.re)
            XCTAssertEqual(batch.wfDb.im, separate.wfDb.im)
            XCTAssertEqual(batch.z.re, separate.z.re)
            XCTAssertEqual(batch.z.im, separate.z.im)
        }
        for t in 0..<8 {
            let norm = (0..<2).map { fused.wfDb[$0, t].lengthSquared }.reduce(0, +)
            XCTAssertEqual(norm, 1, accuracy: 1e-12)
        }
    }

    // MARK: The whole scattering step fused

    /// The plan that fuses the whole step of a scattering model, and the separate passes it replaces.
    static let wholeStepPlan = StepPlan(
        classical: .fused, eigensolver: .closedFormTwoByTwo,
        quantum: .fusedScatteringStep, realProducts: true)
    static let separatePlan = StepPlan(
        classical: .fused, eigensolver: .closedFormTwoByTwo, quantum: .separate,
        realProducts: true)

    /// The fused whole step (`qclab_fssh_scattering_step`) against the model's fused classical
    /// step followed by the separate quantum kernels, step by step for each of Tully's problems,
    /// stochastic and deterministic (branches sharing draws): the same hop attempts and active
    /// surfaces at every step, and the same state to rounding at the end.
    func testWholeScatteringStepMatchesTheSeparatePasses() throws {
        // Phases |E dt| within ±0.78 take the sincos without range reduction; the long
        // steps of the second Tully problem (dt = 10) reach beyond, into the general one.
        let models: [(any Model, dt: Double)] = [
            (TullyProblemOne(initMomentum: 20, initPosition: -2), 0.5),
            (TullyProblemTwo(initMomentum: 25, initPosition: -2), 0.5),
            (TullyProblemThree(initMomentum: 20, initPosition: -1), 0.5),
            (TullyProblemTwo(initMomentum: 25, initPosition: -4, E0: 0.1), 10),
        ]
        let steps = 600
        let psi0 = [Complex(0.6), Complex(0, 0.8)]
        var hops = 0
        try withEvery("model", in: models, describe: { "\($0.0.modelName), dt \($0.dt)" }) { entry, label in
            let (model, dt) = entry
            let grid = TimeGrid(
                SimulationSettings(tmax: dt * Double(steps), dtUpdate: dt, dtCollect: dt * Double(steps)))
            try withEvery("deterministic", in: [false, true]) { deterministic, mode in
                let whole = FewestSwitchesSurfaceHopping(deterministic: deterministic, stepPlan: Self.wholeStepPlan)
                var separateAlgorithm = whole
                separateAlgorithm.forcedStepPlan = Self.separatePlan
                let seeds = Array(0..<(deterministic ? 24 : 23))
                var fused = try SurfaceHoppingBatch(
                    algorithm: whole, model: model, grid: grid, seeds: seeds, initialWavefunction: psi0)
                var separate = try SurfaceHoppingBatch(
                    algorithm: separateAlgorithm, model: model, grid: grid, seeds: seeds,
                    initialWavefunction: psi0)
                var largestPhase = 0.0
                for step in 0..<steps {
                    largestPhase = max(largestPhase, fused.eigenvalues.map { abs($0 * dt) }.max()!)
                    try fused.step(dt: dt)
                    try separate.step(dt: dt)
                    XCTAssertEqual(fused.hopEvents, separate.hopEvents, "\(label), \(mode), step \(step)")
                    XCTAssertEqual(fused.activeSurface, separate.activeSurface, "\(label), \(mode), step \(step)")
                    hops += fused.hopEvents.filter(\.succeeded).count
                }
                assertSameState(fused, separate, "\(label), \(mode)")
                XCTAssertEqual(largestPhase > 0.78, dt > 1, "\(label): phases beyond the reduction-free sincos")
            }
        }
        XCTAssertGreaterThan(hops, 20, "the comparison covers hops")
    }

    /// Copies of a batch share the whole step's carried slopes; an entry made at other
    /// coordinates is evaluated again (the kernel's first loop), so a copy stepped after the
    /// original moved on takes exactly the original's steps.
    func testWholeScatteringStepReevaluatesSlopesWhereCoordinatesMoved() throws {
        let model = TullyProblemOne(initMomentum: 20, initPosition: -2), dt = 0.5
        let grid = TimeGrid(SimulationSettings(tmax: 100, dtUpdate: dt, dtCollect: 100))
        let original = try SurfaceHoppingBatch(
            algorithm: FewestSwitchesSurfaceHopping(stepPlan: Self.wholeStepPlan),
            model: model, grid: grid, seeds: Array(0..<9),
            initialWavefunction: [Complex(1), Complex(0)])
        var first = original, second = original
        var trajectory: [[Double]] = []
        for _ in 0..<30 {
            try first.step(dt: dt)
            trajectory.append(first.z.re + first.z.im + first.wfDb.re)
        }
        for step in 0..<30 {
            try second.step(dt: dt)
            XCTAssertEqual(second.z.re + second.z.im + second.wfDb.re, trajectory[step], "step \(step)")
        }
        XCTAssertNotEqual(first.z.re, original.z.re, "the coordinates moved")
    }

    /// The whole step computing one trajectory of each identical set (all of them at first:
    /// a definite initial position and momentum) against it computing every trajectory, step by
    /// step, stochastic and deterministic: the same bits everywhere, the hop attempts included,
    /// while the sets split as trajectories hop apart; the outputs only collect points read
    /// (deferred by the steps no collect point follows) the same at every collect point.
    func testWholeScatteringStepSharingIdenticalTrajectoriesGivesTheSameBits() throws {
        let models: [any Model] = [
            TullyProblemOne(initMomentum: 20, initPosition: -2), TullyProblemTwo(initMomentum: 25, initPosition: -2),
            TullyProblemThree(initMomentum: 20, initPosition: -1),
        ]
        let dt = 0.5, steps = 600
        var totalHops = 0
        try withEvery("model", in: models, describe: \.modelName) { model, label in
            let grid = TimeGrid(
                SimulationSettings(tmax: dt * Double(steps), dtUpdate: dt, dtCollect: dt * Double(steps)))
            try withEvery("deterministic", in: [false, true]) { deterministic, mode in
                let algorithm = FewestSwitchesSurfaceHopping(
                    deterministic: deterministic, stepPlan: Self.wholeStepPlan)
                let seeds = Array(0..<(deterministic ? 40 : 41))
                var shared = try SurfaceHoppingBatch(
                    algorithm: algorithm, model: model, grid: grid, seeds: seeds,
                    initialWavefunction: [Complex(0.6), Complex(0, 0.8)])
                var each = shared
                each.computeEveryTrajectory()
                XCTAssertNil(each.computedTrajectories)
                var fewest = seeds.count, hops = 0, deferredSteps = 0
                for step in 0..<steps {
                    // A collect point after every seventh step: the steps before it may leave
                    // the outputs only collect points read in the kernel's workspace.
                    let collectsAfter = step % 7 == 6
                    try shared.step(dt: dt, collectsAfter: collectsAfter)
                    try each.step(dt: dt)
                    deferredSteps += shared.hasDeferredOutputs ? 1 : 0
                    XCTAssertEqual(shared.hopEvents, each.hopEvents, "\(label), \(mode), step \(step)")
                    hops += shared.hopEvents.filter(\.succeeded).count
                    fewest = min(fewest, shared.computedTrajectories!)
                    let state = [
                        (shared.z, each.z), (shared.wfDb, each.wfDb), (shared.eigenvectors, each.eigenvectors),
                    ]
                    let outputs = [
                        (shared.wfAdb, each.wfAdb), (shared.hamiltonian, each.hamiltonian),
                        (shared.activeWavefunction, each.activeWavefunction),
                    ]
                    let same = (state + (collectsAfter ? outputs : [])).allSatisfy { a, b in
                        (a.re + a.im).map(\.bitPattern) == (b.re + b.im).map(\.bitPattern)
                    }
                    XCTAssertTrue(same, "\(label), \(mode), step \(step)")
                    XCTAssertEqual(
                        shared.eigenvalues.map(\.bitPattern), each.eigenvalues.map(\.bitPattern),
                        "\(label), \(mode), step \(step)")
                    XCTAssertEqual(shared.activeSurface, each.activeSurface, "\(label), \(mode), step \(step)")
                    if !same { return }
                }
                // One set per initial surface (drawn, or one per deterministic branch).
                XCTAssertLessThanOrEqual(fewest, 2, "\(label), \(mode): every trajectory starts alike")
                XCTAssertGreaterThan(deferredSteps, steps / 2, "\(label), \(mode): outputs deferred")
                totalHops += hops
                guard hops > 0 else { return }
                XCTAssertGreaterThan(shared.computedTrajectories!, fewest, "\(label), \(mode): the sets split")
            }
        }
        XCTAssertGreaterThan(totalHops, 20, "hops set trajectories apart")
    }

    /// The whole step's state against another batch's, to rounding.
    func assertSameState(
        _ a: SurfaceHoppingBatch, _ b: SurfaceHoppingBatch, _ label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let pairs = [
            ("wf_db", a.wfDb, b.wfDb), ("wf_adb", a.wfAdb, b.wfAdb), ("eigenvectors", a.eigenvectors, b.eigenvectors),
            ("z", a.z, b.z), ("active eigenvector", a.activeWavefunction, b.activeWavefunction),
            ("H", a.hamiltonian, b.hamiltonian),
        ]
        for (name, x, y) in pairs {
            let worst = zip(x.re + x.im, y.re + y.im).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-10, "\(label): \(name)", file: file, line: line)
            XCTAssertTrue(
                x.im.allSatisfy { $0 == 0 } || name == "wf_db" || name == "wf_adb" || name == "z",
                "\(label): \(name) real", file: file, line: line)
        }
        let worst = zip(a.eigenvalues, b.eigenvalues).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-12, "\(label): eigenvalues", file: file, line: line)
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
