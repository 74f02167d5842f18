import CMPI
import CMPIShims
import QCLab
import QCLabCore
import QCLabSystem
import QCLabIO
import QCLabRuntime

/// The check that every rank of an MPI job was started with the same arguments, before
/// any work: ranks that disagree would otherwise wait for each other forever (one rank
/// resuming a checkpoint while another runs every batch, say).
///
/// Each rank describes what must agree as named fields (`--num-tasks`, `--seeds`,
/// `--checkpoint`, the job file, ...; nothing that may differ per rank). The ranks
/// exchange a digest of each field (FNV-1a, 64 bits: one `MPI_Allgather` of a few
/// words, whatever the size of the job), then the texts of the first field that differs,
/// so that the error names it and both values. Every rank throws the same error (rank 0
/// alone need report it), so nothing hangs and nothing is written.
package enum RankAgreement {
    /// One thing every rank must agree on: a name (`--num-tasks`) and its value on this
    /// rank (nil when not given).
    package struct Field: Sendable {
        package let name: String
        package let value: String?
        package init(_ name: String, _ value: String?) {
            self.name = name
            self.value = value
        }

        /// The field in a message: `--seeds 0:8`, `no --seeds`, or for a long value (a
        /// job record) its name and digest.
        func describe() -> String {
            guard let value else { return "no \(name)" }
            guard value.count <= 200 else {
                return "\(name) of digest \(String(RankAgreement.digest(value), radix: 16))"
            }
            return "\(name) \(value)"
        }
    }

    /// Checks that every rank passed the same `fields`.
    ///
    /// Collective: every rank calls it, with the same field names in the same order; MPI must be
    /// initialized. Throws ``QCLab/QCLabError/mpi(_:)`` naming the first field that differs, the
    /// first rank that differs from rank 0, and both values, on every rank.
    package static func check(_ fields: [Field]) throws {
        let size = MPIEnvironment.worldSize
        guard size > 1 else { return }
        // The field count first, so that a build with other fields is told apart too.
        var mine = [UInt64(fields.count)] + fields.map { digest($0.value.map { "1" + $0 } ?? "0") }
        var all = [UInt64](repeating: 0, count: mine.count * size)
        MPIEnvironment.check(
            MPI_Allgather(
                &mine, Int32(mine.count), qclab_mpi_int64(), &all, Int32(mine.count),
                qclab_mpi_int64(), qclab_mpi_comm_world()), "MPI_Allgather")
        var first: (rank: Int, field: Int)?
        search: for field in 0..<mine.count {
            for rank in 1..<size where all[rank * mine.count + field] != all[field] {
                first = (rank, field)
                break search
            }
        }
        guard let (rank, slot) = first else { return }
        guard slot > 0 else {
            throw QCLabError.mpi(
                "rank \(rank) runs another build of qclab than rank 0; give every rank the same qclab")
        }
        let field = fields[slot - 1]
        // The two ranks' values, for the message (every rank takes part in both broadcasts).
        let theirs = text(of: field, from: rank)
        let zeros = text(of: field, from: 0)
        throw QCLabError.mpi(
            "the ranks were started with different arguments: rank \(rank) has \(theirs), rank 0 has \(zeros); "
                + "give every rank the same command")
    }

    /// Checks that every rank calls the MPI driver with the same arguments (collective).
    ///
    /// It compares the simulation (its job record, trajectory count and batch size), seeds, task
    /// count and checkpoint. The data continued is not compared: only rank 0's is used.
    package static func check(simulation: Simulation, seeds: [Int]?, numTasks: Int?, checkpoint: Checkpointing?) throws
    {
        let settings = simulation.settings
        try check([
            Field("the job", simulation.jobRecord),
            Field("num_trajs and batch_size", "\(settings.numTrajs) and \(settings.batchSize)"),
            Field("seeds", seeds.map { $0.map(String.init).joined(separator: ",") }),
            Field("num_tasks", numTasks.map(String.init)),
            Field("checkpoint", checkpoint?.path),
        ])
    }

    /// `field` as `root` describes it, on every rank (collective).
    private static func text(of field: Field, from root: Int) -> String {
        var length = Int64(MPIEnvironment.rank == root ? Array(field.describe().utf8).count : 0)
        MPIEnvironment.check(
            MPI_Bcast(&length, 1, qclab_mpi_int64(), Int32(root), qclab_mpi_comm_world()), "MPI_Bcast")
        var bytes =
            MPIEnvironment.rank == root ? Array(field.describe().utf8) : [UInt8](repeating: 0, count: Int(length))
        if length > 0 {
            MPIEnvironment.check(
                MPI_Bcast(&bytes, Int32(length), qclab_mpi_byte(), Int32(root), qclab_mpi_comm_world()), "MPI_Bcast")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// FNV-1a, 64 bits, of `text`'s UTF-8 bytes: enough to tell arguments apart (a collision
    /// would need two different arguments with the same 64-bit digest).
    static func digest(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
