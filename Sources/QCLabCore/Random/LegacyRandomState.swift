import CQCLabKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// NumPy's legacy random generator, draw for draw: what `np.random.seed(int)` followed by
/// `np.random.normal` and `np.random.rand` produce, which is how QC Lab seeds trajectories.
///
/// MT19937 (Matsumoto & Nishimura, ACM TOMACS 8, 3 (1998)) seeded with `init_genrand`,
/// 53-bit doubles from two 32-bit outputs (`genrand_res53`), and the Marsaglia polar
/// Gaussian that keeps its second value for the next call, as NumPy's `legacy_gauss` does.
package struct LegacyRandomState: Sendable {
    private var stream: LegacyRandomStreams
    private var cachedGaussian: Double?

    /// A generator in the state `np.random.seed(seed)` leaves (seed in 0 ..< 2^32).
    package init(seed: Int) {
        precondition(seed >= 0 && seed <= Int(UInt32.max), "seed must be in 0...2^32-1")
        stream = LegacyRandomStreams(seeds: [seed])
    }

    /// The next tempered 32-bit output.
    package mutating func nextUInt32() -> UInt32 {
        var word: UInt32 = 0
        withUnsafeMutablePointer(to: &word) {
            stream.nextUInt32s(into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }
        return word
    }

    /// A uniform double in [0, 1) with 53 random bits: one draw of `np.random.rand`.
    package mutating func nextDouble() -> Double {
        var value = 0.0
        withUnsafeMutablePointer(to: &value) {
            stream.nextDoubles(into: UnsafeMutableBufferPointer(start: $0, count: 1))
        }
        return value
    }

    /// A standard normal draw, exactly as NumPy's legacy `normal` makes it.
    package mutating func nextGaussian() -> Double {
        if let cached = cachedGaussian {
            cachedGaussian = nil
            return cached
        }
        var x1 = 0.0, x2 = 0.0, r2 = 0.0
        repeat {
            x1 = 2.0 * nextDouble() - 1.0
            x2 = 2.0 * nextDouble() - 1.0
            r2 = x1 * x1 + x2 * x2
        } while r2 >= 1.0 || r2 == 0.0
        let f = (-2.0 * log(r2) / r2).squareRoot()
        cachedGaussian = f * x1
        return f * x2
    }

    /// `np.random.normal(loc=0, scale=scale, size=scale.count)`.
    package mutating func normal(scale: [Double]) -> [Double] {
        scale.map { 0.0 + $0 * nextGaussian() }
    }

    /// `np.random.rand(count)`.
    package mutating func uniform(count: Int) -> [Double] {
        (0..<count).map { _ in nextDouble() }
    }
}
