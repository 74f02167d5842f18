/// CRC-32C (Castagnoli), the checksum of an output file's datasets and attributes and
/// the seal of a checkpoint: any change of up to 32 bits in a row, and almost any other,
/// changes it.
///
/// For output files it was chosen over HDF5's Fletcher-32 filter because it covers what that filter cannot: scalar
/// datasets and attributes (which HDF5 stores unchunked), and the values as read, so that
/// damage to a dataset's type or shape shows as well as damage to its bytes.
struct CRC32C {
    private(set) var value: UInt32 = 0xFFFF_FFFF

    /// The checksum of everything added so far.
    var digest: UInt32 { ~value }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var crc = value
        for byte in bytes {
            crc = Self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        value = crc
    }

    /// The checksum of `bytes` (a whole checkpoint, say).
    static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc = CRC32C()
        bytes.withContiguousStorageIfAvailable { crc.add(UnsafeRawBufferPointer($0)) } ?? Array(bytes).withUnsafeBytes { crc.add($0) }
        return crc.digest
    }

    /// Adds each value's bytes, little-endian.
    mutating func add<T: FixedWidthInteger>(littleEndian values: [T]) {
        if 1.littleEndian == 1 {
            values.withUnsafeBytes { add($0) }
        } else {
            values.map(\.littleEndian).withUnsafeBytes { add($0) }
        }
    }

    /// Adds each value's bit pattern, little-endian.
    mutating func add(littleEndian values: [Double]) {
        if 1.littleEndian == 1 { values.withUnsafeBytes { add($0) } } else { add(littleEndian: values.map(\.bitPattern)) }
    }

    private static let table: [UInt32] = (0 ..< 256).map { index in
        var crc = UInt32(index)
        for _ in 0 ..< 8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }
}
