import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// A Hermitian matrix output (surface hopping's `dm_db`) sums its lower triangle only and
/// mirrors the sums: the same bits as summing every element.
final class HermitianOutputTests: XCTestCase {
    func testMirroredSumsEqualTheSumsOfEveryElement() throws {
        let cases: [(any Model, FewestSwitchesSurfaceHopping, String)] = [
            (HolsteinLattice(g: 0.8, N: 6), FewestSwitchesSurfaceHopping(), "real eigenvectors"),
            (HolsteinLattice(g: 0.8, N: 5), FewestSwitchesSurfaceHopping(gaugeFixing: .phaseOverlap), "complex"),
            (HolsteinLatticeReciprocalSpace(N: 4), FewestSwitchesSurfaceHopping(deterministic: true), "weighted"),
            (HolsteinLattice(N: 66), FewestSwitchesSurfaceHopping(), "BLAS density matrix"),
        ]
        for (model, algorithm, label) in cases {
            let n = model.numQuantumStates
            let mirrored = Output.surfaceHoppingDensityMatrix(states: n)
            XCTAssertTrue(mirrored.isHermitianMatrix)
            var full = mirrored
            full.isHermitianMatrix = false
            let grid = TimeGrid(SimulationSettings(tmax: 0.4, dtUpdate: 0.02, dtCollect: 0.1))
            let psi0 = (0..<n).map { Complex<Double>($0 == 0 ? 1 : 0) }
            let seeds = Array(0..<(algorithm.deterministic ? n : 7))
            let a = try algorithm.runBatch(
                model: model, grid: grid, initialWavefunction: psi0, seeds: seeds, outputs: [mirrored])
            let b = try algorithm.runBatch(
                model: model, grid: grid, initialWavefunction: psi0, seeds: seeds, outputs: [full])
            let (x, y) = (try XCTUnwrap(a.observable("dm_db")), try XCTUnwrap(b.observable("dm_db")))
            XCTAssertTrue(x.isExact, label)
            XCTAssertEqual(x.exactSums, y.exactSums, label)
            // Not vacuous: the imaginary parts' sums are not all zero.
            XCTAssertNotEqual(
                x.moments(normFactor: a.normFactor, samples: a.sampleCount, standardErrors: false)
                    .mean.enumerated().filter { $0.offset % 2 == 1 }.map(\.element).filter { $0 != 0 }.count, 0, label)
        }
    }
}
