import QCLabCore
import QCLabSystem
/// A compact, exact binary form of ``SimulationData``, for pipes between forked workers,
/// MPI messages and checkpoints.
///
/// Layout (all integers little-endian, so a round trip is exact to the bit):
///
/// ```
/// magic "QCLD" | version UInt16 | seeds: count UInt64, Int64 each
/// | normFactor Int64 | sampleCount Int64
/// | job: flag UInt8, then (if 1) UInt64 length, UTF-8 | errorBarsUnavailable: the same
/// | observables: count UInt64, each: name (UInt64 length, UTF-8), shape (UInt64 rank,
///   Int64 each), isComplex UInt8, exact sums (UInt64 count, Int64 each)
/// | log (UInt64 length, UTF-8)
/// | eigensolver counts, only when it solved any: solves Int64, redone by LAPACK Int64
/// ```
///
/// Version 3, written only for data that is not exact (``SimulationData/notExact``), adds
/// the note (flag UInt8, then the string) after `errorBarsUnavailable`, and marks an
/// output held as rounded moments with type flag 2 (real) or 3 (complex), followed by its
/// means (UInt64 count, Float64 each) and standard errors (flag UInt8, then the same) in
/// place of the exact sums. Exact data keeps version 2, bit for bit.
///
/// Version 4 (``encodedBytes(compactSums:)``, for checkpoints) is version 2 with each
/// exact sum as a zigzag LEB128 varint in place of 8 bytes: limbs hold a few 32-bit
/// slices' worth (5 or 6 bytes), top-bin indices and empty limbs one byte. The sums are
/// kept as they are, uncarried: folding carries between limbs would change which bits a
/// later rise of the window drops, and so the bits of a resumed run.
///
/// Version 5 (what ``encodedBytes(compactSums:)`` writes now) is version 4 with the sums of
/// each complex output whose last two axes are square (`dm_db`) stored as
/// ``ExactSumsEncoding``'s `hermitian_residual` gives them: a Hermitian output's upper
/// triangle, the mirror of its lower one, as zeros of one byte each. Version 4 is still read.
///
/// Decoding checks every length against the bytes left before allocating, so truncated
/// or corrupted input fails with a ``DataDecodingError`` instead of crashing.
extension SimulationData {
    /// The magic bytes every encoding starts with: `QCLD`.
    package static let binaryMagic: [UInt8] = Array("QCLD".utf8)
    /// The version of the layout written by ``encodedBytes()`` (2: exact sums).
    package static let binaryVersion: UInt16 = 2
    /// The version written for data that is not exact (rounded moments).
    static let roundedBinaryVersion: UInt16 = 3
    /// The version written with compact exact sums (varints) before version 5.
    static let compactBinaryVersion: UInt16 = 4
    /// The version written with compact exact sums: varints, a Hermitian output's upper
    /// triangle as its difference from the mirrored lower one.
    static let mirroredCompactBinaryVersion: UInt16 = 5
    /// How version 5 stores the exact sums before writing them as varints.
    private static let mirroredSums = ExactSumsEncoding(steps: [.hermitianResidual])

    /// Encodes this data in the compact binary form (see the extension's documentation).
    package func encodedBytes() -> [UInt8] { encodedBytes(compactSums: false) }

