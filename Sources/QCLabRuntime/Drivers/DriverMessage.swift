import QCLabCore
import QCLabSystem
import QCLabIO

/// A message between the processes of a parallel driver, with one codec for both drivers.
///
/// The processes are forked workers and their parent, or MPI ranks and rank 0.
///
/// Layout: a kind byte, the batch index as a little-endian Int64, then the payload. On a
/// byte stream (a worker's socket) each message is framed by its length, a little-endian
/// UInt64 (``framed``, ``takeFrame(from:)``); MPI messages carry their own length.
///
/// The payloads: `done`, nothing, or the batch's result (``SimulationData/encodedBytes()``)
/// when the parent keeps every batch's result (a checkpointed run); `failure`, the batch's
/// ``BatchFailure``; `result`, a worker's fold of its batches (batch -1); `progress`, the
/// trajectories of the running batch that count as done (Int64); `assign`, one byte, 1 if
/// the worker reports progress; `stop`, nothing (batch 1: drop the batches not started,
/// 0: run them first and, for a forked worker, send its fold); `end`, nothing.
package struct DriverMessage: Equatable, Sendable {
    package enum Kind: UInt8, Sendable { case done, failure, result, progress, end, assign, stop }

    /// A message of a kind this build does not know.
    package struct UnknownKind: Error { package let rawValue: UInt8 }

    package var kind: Kind
    package var batch: Int
    package var payload: [UInt8]

    package init(_ kind: Kind, batch: Int, payload: [UInt8] = []) {
        self.kind = kind
        self.batch = batch
        self.payload = payload
    }

    /// Batch `batch` is done; `result` goes along when the receiver keeps each batch's result.
    package static func done(_ batch: Int, result: SimulationData? = nil) -> DriverMessage {
        DriverMessage(.done, batch: batch, payload: result?.encodedBytes() ?? [])
    }

    /// Batch `batch` threw `error`.
    package static func failure(_ batch: Int, _ error: Error) -> DriverMessage {
        DriverMessage(.failure, batch: batch, payload: BatchFailure(error).encodedBytes())
    }

    /// `trajectories` of the running batch `batch` count as done.
    package static func progress(_ batch: Int, trajectories: Int) -> DriverMessage {
        var writer = BinaryWriter()
        writer.int64(trajectories)
        return DriverMessage(.progress, batch: batch, payload: writer.bytes)
    }

    /// Run batch `batch`, reporting progress within it if `reportsProgress`.
    package static func assign(_ batch: Int, reportsProgress: Bool) -> DriverMessage {
        DriverMessage(.assign, batch: batch, payload: [reportsProgress ? 1 : 0])
    }

    /// A worker's fold of the batches it ran.
    package static func result(_ fold: SimulationData) -> DriverMessage {
        DriverMessage(.result, batch: -1, payload: fold.encodedBytes())
    }

    /// The failure a `failure` message carries.
    package var failure: BatchFailure { BatchFailure(encodedBytes: payload) }

    /// The result a `done` or `result` message carries.
    package func decodedResult() throws -> SimulationData { try SimulationData(encodedBytes: payload) }

    /// The trajectories a `progress` message counts.
    package func trajectories() throws -> Int {
        var reader = BinaryReader(bytes: payload)
        let count = try reader.int64("trajectories")
        guard reader.offset == payload.count else {
            throw DataDecodingError("trailing bytes after the count", offset: reader.offset)
        }
        return count
    }

    /// Whether an `assign` message asks for progress.
    package var reportsProgress: Bool { payload.first == 1 }

    /// The message as bytes.
    package var bytes: [UInt8] {
        var writer = BinaryWriter()
        writer.bytes.reserveCapacity(9 + payload.count)
        writer.bytes.append(kind.rawValue)
        writer.int64(batch)
        writer.bytes += payload
        return writer.bytes
    }

    /// The message in `bytes`; throws ``UnknownKind`` or a ``DataDecodingError``.
    package init(bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes: bytes)
        let raw = try reader.take(1, "message kind").first!
        guard let kind = Kind(rawValue: raw) else { throw UnknownKind(rawValue: raw) }
        self.init(kind, batch: try reader.int64("batch"), payload: Array(bytes[reader.offset...]))
    }

    /// The message framed for a byte stream: its length, then its bytes.
    package var framed: [UInt8] {
        let body = bytes
        var writer = BinaryWriter()
        writer.count(body.count)
        return writer.bytes + body
    }

    /// Takes the first whole framed message off `buffer`, if one has arrived.
    package static func takeFrame(from buffer: inout [UInt8]) throws -> DriverMessage? {
        var reader = BinaryReader(bytes: buffer)
        guard let length = try? reader.uint64("frame length"), UInt64(buffer.count - 8) >= length else { return nil }
        let body = Array(buffer[8..<8 + Int(length)])
        buffer.removeFirst(8 + Int(length))
        return try DriverMessage(bytes: body)
    }
}
