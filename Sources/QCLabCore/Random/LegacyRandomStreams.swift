import CQCLabKernels

/// Many MT19937 generators seeded as NumPy's `np.random.seed(int)` seeds them, drawn in lockstep.
///
/// Every call takes the next output of every stream, in one vectorized C loop over the streams (the
/// keys are interleaved, word `w` of stream `s` at `w * count + s`). Used for the hop draws of a
/// surface-hopping batch (one stream per initial condition) and, with a single stream,
/// ``LegacyRandomState``.
public struct LegacyRandomStreams: Sendable {
    private var keys: [UInt32]
    /// The index of every stream's next unused key word.
    private var position: Int64 = 624
    /// The number of streams.
    public let count: Int

    /// One stream per seed, each in the state `np.random.seed(seed)` leaves (seeds in 0 ..< 2^32).
    public init(seeds: [Int]) {
        precondition(seeds.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "seeds must be in 0...2^32-1")
        count = seeds.count
        keys = [UInt32](repeating: 0, count: 624 * seeds.count)
        let values = seeds.map { UInt32($0) }
        keys.withUnsafeMutableBufferPointer { keys in
            values.withUnsafeBufferPointer {
                qclab_mt19937_seed(Int64(values.count), keys.baseAddress, $0.baseAddress)
            }
        }
    }

    /// `out[s]` = the next tempered 32-bit output of stream `s`, for every stream.
    public mutating func nextUInt32s(into out: UnsafeMutableBufferPointer<UInt32>) {
        precondition(out.count == count)
        let count = count
        keys.withUnsafeMutableBufferPointer {
            qclab_mt19937_next(Int64(count), $0.baseAddress, &position, out.baseAddress)
        }
    }

    /// `out[s]` = the next `np.random.rand()` of stream `s`, for every stream.
    public mutating func nextDoubles(into out: UnsafeMutableBufferPointer<Double>) {
        precondition(out.count == count)
        let count = count
        keys.withUnsafeMutableBufferPointer {
            qclab_mt19937_uniform(Int64(count), $0.baseAddress, &position, out.baseAddress)
        }
    }

    /// `out[s]` = the next `np.random.rand()` of stream `s`, for every stream (`out` holds ``count`` values).
    public mutating func nextDoubles(into out: inout [Double]) {
        out.withUnsafeMutableBufferPointer { nextDoubles(into: $0) }
    }

    /// Skips `draws` doubles of every stream.
    public mutating func skipDoubles(_ draws: Int) {
        var scratch = [Double](repeating: 0, count: count)
        scratch.withUnsafeMutableBufferPointer { scratch in
            for _ in 0..<draws { nextDoubles(into: scratch) }
        }
    }
}
