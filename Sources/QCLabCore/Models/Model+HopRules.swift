import Numerics

/// The hop rules: how surface hopping moves `z` so that the total energy is conserved when
/// the quantum energy rises by `energyGap = E_final - E_initial`. A hop moves `z` to
/// `z - i γ d` along the rescaling direction `d` (for `h_c` quadratic in `Im z`, the
/// momentum changes along `Re d`), with the `γ` that solves
/// `H_c(z - i γ d) = H_c(z) - energyGap`; there is none when too little energy is available
/// and the hop is frustrated (`nil`). Tully, J. Chem. Phys. 93, 1061 (1990).
///
/// ``Model/hopShift(z:direction:energyGap:)`` is the model's choice: ``NumericalHop`` unless
/// the model implements it, as a harmonic bath does with ``HarmonicHop`` and a free particle
/// with ``FreeParticleHop``.
extension Model {
    /// The default hop rule: ``NumericalHop`` with QC Lab's default settings, what QC Lab
    /// does for a model without a `hop` ingredient.
    public func hopShift(z: [Complex<Double>], direction: [Complex<Double>], energyGap: Double) -> [Complex<Double>]? {
        NumericalHop().shift(model: self, z: z, direction: direction, energyGap: energyGap)
    }
}

/// Quadratic solve shared by the closed-form hop rules: the `γ` of `a γ² - b γ + c = 0`
/// that QC Lab takes (the root of smaller magnitude), or `nil` when the discriminant is negative.
@inlinable package func smallerHopRoot(a: Double, b: Double, c: Double) -> Double? {
    let disc = b * b - 4.0 * a * c
    guard disc >= 0 else { return nil }
    let root = b < 0 ? b + disc.squareRoot() : b - disc.squareRoot()
    return a == 0 ? 0 : 0.5 * root / a
}

/// QC Lab's `hop_free`: the closed-form hop of free particles,
/// `H_c = Σ_ξ p_ξ² / (2 m_ξ) = Σ_ξ h_ξ (Im z_ξ)²`.
///
/// `H_c(z - i γ d) = H_c(z) - ΔE` is `a γ² - b γ - ΔE = 0` with `a = -Σ h Re(d)²` and
/// `b = -2 Σ h Re(d) Im(z)` (the sign convention of QC Lab's solve).
public struct FreeParticleHop: Sendable, Equatable {
    /// Weights `h` of the coordinates (`classical_coordinate_weight`).
    public let weight: [Double]

    public init(weight: [Double]) { self.weight = weight }

    /// The shift `-i γ d`, or `nil` when the hop is frustrated.
    public func shift(z: [Complex<Double>], direction d: [Complex<Double>], energyGap: Double) -> [Complex<Double>]? {
        var a = 0.0, b = 0.0
        // The raw parts: `real` and `imaginary` check finiteness on every read (measured).
        for c in weight.indices {
            let (dr, zi) = (d[c].rawStorage.x, z[c].rawStorage.y)
            a += -(weight[c] * dr * dr)
            b += -(2.0 * weight[c] * dr * zi)
        }
        guard let gamma = smallerHopRoot(a: a, b: b, c: -energyGap) else { return nil }
        return d.map { Complex(0, -gamma) * $0 }
    }
}

/// QC Lab's `hop_harmonic`: the closed-form hop of harmonic oscillators,
/// `H_c = Σ_ξ (ω²/h) (Re z)² + h (Im z)²`, along a complex direction `d`.
///
/// `a γ² - b γ + ΔE = 0` with `a = Σ 2|d|² (ω²/h + h)/4 - 2 (Re(d)² - Im(d)²) (ω²/h - h)/4`
/// and `b = 2 Σ h Im(z) Re(d) - (ω²/h) Re(z) Im(d)`.
package struct HarmonicHop: Sendable, Equatable {
    /// Oscillator frequencies `ω` (`harmonic_frequency`).
    package let frequency: [Double]
    /// Weights `h` (`classical_coordinate_weight`).
    package let weight: [Double]
    /// `ω² / h`.
    package let frequencySquaredOverWeight: [Double]

    package init(frequency: [Double], weight: [Double]) {
        precondition(frequency.count == weight.count, "one frequency per weight")
        self.frequency = frequency
        self.weight = weight
        frequencySquaredOverWeight = zip(frequency, weight).map { $0 * $0 / $1 }
    }

    /// The shift `-i γ d`, or `nil` when the hop is frustrated.
    package func shift(z: [Complex<Double>], direction d: [Complex<Double>], energyGap: Double) -> [Complex<Double>]? {
        var a = 0.0, b = 0.0
        let count = weight.count
        precondition(
            z.count >= count && d.count >= count && frequencySquaredOverWeight.count >= count,
            "fewer coordinates than weights")
        // Through pointers, without the arrays' bounds checks (the same sums, in the same order).
        weight.withUnsafeBufferPointer { weight in
            frequencySquaredOverWeight.withUnsafeBufferPointer { frequencySquaredOverWeight in
                z.withUnsafeBufferPointer { z in
                    d.withUnsafeBufferPointer { d in
                        for c in 0..<count {
                            let w2h = frequencySquaredOverWeight[c], h = weight[c]
                            let aConst = 0.25 * (w2h - h), bConst = 0.25 * (w2h + h)
                            // The raw parts: `real` and `imaginary` check finiteness on every read (measured).
                            let (dr, di) = d[c].rawStorage, (zr, zi) = z[c].rawStorage
                            a += 2.0 * d[c].lengthSquared * bConst - aConst * 2.0 * (dr * dr - di * di)
                            b += h * zi * dr - w2h * zr * di
                        }
                    }
                }
            }
        }
        b *= 2.0
        guard let gamma = smallerHopRoot(a: a, b: b, c: energyGap) else { return nil }
        return d.map { Complex(0, -gamma) * $0 }
    }
}

