import CQCLabKernels
import XCTest
@_spi(Benchmarks) @testable import QCLabCore

/// The tiled mean-field step (``StepPlan/QuantumKernelFusion/tiledMeanField``,
/// mean_field_tiles.c) against itself and against the separate kernels: a trajectory's bits do
/// not depend on how its steps are grouped between collect points, nor on the tile or batch it
/// lands in (full tiles and the zero-padded last one), and the plan follows the generic one
/// within rounding for every kind of coupling run and for complex `H_q`.
final class TiledMeanFieldTests: XCTestCase {
    static let tiled = StepPlan(classical: .fused, eigensolver: nil, quantum: .tiledMeanField, realProducts: false)

    /// Three states, complex `H_q`, and modes coupled to every kind of run the kernel has:
    /// runs of one state (0, 0, then 1), of two states (1, 2 twice, then 0, 2), a mode coupled to
    /// all three states and one coupled to none (both stepped as the batch-wide kernel steps them).
    static let mixedCoupling: any Model = {
        let diagonals: [[Double]] = [
            [1, 0, 0], [0.5, 0, 0], [0, 0.7, -0.7], [0, -0.3, 0.4], [0.2, 0.3, 0.4], [0, 0, 0], [0.6, 0, 0.2],
            [0, 0.5, 0],
        ]
        let hq: [Complex<Double>] = [
            Complex(0.1), Complex(0.2, 0.05), Complex(0, -0.1),
            Complex(0.2, -0.05), Complex(-0.1), Complex(0.15),
            Complex(0, 0.1), Complex(0.15), Complex(0.3),
        ]
        let couplings = diagonals.map { d in
            (0..<9).map { i in i % 4 == 0 ? Complex(d[i / 4]) : Complex<Double>.zero }
        }
        let data = LinearVibronicCouplingData(
            hq: hq, frequencies: [0.5, 1, 1.5, 0.8, 1.2, 0.9, 2, 0.7], masses: Array(repeating: 1, count: 8),
            couplings: couplings, kBT: 1, distribution: .boltzmannHarmonic)
        return DiagonalLinearVibronicCoupling(data: data)
    }()

    static let models: [any Model] = [SpinBoson(A: 6, lReorg: 0.05), FMOComplex(N: 3), mixedCoupling]

    static func initialWavefunction(_ model: any Model) -> [Complex<Double>] {
        (0..<model.numQuantumStates).map { Complex($0 == 0 ? 0.6 : 0, $0 == 1 ? 0.8 : 0) }
    }

    /// Every double of trajectory `t`: its `z`, wavefunction and Hamiltonian.
    static func trajectory(_ t: Int, of batch: MeanFieldBatch) -> [UInt64] {
        [batch.z, batch.wavefunction, batch.hamiltonian].flatMap { values in
            (0..<values.components).flatMap { c in
                [values.re[c * values.batchSize + t].bitPattern, values.im[c * values.batchSize + t].bitPattern]
            }
        }
    }

    func testTheFastestMeanFieldPlanIsTiledWhereTheCPUHasFusedMultiplyAdds() {
        for model in Self.models {
            let plan = StepPlan.fastest(model: model, diagonalizes: false)
            XCTAssertEqual(plan.quantum == .tiledMeanField, qclab_cpu_has_fma() != 0, model.modelName)
            XCTAssertTrue(MeanField().applicablePlans(for: model).contains { $0.quantum == .tiledMeanField })
        }
        XCTAssertFalse(MeanField().applicablePlans(for: TullyProblemOne()).contains { $0.quantum == .tiledMeanField })
        XCTAssertTrue(Self.tiled.description.contains("tiles of trajectories"), Self.tiled.description)
    }

    func testEveryTrajectoryHasTheSameBitsHoweverItsStepsAndBatchesAreCut() {
        let dt = 0.02, seeds = Array(100..<113)  // one full tile of 8 and a padded one of 5
        withEvery("model", in: Self.models, describe: \.modelName) { model, label in
            let psi0 = Self.initialWavefunction(model)
            func batch(_ seeds: [Int]) -> MeanFieldBatch {
                MeanFieldBatch(model: model, seeds: seeds, initialWavefunction: psi0, dt: dt, plan: Self.tiled)
            }
            var grouped = batch(seeds), single = batch(seeds)
            grouped.steps(4, dt: dt, collectsAfter: true)
            grouped.steps(3, dt: dt, collectsAfter: false)
            for _ in 0..<7 { single.step(dt: dt) }
            // The same seeds split 3 + 10: each trajectory in another tile, at another lane.
            var (front, back) = (batch(Array(seeds[..<3])), batch(Array(seeds[3...])))
            front.steps(7, dt: dt, collectsAfter: true)
            back.steps(7, dt: dt, collectsAfter: true)
            for t in seeds.indices {
                let bits = Self.trajectory(t, of: grouped)
                XCTAssertEqual(bits, Self.trajectory(t, of: single), "\(label): trajectory \(t), one step at a time")
                let apart = t < 3 ? Self.trajectory(t, of: front) : Self.trajectory(t - 3, of: back)
                XCTAssertEqual(bits, apart, "\(label): trajectory \(t), in a batch of its own")
            }
            // And the steps moved something.
            XCTAssertNotEqual(Self.trajectory(0, of: grouped), Self.trajectory(0, of: batch(seeds)), label)
        }
    }

    func testTheTiledPlanFollowsTheGenericPlanWithinRounding() throws {
        let dt = 0.02, seeds = Array(0..<11)
        let grid = TimeGrid(SimulationSettings(tmax: 2, dtUpdate: dt, dtCollect: 0.2))
        try withEvery("model", in: Self.models, describe: \.modelName) { model, label in
            let outputs =
                MeanField().defaultOutputs(for: model) + [
                    .positions(coordinates: model.numClassicalCoordinates),
                    .momenta(coordinates: model.numClassicalCoordinates),
                ]
            let psi0 = Self.initialWavefunction(model)
            let generic = try MeanField(stepPlan: .generic(diagonalizes: false)).runBatch(
                model: model, grid: grid, initialWavefunction: psi0, seeds: seeds, outputs: outputs)
            let tiled = try MeanField(stepPlan: Self.tiled).runBatch(
                model: model, grid: grid, initialWavefunction: psi0, seeds: seeds, outputs: outputs)
            for name in generic.observables.map(\.name) {
                let (a, b) = (tiled.mean(name)!, generic.mean(name)!)
                let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-10, "\(label): \(name)")
                XCTAssertGreaterThan(b.map(abs).max() ?? 0, 0, "\(label): \(name) is not all zeros")
            }
        }
    }
}
