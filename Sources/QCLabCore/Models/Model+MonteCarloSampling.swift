import Numerics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A model that states the thermal energy of its initial classical distribution: it needs
/// no sampler of its own, for the default ``Model/initialClassicalCoordinates(seeds:)``
/// draws `z` from the Boltzmann distribution `exp(-H_c(z) / kBT)` of its classical energy
/// with ``MonteCarloBoltzmannSampler``, as QC Lab does for a model without an
/// `init_classical` ingredient.
package protocol ThermalModel: Model {
    /// The thermal energy `kBT` of the initial distribution (QC Lab's constant `kBT`).
    var kBT: Double { get }
    /// The sampler's settings; default QC Lab's (``MonteCarloBoltzmannSampler/init(kBT:burnIn:sampleCount:stepSize:separable:start:)``).
    var boltzmannSampler: MonteCarloBoltzmannSampler { get }
}

extension ThermalModel {
    package var boltzmannSampler: MonteCarloBoltzmannSampler { MonteCarloBoltzmannSampler(kBT: kBT) }

    /// Default: `z` drawn by ``boltzmannSampler`` from `exp(-H_c(z) / kBT)`.
    package func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch {
        boltzmannSampler.sample(model: self, seeds: seeds)
    }
}

/// QC Lab's `initialize_z_mcmc`: Boltzmann-distributed classical coordinates.
///
/// The coordinates come from a Metropolis-Hastings random walk in `z` (Metropolis et al., J. Chem.
/// Phys. 21, 1087 (1953)), draw for draw as QC Lab makes them.
///
/// One chain serves every trajectory: it starts at `start` (default: QC Lab's, a Gaussian
/// draw of `stepSize` after `np.random.seed(0)`), runs `burnIn` steps and then
/// `sampleCount` more whose states are kept; step `s` of each phase proposes from
/// `np.random.seed(s)` a uniform per walker (`rand`) and a Gaussian move of `stepSize` in
/// `Re z` and then `Im z`, and accepts where `rand < min(1, exp(-ΔH_c / kBT))`. A trajectory
/// with seed `k` takes the kept state `np.random.seed(k); np.random.randint(0, sampleCount)`.
///
/// Separable (QC Lab's default, `mcmc_h_c_separable`): every coordinate is its own walker,
/// its energy `H_c` of `z` with that coordinate alone nonzero, so `H_c` must be a sum of
/// one-coordinate terms. Not separable: one walker for the whole `z`. Either way a step
/// evaluates ``Model/classicalEnergy(z:into:)`` once, on a batch of one row per walker.
package struct MonteCarloBoltzmannSampler: Sendable, Equatable {
    package var kBT: Double
    /// Steps discarded before sampling (`mcmc_burn_in_size`).
    package var burnIn: Int
    /// Steps kept (`mcmc_sample_size`).
    package var sampleCount: Int
    /// Standard deviation of a move in `Re z` and in `Im z` (`mcmc_std`).
    package var stepSize: Double
    /// Whether each coordinate is an independent walker (`mcmc_h_c_separable`).
    package var separable: Bool
    /// The chain's first state (`mcmc_initial_z`); `nil` for QC Lab's Gaussian draw.
    package var start: [Complex<Double>]?

    package init(
        kBT: Double, burnIn: Int = 1000, sampleCount: Int = 10000, stepSize: Double = 1.0,
        separable: Bool = true, start: [Complex<Double>]? = nil
    ) {
        (self.kBT, self.burnIn, self.sampleCount, self.stepSize) = (kBT, burnIn, sampleCount, stepSize)
        (self.separable, self.start) = (separable, start)
    }

    /// Reads QC Lab's constants `mcmc_burn_in_size`, `mcmc_sample_size`, `mcmc_std` and
    /// `mcmc_h_c_separable` (with QC Lab's defaults), for a model's job-file factory.
    package init(kBT: Double, constants: inout ModelConstants) throws {
        self.init(
            kBT: kBT, burnIn: try constants.int("mcmc_burn_in_size", default: 1000, minimum: 0),
            sampleCount: try constants.int("mcmc_sample_size", default: 10000, minimum: 1),
            stepSize: try constants.double("mcmc_std", default: 1.0, .positive),
            separable: try constants.bool("mcmc_h_c_separable", default: true))
    }

    /// Initial coordinates of `model` for each seed (seeds in `0 ..< 2^32`).
    package func sample(model: some Model, seeds: [Int]) -> ComplexBatch {
        let kept = chain(model: model)
        var z = ComplexBatch(components: model.numClassicalCoordinates, batchSize: seeds.count)
        for (t, seed) in seeds.enumerated() {
            var random = LegacyRandomState(seed: seed)
            let state = kept[Self.boundedInteger(below: sampleCount, &random)]
            for c in state.indices { z[c, t] = state[c] }
        }
        return z
    }

    /// The `sampleCount` kept states of the chain.
    package func chain(model: some Model) -> [[Complex<Double>]] {
        let n = model.numClassicalCoordinates
        var state =
            start
            ?? {
                var random = LegacyRandomState(seed: 0)
                _ = random.nextDouble()
                let re = (0..<n).map { _ in 0.0 + stepSize * random.nextGaussian() }
                let im = (0..<n).map { _ in 0.0 + stepSize * random.nextGaussian() }
                return zip(re, im).map { Complex($0, $1) }
            }()
        let walkers = separable ? n : 1
        var energy = energies(model: model, of: state, walkers: walkers)
        var kept: [[Complex<Double>]] = []
        kept.reserveCapacity(sampleCount)
        for step in 0..<(burnIn + sampleCount) {
            var random = LegacyRandomState(seed: step < burnIn ? step : step - burnIn)
            let uniform = (0..<walkers).map { _ in random.nextDouble() }
            let re = state.map { $0.real + stepSize * random.nextGaussian() }
            let im = state.map { $0.imaginary + stepSize * random.nextGaussian() }
            let proposal = zip(re, im).map { Complex($0, $1) }
            let proposedEnergy = energies(model: model, of: proposal, walkers: walkers)
            for w in 0..<walkers {
                let ratio = exp(-(proposedEnergy[w] - energy[w]) / kBT)
                // QC Lab: np.minimum(1, ratio) per walker (a NaN rejects); the single
                // walker's builtin min(1, ratio) keeps 1 for a NaN, which accepts.
                let accept = separable ? (uniform[w] < 1 && uniform[w] < ratio) : (!(ratio < 1) || uniform[w] < ratio)
                guard accept else { continue }
                if separable {
                    state[w] = proposal[w]
                } else {
                    state = proposal
                }
                energy[w] = proposedEnergy[w]
            }
            if step >= burnIn { kept.append(state) }
        }
        return kept
    }

    /// `H_c` of each walker: of `z` itself, or (separable) of `z` with only coordinate `w` nonzero.
    private func energies(model: some Model, of z: [Complex<Double>], walkers: Int) -> [Double] {
        var batch = ComplexBatch(components: z.count, batchSize: walkers)
        if separable {
            for w in 0..<walkers { batch[w, w] = z[w] }
        } else {
            for c in z.indices { batch[c, 0] = z[c] }
        }
        var energy = [Double](repeating: 0, count: walkers)
        model.classicalEnergy(z: batch, into: &energy)
        return energy
    }

    /// NumPy's legacy `randint(0, bound)`: 32-bit draws masked to the next power of two,
    /// rejected until below `bound` (`bound <= 2^32`).
    package static func boundedInteger(below bound: Int, _ random: inout LegacyRandomState) -> Int {
        let range = UInt32(bound - 1)
        guard range > 0 else { return 0 }
        var mask = range
        for shift in [1, 2, 4, 8, 16] { mask |= mask >> UInt32(shift) }
        while true {
            let value = random.nextUInt32() & mask
            if value <= range { return Int(value) }
        }
    }
}
