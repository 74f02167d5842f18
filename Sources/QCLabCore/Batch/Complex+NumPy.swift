// swift-numerics' `Complex<Double>` is the complex type of QCLab's API: a user's file that
// imports QCLab can name it, and one that imports ComplexModule too names the same type.
@_exported import Numerics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Where swift-numerics' `Complex` computes differently from NumPy, whose results QC Lab's
// outputs (and so ours, to the bit) come from, these helpers keep NumPy's arithmetic.

extension Complex where RealType == Double {
    /// `exp(i angle)` as `(cos angle, sin angle)`, for any angle.
    ///
    /// swift-numerics' `Complex(length: 1, phase:)` stops the program on a non-finite angle.
    package static func unit(phase angle: Double) -> Complex<Double> {
        let (cosine, sine) = unitCircle(angle)
        return Complex(cosine, sine)
    }

    /// The argument as NumPy's `np.angle`: `atan2(imaginary, real)`, so 0 or ±π at zero.
    ///
    /// swift-numerics' `phase` is NaN at zero and at infinity.
    package var numpyAngle: Double { argument(rawStorage.y, rawStorage.x) }
}

/// The C library's cosine and sine (inside `Complex`, `cos` and `sin` name its own).
private func unitCircle(_ angle: Double) -> (Double, Double) { (cos(angle), sin(angle)) }

/// The C library's `atan2(y, x)`.
private func argument(_ y: Double, _ x: Double) -> Double { atan2(y, x) }

/// Float literals are complex numbers with a zero imaginary part, as integer literals are
/// already (`let psi: [Complex<Double>] = [0.6, 0.8]`), the way a QC Lab user writes
/// `np.array([0.6, 0.8], dtype=complex)`.
///
/// swift-numerics leaves this conformance out; it is declared here, for `Double` only, and
/// marked retroactive: should swift-numerics add it, this one goes.
extension Complex: @retroactive ExpressibleByFloatLiteral where RealType == Double {
    public init(floatLiteral value: Double) { self.init(value, 0) }
}
