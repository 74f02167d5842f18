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
public struct LegacyRandomState: Sendable {
    private var key = [UInt32](repeating: 0, count: 624)
    private var position = 624
    private var cachedGaussian: Double?

    /// A generator in the state `np.random.seed(seed)` leaves (seed in 0 ..< 2^32).
    public init(seed: Int) {
        precondition(seed >= 0 && seed <= Int(UInt32.max), "seed must be in 0...2^32-1")
        var value = UInt32(truncatingIfNeeded: seed)
        for index in 0..<624 {
            key[index] = value
            value = 1_812_433_253 &* (value ^ (value >> 30)) &+ UInt32(index + 1)
        }
    }

    /// Refills the 624-word state (the MT19937 "twist"), in the reference implementation's
    /// three segments so that no index wraps.
    private mutating func twist() {
        let upper: UInt32 = 0x8000_0000, lower: UInt32 = 0x7fff_ffff, matrix: UInt32 = 0x9908_b0df
        key.withUnsafeMutableBufferPointer { mt in
            @inline(__always) func mix(_ i: Int, _ next: Int, _ far: Int) {
                let y = (mt[i] & upper) | (mt[next] & lower)
                mt[i] = mt[far] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : matrix)
            }
            for i in 0..<227 { mix(i, i + 1, i + 397) }
            for i in 227..<623 { mix(i, i + 1, i - 227) }
            mix(623, 0, 396)
        }
        position = 0
    }

    /// The next tempered 32-bit output.
    public mutating func nextUInt32() -> UInt32 {
        if position == 624 { twist() }
        var y = key[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// A uniform double in [0, 1) with 53 random bits: one draw of `np.random.rand`.
    public mutating func nextDouble() -> Double {
        let a = Double(nextUInt32() >> 5), b = Double(nextUInt32() >> 6)
        return (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// A standard normal draw, exactly as NumPy's legacy `normal` makes it.
    public mutating func nextGaussian() -> Double {
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
    public mutating func normal(scale: [Double]) -> [Double] {
        scale.map { 0.0 + $0 * nextGaussian() }
    }

    /// `np.random.rand(count)`.
    public mutating func uniform(count: Int) -> [Double] {
        (0..<count).map { _ in nextDouble() }
    }
}
