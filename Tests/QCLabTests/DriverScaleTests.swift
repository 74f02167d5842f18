import XCTest
import Foundation
@testable import QCLab

/// The drivers at cluster scale (issue 9): bounded memory whatever the number of batches,
/// and MPI without shared memory.
final class DriverScaleTests: XCTestCase {
    typealias P = ParallelDriverTests

    /// A job whose batch result is large (HolsteinLattice N=20: about
    /// 6.5 MB of sums per result, with 101 collect points) and whose batches are quick: one trajectory each.
    func folder(batches: Int) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-scale-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let job = """
            {"settings": {"tmax": 0.2, "dt_update": 0.002, "dt_collect": 0.002, "num_trajs": \(batches), "batch_size": 1, "progress_bar": false},
             "model": {"name": "HolsteinLattice", "constants": {"N": 20}},
             "algorithm": {"name": "MeanField"},
             "initial_state": {"wf_db": [1\(String(repeating: ", 0", count: 19))]}}
            """
        try job.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        return folder
    }

    /// Peak RSS in MiB of every process `/usr/bin/time` wrapped (GNU time's `%M`).
    func peaks(_ errors: String) -> [Double] {
        errors.split(separator: "\n").compactMap { line in
            line.hasPrefix("peak-rss ") ? Double(line.dropFirst("peak-rss ".count)).map { $0 / 1024 } : nil
        }
    }

    func testPeakMemoryDoesNotGrowWithTheNumberOfBatches() throws {
        let time = "/usr/bin/time"
        guard FileManager.default.isExecutableFile(atPath: time) else { throw XCTSkip("GNU time is not installed") }
        let qclab = try QCLabCLI.executable().path
        let mpirun = try? P.mpirun()
        var results: [String: [Int: [Double]]] = [:]
        for batches in [20, 160] {
            let folder = try folder(batches: batches)
            // The forked parent with its workers (GNU time reports the largest of them).
            let forked = try QCLabCLI.run(["-f", "peak-rss %M", qclab, "run", "job.json", "--driver", "multiprocessing",
                                           "--num-tasks", "2", "--output", "f.h5"], in: folder,
                                          program: URL(fileURLWithPath: time), timeout: 600)
            XCTAssertEqual(forked.status, 0, forked.errors)
            results["fork", default: [:]][batches] = peaks(forked.errors)
            // Every MPI rank, each wrapped.
            if let mpirun {
                let mpi = try P.run(mpirun, ["--oversubscribe", "-n", "2", time, "-f", "peak-rss %M", qclab, "run", "job.json",
                                             "--driver", "mpi", "--output", "m.h5"], in: folder, timeout: 600)
                XCTAssertEqual(mpi.status, 0, mpi.errors)
                results["mpi", default: [:]][batches] = peaks(mpi.errors).sorted()
            }
        }
        print("peak RSS (MiB) by driver and batches: \(results)")
        for (driver, byBatches) in results {
            let small = byBatches[20] ?? [], large = byBatches[160] ?? []
            XCTAssertEqual(small.count, large.count, "\(driver): \(byBatches)")
            XCTAssertFalse(small.isEmpty, driver)
            // Compare the largest process of each run (rank 0 or the parent).
            let a = small.max() ?? 0, b = large.max() ?? 0
            XCTAssertLessThanOrEqual(b, 1.5 * a, "\(driver): peak RSS \(b) MiB at 160 batches vs \(a) MiB at 20")
            for (x, y) in zip(small, large) { XCTAssertLessThanOrEqual(y, 1.5 * x, "\(driver): every rank: \(small) vs \(large)") }
        }
    }

    func testMPIOverTCPOnlyMatchesSerialBitForBit() throws {
        let mpirun = try P.mpirun()
        let qclab = try QCLabCLI.executable()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-tcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try P.jobJSON(trajectories: 23).write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let serial = try serialDriver(P.simulation(trajectories: 23))
        for ranks in [2, 3] {
            let outcome = try P.run(mpirun, ["--oversubscribe", "--mca", "btl", "tcp,self", "-n", "\(ranks)", qclab.path, "run",
                                             "job.json", "--driver", "mpi", "--output", "tcp\(ranks).h5"], in: folder, timeout: 120)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
            let data = try SimulationData(contentsOf: folder.appendingPathComponent("tcp\(ranks).h5").path)
            XCTAssertEqual(P.withoutLog(data), P.withoutLog(serial), "\(ranks) ranks over TCP")
        }
    }
}
