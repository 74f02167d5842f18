import ComplexModule
import Foundation
import QCLab
import XCTest

/// A user's file that imports both QCLab and swift-numerics' ComplexModule: `Complex` names
/// one type, the one QCLab's API takes, and number literals make complex values.
final class ComplexInteropTests: XCTestCase {
    func testComplexOfComplexModuleIsTheLibrarysType() {
        let psi: [Complex<Double>] = [Complex(1, -0.5), Complex(imaginary: 2)]
        var batch = ComplexBatch(repeating: psi, batchSize: 3)
        batch[1, 2] = Complex(-3, 4)
        XCTAssertEqual(batch.trajectory(0), psi)
        XCTAssertEqual(batch.re, [1, 1, 1, 0, 0, -3])
        XCTAssertEqual(batch.im, [-0.5, -0.5, -0.5, 2, 2, 4])
        XCTAssertEqual(batch[1, 2].conjugate, Complex(-3, -4))
    }

    /// Number literals are complex numbers: integers (swift-numerics) and floats (ours, for
    /// `Complex<Double>`), each with a zero imaginary part.
    func testNumberLiteralsAreComplexNumbers() {
        let psi: [Complex<Double>] = [1, 0, -2]
        XCTAssertEqual(psi, [Complex(1, 0), Complex(0, 0), Complex(-2, 0)])
        let batch = ComplexBatch(repeating: [1, 0], batchSize: 2)
        XCTAssertEqual(batch.re, [1, 1, 0, 0])
        XCTAssertEqual(batch.im, [0, 0, 0, 0])
        let mixed: [Complex<Double>] = [0.6, 0.8, 1, -0.25]
        XCTAssertEqual(mixed.map(\.real), [0.6, 0.8, 1, -0.25])
        XCTAssertEqual(mixed.map(\.imaginary), [0, 0, 0, 0])
        let half: Complex<Double> = 0.5
        XCTAssertEqual(half * Complex(0, 2), Complex(0, 1))
    }

    /// A part that is infinite or NaN is stored as it is, not turned into NaN as
    /// `Complex.real` would read it.
    func testBatchKeepsNonFinitePartsAsGiven() {
        var batch = ComplexBatch(components: 1, batchSize: 1)
        batch[0, 0] = Complex(.infinity, -1)
        XCTAssertEqual(batch.re, [.infinity])
        XCTAssertEqual(batch.im, [-1])
        XCTAssertEqual(batch[0, 0].rawStorage.x, .infinity)
    }

    /// The gauge fixing's angle is NumPy's `np.angle`, defined at zero where swift-numerics'
    /// `phase` is NaN; its rotation is `(cos, sin)` of the angle, whatever the angle.
    func testNumPyAngleAndUnitPhase() {
        XCTAssertEqual(Complex<Double>(0, 0).numpyAngle, 0)
        XCTAssertEqual(Complex<Double>(-0.0, 0).numpyAngle, .pi)
        XCTAssertTrue(Complex<Double>(0, 0).phase.isNaN)
        XCTAssertEqual(Complex<Double>(-1, 1e-300).numpyAngle, atan2(1e-300, -1))
        let rotation = Complex<Double>.unit(phase: 0.3)
        XCTAssertEqual(rotation.real, cos(0.3))
        XCTAssertEqual(rotation.imaginary, sin(0.3))
        XCTAssertTrue(Complex<Double>.unit(phase: .infinity).rawStorage.x.isNaN)
    }
}
