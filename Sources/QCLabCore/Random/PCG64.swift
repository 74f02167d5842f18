/// NumPy's default generator, draw for draw: what `np.random.default_rng(seed)` followed by
/// `uniform(low, high, size)` produces, which is how QC Lab's MSMASH draws the phases of
/// its focused initial wavefunctions.
///
/// The seed goes through NumPy's `SeedSequence` (O'Neill's seed_seq hashing, a pool of four
/// 32-bit words), which gives the 128-bit state and increment of PCG64 (O'Neill,
/// "PCG: A Family of Simple Fast Space-Efficient Statistically Good Algorithms for Random
/// Number Generation", HMC-CS-2014-0905): a 128-bit LCG with the XSL-RR output function.
/// Doubles are the top 53 bits of a 64-bit output, as NumPy's `next_double`.
package struct PCG64: Sendable {
    /// The 128-bit state and increment, as (high, low) halves.
    private var stateHigh: UInt64, stateLow: UInt64
    private let incrementHigh: UInt64, incrementLow: UInt64

    private static let multiplierHigh: UInt64 = 2_549_297_995_355_413_924
    private static let multiplierLow: UInt64 = 4_865_540_595_714_422_341

    /// The generator `np.random.default_rng(seed)` holds (a non-negative integer seed).
    package init(seed: UInt64) {
        let words = SeedSequence(entropy: seed).generateState(words64: 4)
        let (seedHigh, seedLow) = (words[0], words[1])
        let (incHigh, incLow) = (words[2], words[3])
        // inc = (initseq << 1) | 1
        incrementHigh = (incHigh << 1) | (incLow >> 63)
        incrementLow = (incLow << 1) | 1
        (stateHigh, stateLow) = (0, 0)
        step()
        let (low, carry) = stateLow.addingReportingOverflow(seedLow)
        stateLow = low
        stateHigh = stateHigh &+ seedHigh &+ (carry ? 1 : 0)
        step()
    }

    /// `state ← state × multiplier + increment (mod 2¹²⁸)`.
    private mutating func step() {
        let (productHigh, productLow) = stateLow.multipliedFullWidth(by: Self.multiplierLow)
        let high = productHigh &+ stateLow &* Self.multiplierHigh &+ stateHigh &* Self.multiplierLow
        let (low, carry) = productLow.addingReportingOverflow(incrementLow)
        stateLow = low
        stateHigh = high &+ incrementHigh &+ (carry ? 1 : 0)
    }

    /// The next 64-bit output (XSL-RR: the halves of the new state xor-ed, rotated right
    /// by its top six bits).
    package mutating func next() -> UInt64 {
        step()
        let value = stateHigh ^ stateLow
        let rotation = stateHigh >> 58
        return (value >> rotation) | (value << ((64 - rotation) & 63))
    }

    /// A double uniform in [0, 1) from the top 53 bits of the next output.
    package mutating func nextDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `count` draws of `Generator.uniform(low, high, count)`: `low + (high - low) u`.
    package mutating func uniform(_ low: Double, _ high: Double, count: Int) -> [Double] {
        let range = high - low
        return (0..<count).map { _ in low + range * nextDouble() }
    }
}

/// NumPy's `SeedSequence` for an integer entropy and no spawn key: the entropy's 32-bit
/// words hashed into a pool of four words, from which any number of state words are drawn.
package struct SeedSequence {
    private static let initA: UInt32 = 0x43b0_d7e5, multA: UInt32 = 0x931e_8875
    private static let initB: UInt32 = 0x8b51_f9dd, multB: UInt32 = 0x58f3_8ded
    private static let mixMultL: UInt32 = 0xca01_f9dd, mixMultR: UInt32 = 0x4973_f715
    private static let poolSize = 4

    private var pool = [UInt32](repeating: 0, count: poolSize)

    package init(entropy: UInt64) {
        // The entropy as little-endian 32-bit words (zero is one word).
        var words: [UInt32] = [UInt32(truncatingIfNeeded: entropy)]
        if entropy >> 32 != 0 { words.append(UInt32(truncatingIfNeeded: entropy >> 32)) }
        var hashConstant = Self.initA
        func hashMix(_ value: UInt32) -> UInt32 {
            var v = value ^ hashConstant
            hashConstant = hashConstant &* Self.multA
            v = v &* hashConstant
            return v ^ (v >> 16)
        }
        func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
            let r = (Self.mixMultL &* x) &- (Self.mixMultR &* y)
            return r ^ (r >> 16)
        }
        for i in 0..<Self.poolSize { pool[i] = hashMix(i < words.count ? words[i] : 0) }
        for source in 0..<Self.poolSize {
            for destination in 0..<Self.poolSize where source != destination {
                pool[destination] = mix(pool[destination], hashMix(pool[source]))
            }
        }
        for source in Self.poolSize..<max(words.count, Self.poolSize) {
            for destination in 0..<Self.poolSize {
                pool[destination] = mix(pool[destination], hashMix(words[source]))
            }
        }
    }

    /// `generate_state(count, np.uint64)`: pairs of 32-bit words, low word first.
    package func generateState(words64 count: Int) -> [UInt64] {
        var hashConstant = Self.initB
        var words32 = [UInt32]()
        for i in 0..<(2 * count) {
            var value = pool[i % Self.poolSize] ^ hashConstant
            hashConstant = hashConstant &* Self.multB
            value = value &* hashConstant
            words32.append(value ^ (value >> 16))
        }
        return (0..<count).map { UInt64(words32[2 * $0]) | (UInt64(words32[2 * $0 + 1]) << 32) }
    }
}
