import QCLabCore

/// How a file's `<name>_exact` datasets store the exact sums, named by the root attribute
/// `exact_encoding`: lossless transforms that make them compress well, undone on reading.
///
/// The attribute lists the steps applied on writing, in order, separated by commas; reading
/// undoes them in reverse. A file without the attribute (written before it existed) stores
/// the sums as they are. The values read back are the same bits either way, so files of
/// either kind merge with each other exactly.
///
/// - `mean_residual`: every limb of every exact sum stored minus its prediction from what
///   the file stores beside it and the limbs above it (``prediction(ofLimb:of:at:estimate:)``):
///   the output's mean (`<name>`) times `norm_factor` estimates the sum of the samples, and
///   with the standard error (`<name>_sem`, when the file has it) and `num_samples`, the sum
///   of their squares. The mean is the sum rounded, so the top limbs follow from it up to
///   the carries of the limb below and the mean's precision: a sum's top two limbs, about
///   38 bits each, are stored in about 7 and 11. The prediction is plain IEEE float64
///   arithmetic on stored values, made alike in writing and reading, and the difference
///   wraps around, so the step is lossless for any sums and any stored moments.
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
        case meanResidual = "mean_residual"
        case hermitianResidual = "hermitian_residual"
        case zigzag
    }

    /// What a file stores beside an output's exact sums, from which `mean_residual`
    /// predicts them: its means and standard errors as written (one per real value, a
    /// complex element's real part first), and the file's counts.
    package struct StoredMoments: Sendable {
        package var means: [Double]
        /// Nil when the file has no `<name>_sem` for the output (`t`, or no error bars).
        package var standardErrors: [Double]?
        package var normFactor: Int
        package var samples: Int

        package init(means: [Double], standardErrors: [Double]?, normFactor: Int, samples: Int) {
            self.means = means
            self.standardErrors = standardErrors
            self.normFactor = normFactor
            self.samples = samples
        }
    }

    /// The root attribute that names the steps.
    package static let attributeName = "exact_encoding"
    /// What this version writes.
    package static let current = ExactSumsEncoding(steps: [.meanResidual, .hermitianResidual, .zigzag])
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

    /// The values to store for the exact sums `sums` of an output of `shape`, stored beside
    /// `moments` (which `mean_residual` needs, and nothing else).
    package func encode(_ sums: [Int64], shape: [Int], isComplex: Bool, moments: StoredMoments? = nil) -> [Int64] {
        precondition(moments != nil || !steps.contains(.meanResidual), "mean_residual needs the stored moments")
        var values = sums
        for step in steps {
            switch step {
            case .meanResidual: Self.meanResidual(&values, moments: moments!, adding: false)
            case .hermitianResidual: Self.hermitianResidual(&values, shape: shape, isComplex: isComplex, adding: false)
            case .zigzag: Self.zigzag(&values, decoding: false)
            }
        }
        return values
    }

    /// The exact sums of an output of `shape` from the values stored beside `moments`
    /// (which `mean_residual` needs, and nothing else).
    package func decode(_ stored: [Int64], shape: [Int], isComplex: Bool, moments: StoredMoments? = nil) -> [Int64] {
        precondition(moments != nil || !steps.contains(.meanResidual), "mean_residual needs the stored moments")
        var values = stored
        for step in steps.reversed() {
            switch step {
            case .meanResidual: Self.meanResidual(&values, moments: moments!, adding: true)
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

    /// Subtracts from (or adds back to) every limb of every exact sum its prediction from
    /// the stored moments and the limbs above it; values that do not fit the moments' count
    /// are left as they are.
    private static func meanResidual(_ values: inout [Int64], moments: StoredMoments, adding: Bool) {
        let stride = OutputAccumulator.exactValuesPerElement, state = stride / 2
        let count = moments.means.count
        guard values.count == count * stride, moments.standardErrors.map({ $0.count == count }) ?? true else { return }
        let normFactor = Double(moments.normFactor), samples = Double(moments.samples)
        let branches = normFactor / samples
        values.withUnsafeMutableBufferPointer { buffer in
            for element in 0..<count {
                // The sum of the samples is about mean x norm_factor; that of their squares
                // follows from D = n S2 - S1^2 = n^2 (n - 1) (sem x branches)^2
                // (``OutputAccumulator/moments(normFactor:samples:standardErrors:)``).
                let sum = moments.means[element] * normFactor
                let spread = (moments.standardErrors?[element] ?? 0) * branches
                let squares = (spread * spread * samples * samples * (samples - 1) + sum * sum) / samples
                residual(buffer, at: element * stride, estimate: sum, adding: adding)
                residual(buffer, at: element * stride + state, estimate: squares, adding: adding)
            }
        }
    }

    /// Subtracts from (or adds back to) each limb of the exact sum at `start` its prediction.
    ///
    /// A limb's prediction uses the limbs above it as they are: undone from the top limb
    /// down, done from the lowest up.
    private static func residual(
        _ buffer: UnsafeMutableBufferPointer<Int64>, at start: Int, estimate: Double, adding: Bool
    ) {
        for step in 0..<4 {
            let limb = adding ? 1 + step : 4 - step
            let predicted = prediction(ofLimb: limb, of: buffer, at: start, estimate: estimate)
            buffer[start + limb] = adding ? buffer[start + limb] &+ predicted : buffer[start + limb] &- predicted
        }
    }

    /// The value that limb `limb` (1-4) of the exact sum at `start` (a window index, then
    /// four limbs) has if the sum's value is `estimate`, given the limbs above it; 0 for an
    /// empty or non-finite sum, or where the estimate says little about the limb.
    ///
    /// Limb `k` of a sum with window index `w` counts units of 2^(32 (w - k + 1) - 1088)
    /// (`exact_sum.c`): the prediction is the estimate in units of the limb, less the limbs
    /// above in those units, rounded to the nearest integer (ties away from zero). The
    /// estimate (a rounded mean, to 2^-52 or so) tells nothing about a limb below about 2^84
    /// times its unit. Every step is odd, so a sum negated limb by limb with its estimate
    /// negated gets negated predictions, and a Hermitian output's mirrored sums keep their
    /// mirror relation.
    package static func prediction(
        ofLimb limb: Int, of sums: UnsafeMutableBufferPointer<Int64>, at start: Int, estimate: Double
    ) -> Int64 {
        let window = sums[start]
        guard window >= 0, window <= 66 else { return 0 }  // empty, non-finite or invalid
        let unit = 32 * (Int(window) - (limb - 1)) - 1088
        var value = Double(sign: .plus, exponent: -unit, significand: estimate)
        guard value.magnitude < 0x1p84 else { return 0 }  // false for a NaN too
        for above in 1..<limb {
            value -= Double(sums[start + above]) * Double(sign: .plus, exponent: 32 * (limb - above), significand: 1)
        }
        guard value.isFinite, value.magnitude < 0x1p62 else { return 0 }
        return Int64(value.rounded())
    }
}
