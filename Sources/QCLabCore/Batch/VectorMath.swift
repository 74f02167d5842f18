import CQCLabKernels

/// Vectorized elementary functions over whole batch arrays.
///
/// The C kernels in `CSources/CQCLabKernels/vector_math.c` are within about one ulp of the C
/// library's. A model's batched formulas call these instead of `exp` per element, which is a
/// function call each and does not vectorize.
package enum VectorMath {
    /// `x[i] = exp(x[i])` for every element.
    @inlinable package static func exp(inPlace x: UnsafeMutableBufferPointer<Double>) {
        qclab_exp_in_place(Int64(x.count), x.baseAddress)
    }

    /// `sine[i] = sin(x[i])`, `cosine[i] = cos(x[i])` for every element (vectorized for
    /// `|x| <= 1e5`, the C library beyond).
    @inlinable package static func sincos(
        _ x: UnsafeBufferPointer<Double>, sine: UnsafeMutableBufferPointer<Double>,
        cosine: UnsafeMutableBufferPointer<Double>
    ) {
        precondition(sine.count == x.count && cosine.count == x.count)
        qclab_sincos(Int64(x.count), x.baseAddress, sine.baseAddress, cosine.baseAddress)
    }

    /// `(sin(x[i]), cos(x[i]))` for every element, as new arrays.
    package static func sincos(_ x: [Double]) -> (sine: [Double], cosine: [Double]) {
        var cosine = [Double](repeating: 0, count: x.count)
        let sine = [Double](unsafeUninitializedCapacity: x.count) { sine, count in
            cosine.withUnsafeMutableBufferPointer { qclab_sincos(Int64(x.count), x, sine.baseAddress, $0.baseAddress) }
            count = x.count
        }
        return (sine, cosine)
    }
}
