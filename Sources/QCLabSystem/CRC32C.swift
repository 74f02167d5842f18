import QCLabCore
import CQCLabKernels

/// CRC-32C (Castagnoli), the checksum of an output file's datasets and attributes and
/// the seal of a checkpoint: any change of up to 32 bits in a row, and almost any other,
/// changes it.
///
/// For output files it was chosen over HDF5's Fletcher-32 filter because it covers what that filter cannot: scalar
/// datasets and attributes (which HDF5 stores unchunked), and the values as read, so that
/// damage to a dataset's type or shape shows as well as damage to its bytes.
package struct CRC32C {
    package private(set) var value: UInt32 = 0xFFFF_FFFF

    package init() {}

    /// The checksum of everything added so far.
    package var digest: UInt32 { ~value }

    /// Test-only: the byte-wise table even where the processor has a CRC-32C instruction.
    package nonisolated(unsafe) static var forcesPortable = false

    package mutating func add(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        value = qclab_crc32c_update(value, base, bytes.count, Self.forcesPortable ? 1 : 0)
    }

    /// The checksum of `bytes` (a whole checkpoint, say).
    package static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc = CRC32C()
        bytes.withContiguousStorageIfAvailable { crc.add(UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { crc.add($0) }
        return crc.digest
    }

    /// Adds each value's bytes, little-endian.
    package mutating func add<T: FixedWidthInteger>(littleEndian values: [T]) {
        if 1.littleEndian == 1 {
            values.withUnsafeBytes { add($0) }
        } else {
            values.map(\.littleEndian).withUnsafeBytes { add($0) }
        }
    }

    /// Adds each value's bit pattern, little-endian.
    package mutating func add(littleEndian values: [Double]) {
        if 1.littleEndian == 1 {
            values.withUnsafeBytes { add($0) }
        } else {
            add(littleEndian: values.map(\.bitPattern))
        }
    }
}
