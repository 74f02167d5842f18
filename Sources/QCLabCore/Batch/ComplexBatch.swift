import Numerics

/// Complex numbers of a batch of trajectories in struct-of-arrays layout.
///
/// Component `c` of trajectory `t` lives at `c * batchSize + t` of `re` and `im`, so a
/// loop over the trajectories of one component runs over contiguous memory and
/// vectorizes. Classical coordinates (`components` = number of coordinates), wavefunctions
/// (number of states) and matrices (states squared, element `(a, b)` at component
/// `a * n + b`) all use it.
public struct ComplexBatch: Sendable, Equatable {
    /// Real parts.
    public var re: [Double]
    /// Imaginary parts.
    public var im: [Double]
    /// Trajectories in the batch.
    public let batchSize: Int
    /// Complex components per trajectory.
    public let components: Int

    /// A batch of zeros.
    public init(components: Int, batchSize: Int) {
        self.components = components
        self.batchSize = batchSize
        re = [Double](repeating: 0, count: components * batchSize)
        im = re
    }

    /// A batch whose every trajectory holds `values` (`components = values.count`).
    public init(repeating values: [Complex<Double>], batchSize: Int) {
        self.init(components: values.count, batchSize: batchSize)
        fill(repeating: values)
    }

    /// Sets every trajectory to `values`, component by component.
    public mutating func fill(repeating values: [Complex<Double>]) {
        precondition(values.count == components)
        let batch = batchSize
        // One plane at a time through its buffer, each component a contiguous run (as fast
        // as a memset: a 50-state Hamiltonian of 25 trajectories is refilled every step).
        re.withUnsafeMutableBufferPointer { plane in
            for (c, value) in values.enumerated() {
                plane[c * batch..<(c + 1) * batch].update(repeating: value.rawStorage.x)
            }
        }
        im.withUnsafeMutableBufferPointer { plane in
            for (c, value) in values.enumerated() {
                plane[c * batch..<(c + 1) * batch].update(repeating: value.rawStorage.y)
            }
        }
    }

    /// Component `c` of trajectory `t`.
    ///
    /// Stores and loads the parts as they are (`rawStorage`): `real` and `imaginary` would
    /// turn a value with an infinite or NaN part into NaN in both.
    @inlinable public subscript(c: Int, t: Int) -> Complex<Double> {
        get { Complex(re[c * batchSize + t], im[c * batchSize + t]) }
        set {
            re[c * batchSize + t] = newValue.rawStorage.x
            im[c * batchSize + t] = newValue.rawStorage.y
        }
    }

    /// All components of trajectory `t`.
    public func trajectory(_ t: Int) -> [Complex<Double>] {
        precondition(t >= 0 && t < batchSize, "trajectory \(t) outside the batch")
        // Through pointers: one check here instead of two per component.
        return re.withUnsafeBufferPointer { re in
            im.withUnsafeBufferPointer { im in
                [Complex<Double>](unsafeUninitializedCapacity: components) { out, initialized in
                    for c in 0..<components {
                        out.initializeElement(at: c, to: Complex(re[c * batchSize + t], im[c * batchSize + t]))
                    }
                    initialized = components
                }
            }
        }
    }

    /// Overwrites the components of trajectory `t`.
    public mutating func setTrajectory(_ t: Int, _ values: [Complex<Double>]) {
        precondition(values.count == components && t >= 0 && t < batchSize)
        let (components, batchSize) = (components, batchSize)
        values.withUnsafeBufferPointer { values in
            withUnsafeMutableHandle { batch in
                for c in 0..<components {
                    batch.re![c * batchSize + t] = values[c].rawStorage.x
                    batch.im![c * batchSize + t] = values[c].rawStorage.y
                }
            }
        }
    }

    /// Copies `other` into this batch without reallocating.
    @inlinable public mutating func assign(_ other: ComplexBatch) {
        precondition(other.re.count == re.count)
        re.withUnsafeMutableBufferPointer { dst in
            other.re.withUnsafeBufferPointer { src in _ = dst.update(fromContentsOf: src) }
        }
        im.withUnsafeMutableBufferPointer { dst in
            other.im.withUnsafeBufferPointer { src in _ = dst.update(fromContentsOf: src) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