    /// ``encodedBytes()``, with exact sums as varints, a Hermitian output's upper triangle
    /// as zeros (version 5), when `compactSums` and the data is exact.
    ///
    /// - Parameter mirrored: false writes version 4 (varints alone), as the previous release
    ///   did, for tests of what it wrote.
    package func encodedBytes(compactSums: Bool, mirrored: Bool = true) -> [UInt8] {
        var writer = BinaryWriter()
        var capacity = 64 + 8 * seeds.count + log.utf8.count + (job?.utf8.count ?? 0)
        for observable in observables { capacity += 64 + observable.name.utf8.count + 8 * observable.exactSums.count }
        writer.bytes.reserveCapacity(capacity)
        writer.bytes += SimulationData.binaryMagic
        let rounded = notExact != nil || !isExact, compact = compactSums && !rounded
        writer.uint16(
            rounded
                ? SimulationData.roundedBinaryVersion
                : !compact
                    ? SimulationData.binaryVersion
                    : mirrored ? SimulationData.mirroredCompactBinaryVersion : SimulationData.compactBinaryVersion)
        writer.count(seeds.count)
        for seed in seeds { writer.int64(seed) }
        writer.int64(normFactor)
        writer.int64(sampleCount)
        writer.optionalString(job)
        writer.optionalString(errorBarsUnavailable)
        if rounded { writer.optionalString(notExact) }
        writer.count(observables.count)
        for observable in observables {
            writer.string(observable.name)
            writer.count(observable.shape.count)
            for extent in observable.shape { writer.int64(extent) }
            writer.bytes.append((observable.isComplex ? 1 : 0) | (observable.rounded != nil ? 2 : 0))
            if let moments = observable.rounded {
                writer.doubles(moments.mean)
                writer.bytes.append(moments.sem == nil ? 0 : 1)
                if let sem = moments.sem { writer.doubles(sem) }
                continue
            }
            writer.count(observable.exactSums.count)
            if compact {
                let stored =
                    mirrored
                    ? Self.mirroredSums.encode(
                        observable.exactSums, shape: observable.shape, isComplex: observable.isComplex)
                    : observable.exactSums
                for value in stored { writer.zigzagVarint(value) }
            } else {
                for value in observable.exactSums { writer.uint64(UInt64(bitPattern: value)) }
            }
        }
        writer.string(log)
        if eigensolverCounts.solves > 0 {
            writer.int64(eigensolverCounts.solves)
            writer.int64(eigensolverCounts.redoneByLAPACK)
        }
        return writer.bytes
    }

