import CQCLabExactSums
import XCTest
@testable import QCLab
@_spi(Benchmarks) @testable import QCLabCore

/// A Hermitian matrix output (surface hopping's `dm_db`) sums its lower triangle only and
/// mirrors the sums: the same bits as summing every element.
final class HermitianOutputTests: XCTestCase {
    /// The moments of a square complex output: an upper element whose sums mirror its lower
    /// one's takes the conjugate mean and the same error from it, any other is computed; the
    /// same bits as computing every element on its own, for a Hermitian output and another.
    func testMomentsOfASquareComplexOutputEqualThoseOfEachElement() {
        let n = 4, points = 3, samples = 6
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func draw() -> Double {  // a fixed sequence in [-1, 1)
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(Int64(bitPattern: state) >> 11) / Double(1 << 52)
        }
        for hermitian in [true, false] {
            var accumulator = OutputAccumulator(name: "m", shape: [points, n, n], isComplex: true)
            for _ in 0..<samples {
                var values = (0..<(2 * points * n * n)).map { _ in draw() }
                for c in 0..<points where hermitian {
                    for i in 0..<n {
                        values[2 * (c * n * n + i * n + i) + 1] = 0
                        for j in (i + 1)..<n {
                            let upper = 2 * (c * n * n + i * n + j), lower = 2 * (c * n * n + j * n + i)
                            (values[upper], values[upper + 1]) = (values[lower], -values[lower + 1])
                        }
                    }
                }
                accumulator.addSample(values)
            }
            let moments = accumulator.moments(normFactor: samples, samples: samples, standardErrors: true)
            accumulator.exactSums.withUnsafeBufferPointer { sums in
                for e in 0..<accumulator.elementCount {
                    var mean = 0.0, sem = 0.0
                    qclab_exact_moments(
                        sums.baseAddress! + e * OutputAccumulator.exactValuesPerElement, 1, Int64(samples),
                        Int64(samples), &mean, &sem)
                    XCTAssertEqual(moments.mean[e].bitPattern, mean.bitPattern, "hermitian \(hermitian): mean \(e)")
                    XCTAssertEqual(moments.sem![e].bitPattern, sem.bitPattern, "hermitian \(hermitian): error \(e)")
                }
            }
            XCTAssertEqual(moments.mean[2 * 1 + 1], hermitian ? -moments.mean[2 * n + 1] : moments.mean[2 * 1 + 1])
        }
    }

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
