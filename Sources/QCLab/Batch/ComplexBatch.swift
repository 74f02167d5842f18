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
    public init(repeating values: [Complex], batchSize: Int) {
        self.init(components: values.count, batchSize: batchSize)
        fill(repeating: values)
    }

    /// Sets every trajectory to `values`, component by component.
    public mutating func fill(repeating values: [Complex]) {
        precondition(values.count == components)
        let batch = batchSize
        // One plane at a time through its buffer, each component a contiguous run (as fast
        // as a memset: a 50-state Hamiltonian of 25 trajectories is refilled every step).
        re.withUnsafeMutableBufferPointer { plane in
            for (c, value) in values.enumerated() { plane[c * batch..<(c + 1) * batch].update(repeating: value.re) }
        }
        im.withUnsafeMutableBufferPointer { plane in
            for (c, value) in values.enumerated() { plane[c * batch..<(c + 1) * batch].update(repeating: value.im) }
        }
    }

    /// Component `c` of trajectory `t`.
    @inlinable public subscript(c: Int, t: Int) -> Complex {
        get { Complex(re[c * batchSize + t], im[c * batchSize + t]) }
        set {
            re[c * batchSize + t] = newValue.re
            im[c * batchSize + t] = newValue.im
        }
    }

    /// All components of trajectory `t`.
    public func trajectory(_ t: Int) -> [Complex] {
        precondition(t >= 0 && t < batchSize, "trajectory \(t) outside the batch")
        // Through pointers: one check here instead of two per component.
        return re.withUnsafeBufferPointer { re in im.withUnsafeBufferPointer { im in
            [Complex](unsafeUninitializedCapacity: components) { out, initialized in
                for c in 0..<components { out.initializeElement(at: c, to: Complex(re[c * batchSize + t], im[c * batchSize + t])) }
                initialized = components
            }
        }}
    }

    /// Overwrites the components of trajectory `t`.
    public mutating func setTrajectory(_ t: Int, _ values: [Complex]) {
        precondition(values.count == components && t >= 0 && t < batchSize)
        let (components, batchSize) = (components, batchSize)
        values.withUnsafeBufferPointer { values in withUnsafeMutableHandle { batch in
            for c in 0..<components {
                batch.re![c * batchSize + t] = values[c].re
                batch.im![c * batchSize + t] = values[c].im
            }
        }}
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

/// A complex number, for the per-trajectory code paths (hops, gauge fixing); the batch
/// kernels work on real and imaginary arrays directly.
public struct Complex: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var re: Double
    public var im: Double

    @inlinable public init(_ re: Double, _ im: Double = 0) {
        self.re = re
        self.im = im
    }

    public static let zero = Complex(0, 0)
    public static let i = Complex(0, 1)

    @inlinable public var conjugate: Complex { Complex(re, -im) }
    @inlinable public var lengthSquared: Double { re * re + im * im }
    @inlinable public var length: Double { (re * re + im * im).squareRoot() }
    /// The argument, as NumPy's `np.angle` (atan2(im, re)).
    @inlinable public var phase: Double { atan2(im, re) }

    @inlinable public static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
    @inlinable public static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
    @inlinable public static prefix func - (a: Complex) -> Complex { Complex(-a.re, -a.im) }
    @inlinable public static func * (a: Complex, b: Complex) -> Complex {
        Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re)
    }
    @inlinable public static func * (a: Double, b: Complex) -> Complex { Complex(a * b.re, a * b.im) }
    @inlinable public static func / (a: Complex, b: Double) -> Complex { Complex(a.re / b, a.im / b) }
    /// Complex division as NumPy does it (Smith's algorithm), so that results match.
    @inlinable public static func / (a: Complex, b: Complex) -> Complex {
        let absBr = abs(b.re), absBi = abs(b.im)
        if absBr >= absBi {
            if absBr == 0 && absBi == 0 { return Complex(a.re / absBr, a.im / absBi) }
            let rat = b.im / b.re, scl = 1.0 / (b.re + b.im * rat)
            return Complex((a.re + a.im * rat) * scl, (a.im - a.re * rat) * scl)
        } else {
            let rat = b.re / b.im, scl = 1.0 / (b.im + b.re * rat)
            return Complex((a.re * rat + a.im) * scl, (a.im * rat - a.re) * scl)
        }
    }
    @inlinable public static func += (a: inout Complex, b: Complex) { a = a + b }
    /// `exp(i * angle)`.
    @inlinable public static func unit(phase angle: Double) -> Complex { Complex(cos(angle), sin(angle)) }

    public var description: String { "(\(re)\(im < 0 ? "-" : "+")\(abs(im))j)" }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
