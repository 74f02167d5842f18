/// The confined pointer code of the batches (the pattern of swift-collections'
/// `Deque._UnsafeHandle`): a kernel reads a batch through an ``ComplexBatch/UnsafeHandle``
/// (`withUnsafeHandle`, read) and writes one through an ``ComplexBatch/UnsafeMutableHandle``
/// (`withUnsafeMutableHandle`, update), both planes in one closure; the few multi-batch
/// forms below (`withUnsafeMutableHandle(reading:)`, `withUnsafeHandles`,
/// `withUnsafeMutableHandles`) take a kernel's operands in one closure more, so that no
/// caller nests a closure per array. Workspaces a kernel reads or writes every step live in
/// ``UnsafeScratch`` at a fixed address instead.
extension ComplexBatch {
    /// A read-only view of a batch's two planes for one call into a kernel, valid only
    /// inside ``withUnsafeHandle(_:)``: one closure instead of one per plane.
    package struct UnsafeHandle {
        package let re: UnsafePointer<Double>?
        package let im: UnsafePointer<Double>?
        package let components: Int
        package let batchSize: Int
        /// Doubles in each plane.
        package var count: Int { components * batchSize }
    }

    /// A writable view of a batch's two planes, valid only inside ``withUnsafeMutableHandle(_:)``.
    package struct UnsafeMutableHandle {
        package let re: UnsafeMutablePointer<Double>?
        package let im: UnsafeMutablePointer<Double>?
        package let components: Int
        package let batchSize: Int
        /// Doubles in each plane.
        package var count: Int { components * batchSize }
    }

    /// Calls `body` with a read-only handle on both planes.
    @inline(__always)
    package func withUnsafeHandle<R>(_ body: (UnsafeHandle) throws -> R) rethrows -> R {
        try re.withUnsafeBufferPointer { re in
            try im.withUnsafeBufferPointer { im in
                try body(
                    UnsafeHandle(re: re.baseAddress, im: im.baseAddress, components: components, batchSize: batchSize))
            }
        }
    }

    /// Calls `body` with a writable handle on both planes (unique after copy-on-write).
    @inline(__always)
    package mutating func withUnsafeMutableHandle<R>(_ body: (UnsafeMutableHandle) throws -> R) rethrows -> R {
        let components = components, batchSize = batchSize
        return try re.withUnsafeMutableBufferPointer { re in
            try im.withUnsafeMutableBufferPointer { im in
                try body(
                    UnsafeMutableHandle(
                        re: re.baseAddress, im: im.baseAddress, components: components,
                        batchSize: batchSize))
            }
        }
    }
}

extension ComplexBatch {
    /// Calls `body` with a writable handle on `self` and a read-only one on `input`: the
    /// usual shape of a kernel (one output, one input) in one closure.
    @inline(__always)
    package mutating func withUnsafeMutableHandle<R>(
        reading input: ComplexBatch,
        _ body: (UnsafeMutableHandle, UnsafeHandle) throws -> R
    ) rethrows -> R {
        try input.withUnsafeHandle { input in try withUnsafeMutableHandle { try body($0, input) } }
    }

    /// Calls `body` with read-only handles on two batches.
    @inline(__always)
    package static func withUnsafeHandles<R>(
        _ a: ComplexBatch, _ b: ComplexBatch,
        _ body: (UnsafeHandle, UnsafeHandle) throws -> R
    ) rethrows -> R {
        try a.withUnsafeHandle { a in try b.withUnsafeHandle { b in try body(a, b) } }
    }

    /// Calls `body` with read-only handles on three batches.
    @inline(__always)
    package static func withUnsafeHandles<R>(
        _ a: ComplexBatch, _ b: ComplexBatch, _ c: ComplexBatch,
        _ body: (UnsafeHandle, UnsafeHandle, UnsafeHandle) throws -> R
    ) rethrows -> R {
        try a.withUnsafeHandle { a in try b.withUnsafeHandle { b in try c.withUnsafeHandle { c in try body(a, b, c) } }
        }
    }

    /// Calls `body` with writable handles on two distinct batches.
    @inline(__always)
    package static func withUnsafeMutableHandles<R>(
        _ a: inout ComplexBatch, _ b: inout ComplexBatch,
        _ body: (UnsafeMutableHandle, UnsafeMutableHandle) throws -> R
    ) rethrows -> R {
        try a.withUnsafeMutableHandle { a in try b.withUnsafeMutableHandle { b in try body(a, b) } }
    }

