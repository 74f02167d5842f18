extension ComplexBatch {
    /// A read-only view of a batch's two planes for one call into a kernel, valid only
    /// inside ``withUnsafeHandle(_:)`` (the pattern of swift-collections'
    /// `Deque._UnsafeHandle`): one closure instead of one per plane.
    struct UnsafeHandle {
        let re: UnsafePointer<Double>?
        let im: UnsafePointer<Double>?
        let components: Int
        let batchSize: Int
    }

    /// A writable view of a batch's two planes, valid only inside ``withUnsafeMutableHandle(_:)``.
    struct UnsafeMutableHandle {
        let re: UnsafeMutablePointer<Double>?
        let im: UnsafeMutablePointer<Double>?
        let components: Int
        let batchSize: Int
    }

    /// Calls `body` with a read-only handle on both planes.
    @inline(__always)
    func withUnsafeHandle<R>(_ body: (UnsafeHandle) throws -> R) rethrows -> R {
        try re.withUnsafeBufferPointer { re in
            try im.withUnsafeBufferPointer { im in
                try body(UnsafeHandle(re: re.baseAddress, im: im.baseAddress, components: components, batchSize: batchSize))
            }
        }
    }

    /// Calls `body` with a writable handle on both planes (unique after copy-on-write).
    @inline(__always)
    mutating func withUnsafeMutableHandle<R>(_ body: (UnsafeMutableHandle) throws -> R) rethrows -> R {
        let components = components, batchSize = batchSize
        return try re.withUnsafeMutableBufferPointer { re in
            try im.withUnsafeMutableBufferPointer { im in
                try body(UnsafeMutableHandle(re: re.baseAddress, im: im.baseAddress, components: components,
                                             batchSize: batchSize))
            }
        }
    }
}

extension Array where Element == Int {
    /// Calls `body` with the elements as C's `int64_t` (Swift's `Int` is 64 bits wide on
    /// every platform the package builds for).
    @inline(__always)
    func withUnsafeInt64Pointer<R>(_ body: (UnsafePointer<Int64>?) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { buffer in try buffer.withMemoryRebound(to: Int64.self) { try body($0.baseAddress) } }
    }

    @inline(__always)
    mutating func withUnsafeMutableInt64Pointer<R>(_ body: (UnsafeMutablePointer<Int64>?) throws -> R) rethrows -> R {
        try withUnsafeMutableBufferPointer { buffer in
            try buffer.withMemoryRebound(to: Int64.self) { try body($0.baseAddress) }
        }
    }
}

/// Scratch memory at a fixed address for the life of its owner: the LAPACK workspaces,
/// which every call would otherwise reach through a closure per array.
final class UnsafeScratch<Element> {
    let buffer: UnsafeMutableBufferPointer<Element>

    init(repeating value: Element, count: Int) {
        buffer = .allocate(capacity: max(count, 1))
        buffer.initialize(repeating: value)
    }

    var pointer: UnsafeMutablePointer<Element> { buffer.baseAddress! }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }
}