    /// Decodes data written by ``encodedBytes()``; throws a ``DataDecodingError`` that
    /// says what was being read when the input is truncated, corrupted or of another version.
    package init(encodedBytes bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes: bytes)
        let magic = try reader.take(4, "magic")
        guard Array(magic) == SimulationData.binaryMagic else {
            throw DataDecodingError("not QCLab binary data (bad magic bytes)", offset: 0)
        }
        let version = try reader.uint16("version")
        let known = [
            SimulationData.binaryVersion, SimulationData.roundedBinaryVersion, SimulationData.compactBinaryVersion,
            SimulationData.mirroredCompactBinaryVersion,
        ]
        guard known.contains(version) else {
            throw DataDecodingError(
                "unsupported version \(version) (this build reads version \(SimulationData.binaryVersion))", offset: 4)
        }
        let seedCount = try reader.count("seed count", elementSize: 8)
        var seeds: [Int] = []
        seeds.reserveCapacity(seedCount)
        for _ in 0..<seedCount { seeds.append(try reader.int64("seed")) }
        let normFactor = try reader.int64("norm_factor")
        let sampleCount = try reader.int64("sample count")
        guard normFactor >= 0, sampleCount >= 0, sampleCount <= normFactor else {
            throw DataDecodingError(
                "bad counts: norm_factor \(normFactor), samples \(sampleCount)", offset: reader.offset)
        }
        let job = try reader.optionalString("job")
        let errorBarsUnavailable = try reader.optionalString("error-bar note")
        let notExact = version == SimulationData.roundedBinaryVersion ? try reader.optionalString("inexact note") : nil
        let observableCount = try reader.count("observable count", elementSize: 1)
        var observables: [OutputAccumulator] = []
        for _ in 0..<observableCount {
            let name = try reader.string("observable name")
            let rank = try reader.count("shape of '\(name)'", elementSize: 8)
            var shape: [Int] = []
            for _ in 0..<rank {
                let extent = try reader.int64("shape of '\(name)'")
                guard extent >= 0, extent <= Int(Int32.max) else {
                    throw DataDecodingError("'\(name)' has a bad extent \(extent)", offset: reader.offset - 8)
                }
                shape.append(extent)
            }
            let flag = try reader.take(1, "type of '\(name)'").first!
            guard flag <= (version == SimulationData.roundedBinaryVersion ? 3 : 1) else {
                throw DataDecodingError("'\(name)' has a bad type flag \(flag)", offset: reader.offset - 1)
            }
            if flag >= 2 {
                let mean = try reader.doubles("means of '\(name)'")
                let hasSem = try reader.take(1, "presence of standard errors of '\(name)'").first!
                guard hasSem <= 1 else {
                    throw DataDecodingError(
                        "bad presence flag \(hasSem) of standard errors of '\(name)'", offset: reader.offset - 1)
                }
                let sem = hasSem == 1 ? try reader.doubles("standard errors of '\(name)'") : nil
                do {
                    observables.append(
                        try OutputAccumulator(
                            name: name, shape: shape, isComplex: flag == 3, means: mean, standardErrors: sem))
                } catch {
                    throw DataDecodingError("\(error)", offset: reader.offset)
                }
                continue
            }
            let mirrored = version == SimulationData.mirroredCompactBinaryVersion
            let compact = mirrored || version == SimulationData.compactBinaryVersion
            let count = try reader.count("length of the sums of '\(name)'", elementSize: compact ? 1 : 8)
            // The count the shape needs; -1 (matching nothing) when it overflows.
            let expected = shape.reduce(
                flag == 1 ? 2 * OutputAccumulator.exactValuesPerElement : OutputAccumulator.exactValuesPerElement
            ) { total, extent in
                let (product, overflow) = total.multipliedReportingOverflow(by: extent)
                return total < 0 || overflow ? -1 : product
            }
            guard count == expected else {
                throw DataDecodingError(
                    "'\(name)' holds \(count) sums, but its shape \(shape) needs \(expected)", offset: reader.offset)
            }
            var sums = [Int64](repeating: 0, count: count)
            if compact {
                for i in 0..<count { sums[i] = try reader.zigzagVarint("sums of '\(name)'") }
            } else {
                for i in 0..<count { sums[i] = Int64(bitPattern: try reader.uint64("sums of '\(name)'")) }
            }
            if mirrored {
                sums = Self.mirroredSums.decode(sums, shape: shape, isComplex: flag == 1)
            }
            do {
                observables.append(
                    try OutputAccumulator(name: name, shape: shape, isComplex: flag == 1, exactSums: sums))
            } catch {
                throw DataDecodingError("\(error)", offset: reader.offset)
            }
        }
        let log = try reader.string("log")
        var counts = EigensolverCounts()
        if reader.offset < bytes.count {
            counts.solves = try reader.int64("eigensolver solves")
            counts.redoneByLAPACK = try reader.int64("eigensolver solves redone by LAPACK")
            guard counts.solves > 0, (0...counts.solves).contains(counts.redoneByLAPACK) else {
                throw DataDecodingError(
                    "bad eigensolver counts: \(counts.redoneByLAPACK) of \(counts.solves) redone",
                    offset: reader.offset)
            }
        }
        guard reader.offset == bytes.count else {
            throw DataDecodingError(
                "\(bytes.count - reader.offset) unexpected bytes after the end", offset: reader.offset)
        }
        self.init(
            seeds: seeds, normFactor: normFactor, sampleCount: sampleCount, observables: observables, log: log,
            job: job, errorBarsUnavailable: errorBarsUnavailable, notExact: notExact)
        eigensolverCounts = counts
    }
}

/// Why ``SimulationData/init(encodedBytes:)`` refused its input.
package struct DataDecodingError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What was wrong, such as `truncated while reading sum of 'dm_db' (needs 1600 bytes, 12 left)`.
    package let reason: String
    /// The byte offset where decoding stopped.
    package let offset: Int

    package init(_ reason: String, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    package var description: String { "binary data: \(reason) at byte \(offset)" }
}