    /// Calls `body` with writable handles on three distinct batches.
    @inline(__always)
    package static func withUnsafeMutableHandles<R>(
        _ a: inout ComplexBatch, _ b: inout ComplexBatch, _ c: inout ComplexBatch,
        _ body: (UnsafeMutableHandle, UnsafeMutableHandle, UnsafeMutableHandle) throws -> R
    ) rethrows -> R {
        try withUnsafeMutableHandles(&a, &b) { a, b in try c.withUnsafeMutableHandle { c in try body(a, b, c) } }
    }

    /// Calls `body` with writable handles on four distinct batches.
    @inline(__always)
    package static func withUnsafeMutableHandles<R>(
        _ a: inout ComplexBatch, _ b: inout ComplexBatch, _ c: inout ComplexBatch, _ d: inout ComplexBatch,
        _ body: (UnsafeMutableHandle, UnsafeMutableHandle, UnsafeMutableHandle, UnsafeMutableHandle) throws -> R
    ) rethrows -> R {
        try withUnsafeMutableHandles(&a, &b) { a, b in
            try withUnsafeMutableHandles(&c, &d) { c, d in try body(a, b, c, d) }
        }
    }
}

extension Array where Element == Double {
    /// Overwrites the elements with those of `source` (of the same count), in place.
    @inline(__always)
    package mutating func update(from source: [Double]) {
        withUnsafeMutableBufferPointer { target in
            source.withUnsafeBufferPointer { _ = target.update(fromContentsOf: $0) }
        }
    }

    /// Sets every element to `value`, in place.
    @inline(__always)
    package mutating func update(repeating value: Double) {
        withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    }

    /// Calls `body` with the base addresses of two arrays, read-only.
    @inline(__always)
    package static func withUnsafeBaseAddresses<R>(
        _ a: [Double], _ b: [Double],
        _ body: (UnsafePointer<Double>?, UnsafePointer<Double>?) throws -> R
    ) rethrows -> R {
        try a.withUnsafeBufferPointer { a in
            try b.withUnsafeBufferPointer { b in try body(a.baseAddress, b.baseAddress) }
        }
    }
}

extension Array where Element == Int {
    /// Calls `body` with the elements as C's `int64_t` (Swift's `Int` is 64 bits wide on
    /// every platform the package builds for).
    @inline(__always)
    package func withUnsafeInt64Pointer<R>(_ body: (UnsafePointer<Int64>?) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: Int64.self) { try body($0.baseAddress) }
        }
    }

    @inline(__always)
    package mutating func withUnsafeMutableInt64Pointer<R>(_ body: (UnsafeMutablePointer<Int64>?) throws -> R) rethrows
        -> R
    {
        try withUnsafeMutableBufferPointer { buffer in
            try buffer.withMemoryRebound(to: Int64.self) { try body($0.baseAddress) }
        }
    }
}

/// Scratch memory at a fixed address for the life of its owner: the LAPACK workspaces,
/// which every call would otherwise reach through a closure per array.
package final class UnsafeScratch<Element> {
    package let buffer: UnsafeMutableBufferPointer<Element>

    package init(repeating value: Element, count: Int) {
        buffer = .allocate(capacity: max(count, 1))
        buffer.initialize(repeating: value)
    }

    /// A fixed copy of `elements` (a constant table a kernel reads every step).
    package convenience init(copying elements: [Element]) where Element: Numeric {
        self.init(repeating: 0, count: elements.count)
        _ = buffer.update(fromContentsOf: elements)
    }

    package var pointer: UnsafeMutablePointer<Element> { buffer.baseAddress! }
    /// Elements (at least one: an empty scratch still has an address to hand to C).
    package var count: Int { buffer.count }

    @inline(__always)
    package subscript(i: Int) -> Element {
        get { buffer[i] }
        set { buffer[i] = newValue }
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }
}

/// Scratch that a kernel sizes on first use and keeps for the life of its owner.
///
/// The owner's copies share it. Large buffers allocated afresh at every call would have their
/// pages faulted in and cleared at every call. Its elements are uninitialized: the kernel
/// writes each one before reading it.
package final class ReusableScratch {
    private var buffer = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)

    package init() {}

    /// At least `count` doubles, the same ones as the last call's when it asked for no more.
    package func pointer(count: Int) -> UnsafeMutablePointer<Double> {
        if buffer.count < count || buffer.baseAddress == nil {
            buffer.deallocate()
            buffer = .allocate(capacity: max(count, 1))
        }
        return buffer.baseAddress!
    }

    deinit { buffer.deallocate() }
}