/// QC Lab's `numerical_fssh_hop`: the hop of any classical energy, found on a shrinking grid.
///
/// From `γ₀ = 0`, evaluate `|ΔE - (H_c(z) - H_c(z - i γ d))|` at `pointCount` evenly spaced
/// `γ` in `γ₀ ± range` (NumPy's `linspace`), move `γ₀` to the best point and halve `range`,
/// until the mismatch is at most `threshold` or after `maxIterations` rounds; the hop is
/// frustrated when the mismatch is still above `threshold`. The defaults are QC Lab's
/// (`numerical_fssh_hop_gamma_range`, `_max_iter`, `_num_points`, `_threshold`); the grid
/// of one round is evaluated in one call of ``Model/classicalEnergy(z:into:)``.
package struct NumericalHop: Sendable, Equatable {
    package var gammaRange: Double
    package var maxIterations: Int
    package var pointCount: Int
    package var threshold: Double

    package init(gammaRange: Double = 5.0, maxIterations: Int = 20, pointCount: Int = 10, threshold: Double = 1e-6) {
        (self.gammaRange, self.maxIterations, self.pointCount, self.threshold) = (
            gammaRange, maxIterations, pointCount, threshold
        )
    }

    /// Reads QC Lab's constants `numerical_fssh_hop_gamma_range`, `_max_iter`, `_num_points`
    /// and `_threshold` (with QC Lab's defaults), for a model's job-file factory.
    package init(constants: inout ModelConstants) throws {
        self.init(
            gammaRange: try constants.double("numerical_fssh_hop_gamma_range", default: 5.0, .positive),
            maxIterations: try constants.int("numerical_fssh_hop_max_iter", default: 20, minimum: 1, maximum: 10_000),
            pointCount: try constants.int("numerical_fssh_hop_num_points", default: 10, minimum: 2, maximum: 100_000),
            threshold: try constants.double("numerical_fssh_hop_threshold", default: 1e-6, .positive))
    }

    /// The shift `-i γ d` that conserves `model`'s energy, or `nil` when the hop is frustrated.
    package func shift(model: some Model, z: [Complex<Double>], direction d: [Complex<Double>], energyGap: Double)
        -> [Complex<Double>]?
    {
        let n = z.count, points = max(pointCount, 1)
        var energy = [0.0]
        model.classicalEnergy(z: ComplexBatch(repeating: z, batchSize: 1), into: &energy)
        let initial = energy[0]
        var grid = ComplexBatch(components: n, batchSize: points)
        var energies = [Double](repeating: 0, count: points)
        var best = 0.0, mismatch = 1.0, range = gammaRange, round = 0
        while mismatch > threshold && round < maxIterations {
            let gammas = Self.linspace(best - range, best + range, points)
            for (t, gamma) in gammas.enumerated() {
                for c in 0..<n { grid[c, t] = z[c] - Complex(0, gamma) * d[c] }
            }
            model.classicalEnergy(z: grid, into: &energies)
            // np.argmin / np.min: the first smallest mismatch; a NaN wins, as in NumPy.
            var index = 0
            var smallest = abs(energyGap - (initial - energies[0]))
            for t in 1..<points where !smallest.isNaN {
                let value = abs(energyGap - (initial - energies[t]))
                if value < smallest || value.isNaN { (index, smallest) = (t, value) }
            }
            best = gammas[index]
            mismatch = smallest
            range *= 0.5
            round += 1
        }
        if mismatch > threshold { return nil }
        return d.map { Complex(0, -best) * $0 }
    }

    /// NumPy's `linspace(start, stop, count)`: `start + i step`, the last point exactly `stop`.
    package static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        guard count > 1 else { return [start] }
        let step = (stop - start) / Double(count - 1)
        var values = (0..<count).map { Double($0) * step + start }
        if step == 0 { values = (0..<count).map { Double($0) / Double(count - 1) * (stop - start) + start } }
        values[count - 1] = stop
        return values
    }
}