/// Appends little-endian values to a byte array.
package struct BinaryWriter {
    package var bytes: [UInt8] = []

    package init() {}

    package mutating func uint16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    package mutating func uint64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    package mutating func int64(_ value: Int) { uint64(UInt64(bitPattern: Int64(value))) }

    package mutating func count(_ value: Int) { uint64(UInt64(value)) }

    /// A length, then `value`.
    package mutating func lengthPrefixed(_ value: [UInt8]) {
        count(value.count)
        bytes += value
    }

    package mutating func string(_ value: String) {
        let utf8 = Array(value.utf8)
        count(utf8.count)
        bytes += utf8
    }

    package mutating func optionalString(_ value: String?) {
        bytes.append(value == nil ? 0 : 1)
        if let value { string(value) }
    }

    /// A signed integer as a zigzag LEB128 varint: 7 bits a byte, small magnitudes first.
    mutating func zigzagVarint(_ value: Int64) {
        var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    package mutating func doubles(_ values: [Double]) {
        count(values.count)
        for value in values { uint64(value.bitPattern) }
    }
}

/// Reads little-endian values from a byte array, checking every length first.
package struct BinaryReader {
    package let bytes: [UInt8]
    package private(set) var offset = 0

    package init(bytes: [UInt8]) { self.bytes = bytes }

    package mutating func take(_ n: Int, _ what: String) throws -> ArraySlice<UInt8> {
        guard n <= bytes.count - offset else {
            throw DataDecodingError(
                "truncated while reading \(what) (needs \(n) bytes, \(bytes.count - offset) left)", offset: offset)
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    package mutating func uint16(_ what: String) throws -> UInt16 {
        let b = try take(2, what)
        return UInt16(b[b.startIndex]) | UInt16(b[b.startIndex + 1]) << 8
    }

    package mutating func uint64(_ what: String) throws -> UInt64 {
        let b = try take(8, what)
        var value: UInt64 = 0
        for (i, byte) in b.enumerated() { value |= UInt64(byte) << UInt64(8 * i) }
        return value
    }

    package mutating func int64(_ what: String) throws -> Int { Int(Int64(bitPattern: try uint64(what))) }

    /// A count of elements of `elementSize` bytes each, which must fit in the bytes left.
    package mutating func count(_ what: String, elementSize: Int) throws -> Int {
        let start = offset
        let raw = try uint64(what)
        guard raw <= UInt64(bytes.count - offset) / UInt64(elementSize) else {
            throw DataDecodingError(
                "truncated or corrupted: \(what) is \(raw), but only \(bytes.count - offset) bytes are left",
                offset: start)
        }
        return Int(raw)
    }

    /// A length, then that many bytes (written by ``BinaryWriter/lengthPrefixed(_:)``).
    package mutating func lengthPrefixed(_ what: String) throws -> [UInt8] {
        Array(try take(try count("length of \(what)", elementSize: 1), what))
    }

    package mutating func string(_ what: String) throws -> String {
        let n = try count("length of \(what)", elementSize: 1)
        let start = offset
        let utf8 = try take(n, what)
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw DataDecodingError("\(what) is not valid UTF-8", offset: start)
        }
        return text
    }

    package mutating func optionalString(_ what: String) throws -> String? {
        let flag = try take(1, "presence of \(what)").first!
        guard flag <= 1 else { throw DataDecodingError("bad presence flag \(flag) of \(what)", offset: offset - 1) }
        return flag == 1 ? try string(what) : nil
    }

    /// A zigzag LEB128 varint (``BinaryWriter/zigzagVarint(_:)``); throws on more than 10
    /// bytes or bits beyond 64.
    mutating func zigzagVarint(_ what: String) throws -> Int64 {
        let start = offset
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard offset < bytes.count else {
                throw DataDecodingError("truncated while reading \(what) (a varint)", offset: start)
            }
            let byte = bytes[offset]
            offset += 1
            guard shift < 63 || byte <= 1 else {
                throw DataDecodingError("\(what): a varint beyond 64 bits", offset: start)
            }
            value |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte < 0x80 {
                guard byte != 0 || shift == 0 else {
                    throw DataDecodingError("\(what): a varint with a needless zero byte", offset: start)
                }
                return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
            }
        }
        throw DataDecodingError("\(what): a varint longer than 10 bytes", offset: start)
    }

    package mutating func doubles(_ what: String) throws -> [Double] {
        let n = try count("length of \(what)", elementSize: 8)
        var values = [Double](repeating: 0, count: n)
        for i in 0..<n { values[i] = Double(bitPattern: try uint64(what)) }
        return values
    }
}
