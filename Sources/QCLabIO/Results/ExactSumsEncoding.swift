import QCLabCore

/// How a file's `<name>_exact` datasets store the exact sums, named by the root attribute
/// `exact_encoding`: lossless transforms that make them compress well, undone on reading.
///
/// The attribute lists the steps applied on writing, in order, separated by commas; reading
/// undoes them in reverse. A file without the attribute (written before it existed) stores
/// the sums as they are. The values read back are the same bits either way, so files of
/// either kind merge with each other exactly.
///
/// - `hermitian_residual`: in a complex output whose last two axes are square (a density
///   matrix), each element above the diagonal `(i, j)`, `i < j`, is stored minus its mirror:
///   the element `(j, i)` with the limbs of its imaginary part's sum negated (the exact sums
///   of a Hermitian matrix's conjugate pair). Every value is subtracted with wrapping
///   arithmetic, so the step is lossless for any sums; for a Hermitian output the stored
///   upper triangle is all zero.
/// - `zigzag`: every int64 `v` stored as `(v << 1) ^ (v >> 63)`, so that small negative
///   limbs have zero high bytes, as small positive ones do (byte shuffling then leaves
///   long runs of zeros for deflate).
package struct ExactSumsEncoding: Equatable, Sendable {
    /// One lossless transform of the stored values.
    package enum Step: String, Sendable {
        case hermitianResidual = "hermitian_residual"
        case zigzag
    }

    /// The root attribute that names the steps.
    package static let attributeName = "exact_encoding"
    /// What this version writes.
    package static let current = ExactSumsEncoding(steps: [.hermitianResidual, .zigzag])
    /// The layout of files written before the attribute existed: the sums as they are.
    package static let plain = ExactSumsEncoding(steps: [])

    package let steps: [Step]

    /// The attribute's value.
    package var attribute: String { steps.map(\.rawValue).joined(separator: ",") }

    package init(steps: [Step]) { self.steps = steps }

    /// The encoding an attribute names, or nil when it names a step this version does not know.
    package init?(attribute: String) {
        var steps: [Step] = []
        for name in attribute.split(separator: ",", omittingEmptySubsequences: false) {
            guard let step = Step(rawValue: String(name)) else { return nil }
            steps.append(step)
        }
        self.steps = steps
    }

    /// The values to store for the exact sums `sums` of an output of `shape`.
    package func encode(_ sums: [Int64], shape: [Int], isComplex: Bool) -> [Int64] {
        var values = sums
        for step in steps {
            switch step {
            case .hermitianResidual: Self.hermitianResidual(&values, shape: shape, isComplex: isComplex, adding: false)
            case .zigzag: Self.zigzag(&values, decoding: false)
            }
        }
        return values
    }

    /// The exact sums of an output of `shape` from the values stored.
    package func decode(_ stored: [Int64], shape: [Int], isComplex: Bool) -> [Int64] {
        var values = stored
        for step in steps.reversed() {
            switch step {
            case .hermitianResidual: Self.hermitianResidual(&values, shape: shape, isComplex: isComplex, adding: true)
            case .zigzag: Self.zigzag(&values, decoding: true)
            }
        }
        return values
    }

    /// Maps every value to its zigzag form, or back.
    private static func zigzag(_ values: inout [Int64], decoding: Bool) {
        values.withUnsafeMutableBufferPointer { buffer in
            for index in buffer.indices {
                let bits = UInt64(bitPattern: buffer[index])
                buffer[index] =
                    decoding
                    ? Int64(bitPattern: (bits >> 1) ^ (0 &- (bits & 1)))
                    : Int64(bitPattern: (bits << 1) ^ UInt64(bitPattern: buffer[index] >> 63))
            }
        }
    }

    /// Subtracts from (or adds back to) each element above the diagonal of a square complex
    /// output the mirror of the element below it; anything else is left as it is.
    private static func hermitianResidual(_ values: inout [Int64], shape: [Int], isComplex: Bool, adding: Bool) {
        guard isComplex, shape.count >= 2, let n = shape.last, n >= 2, shape[shape.count - 2] == n else { return }
        let stride = OutputAccumulator.exactValuesPerElement
        let state = stride / 2
        let perElement = 2 * stride  // real part, then imaginary part
        let matrices = shape.dropLast(2).reduce(1, *)
        guard values.count == matrices * n * n * perElement else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            for matrix in 0..<matrices {
                let base = matrix * n * n * perElement
                for i in 0..<n {
                    for j in (i + 1)..<n {
                        let upper = base + (i * n + j) * perElement, lower = base + (j * n + i) * perElement
                        for k in 0..<perElement {
                            // The imaginary part's sum changes sign under conjugation: its limbs
                            // (after the top-bin index) are negated; the rest mirror as they are.
                            let negated = k > stride && k < stride + state
                            let mirror = negated ? 0 &- buffer[lower + k] : buffer[lower + k]
                            buffer[upper + k] = adding ? buffer[upper + k] &+ mirror : buffer[upper + k] &- mirror
                        }
                    }
                }
            }
        }
    }
}
