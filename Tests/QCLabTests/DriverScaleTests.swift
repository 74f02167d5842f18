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
        _ = try TestEnvironment.requireTool(time, "GNU time (time)")
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

    /// Two network namespaces joined by a veth pair act as two hosts: Open MPI starts its
    /// daemon for the second "host" through `--mca plm_rsh_agent`, a script around
    /// `ip netns exec`, and the ranks talk over TCP between them (one-sided through
    /// `--mca osc pt2pt`, which Open MPI 4 needs without RDMA). Skipped where namespaces
    /// cannot be made (no CAP_NET_ADMIN).
    func testMPIAcrossTwoNetworkNamespacesMatchesSerialBitForBit() throws {
        let mpirun = try P.mpirun()
        let ip = "/usr/sbin/ip"
        _ = try TestEnvironment.requireTool(ip, "iproute2's ip")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-netns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let tag = getpid() % 200 + 20
        let (a, b) = ("qclab\(tag)a", "qclab\(tag)b")
        let (hostA, hostB) = ("10.78.\(tag).1", "10.78.\(tag).2")
        func sh(_ command: String) throws -> QCLabCLI.Outcome {
            try QCLabCLI.run(["-c", command], in: folder, program: URL(fileURLWithPath: "/bin/sh"), timeout: 30)
        }
        let setup = try sh("""
            set -e
            \(ip) netns add \(a); \(ip) netns add \(b)
            \(ip) link add \(a)v type veth peer name \(b)v
            \(ip) link set \(a)v netns \(a); \(ip) link set \(b)v netns \(b)
            \(ip) netns exec \(a) \(ip) addr add \(hostA)/24 dev \(a)v
            \(ip) netns exec \(b) \(ip) addr add \(hostB)/24 dev \(b)v
            for n in \(a) \(b); do \(ip) netns exec $n \(ip) link set lo up; done
            \(ip) netns exec \(a) \(ip) link set \(a)v up; \(ip) netns exec \(b) \(ip) link set \(b)v up
            """)
        addTeardownBlock { _ = try? sh("\(ip) netns del \(a); \(ip) netns del \(b)") }
        guard setup.status == 0 else {
            throw TestEnvironment.unavailable("cannot make network namespaces here (needs root with CAP_NET_ADMIN): \(setup.errors)")
        }
        let agent = folder.appendingPathComponent("agent.sh")
        try """
            #!/bin/sh
            # rsh agent for Open MPI: runs the daemon command in the namespace of the "host".
            while [ "${1#-}" != "$1" ]; do shift; done
            host=$1; shift
            case "$host" in \(hostA)) ns=\(a) ;; \(hostB)) ns=\(b) ;; *) echo "unknown host $host" >&2; exit 1 ;; esac
            exec \(ip) netns exec "$ns" /bin/sh -c "$*"
            """.write(to: agent, atomically: true, encoding: .utf8)
        chmod(agent.path, 0o755)
        try P.jobJSON(trajectories: 23).write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let serial = try serialDriver(P.simulation(trajectories: 23))
        let qclab = try QCLabCLI.executable().path
        let outcome = try P.run(URL(fileURLWithPath: ip), [
            "netns", "exec", a, mpirun.path, "--host", "\(hostA):1,\(hostB):1", "-n", "2",
            "--mca", "plm_rsh_agent", agent.path, "--mca", "btl", "tcp,self", "--mca", "osc", "pt2pt",
            "--mca", "btl_tcp_if_include", "10.78.\(tag).0/24", "--mca", "oob_tcp_if_include", "10.78.\(tag).0/24",
            "-x", "OMPI_ALLOW_RUN_AS_ROOT", "-x", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM",
            qclab, "run", "job.json", "--driver", "mpi", "--output", "two-hosts.h5"], in: folder, timeout: 120)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(outcome.output.components(separatedBy: "wrote two-hosts.h5").count - 1, 1, "only rank 0 writes")
        let data = try SimulationData(contentsOf: folder.appendingPathComponent("two-hosts.h5").path)
        XCTAssertEqual(P.withoutLog(data), P.withoutLog(serial))
        XCTAssertTrue(data.log.contains("mpi driver, 2 task(s)"), data.log)
    }

    /// Under MPI rank 0 alone reads the job and `--append` files and hands them to the
    /// other ranks; what it cannot read stops every rank, reported once.
    func testUnderMPIOnlyRankZeroReadsFiles() throws {
        let mpirun = try P.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try P.jobJSON(trajectories: 8).write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let missing = try P.run(mpirun, ["--oversubscribe", "-n", "2", qclab, "run", "nowhere.json", "--driver", "mpi",
                                         "--output", "out.h5"], in: folder, timeout: 60)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(missing.errors.components(separatedBy: "job file 'nowhere.json' does not exist").count - 1, 1, missing.errors)
        // A run and its continuation: other ranks get the earlier data from rank 0.
        for arguments in [["run", "job.json", "--driver", "mpi", "--output", "a.h5"],
                          ["run", "job.json", "--driver", "mpi", "--append", "a.h5", "--output", "b.h5"]] {
            let outcome = try P.run(mpirun, ["--oversubscribe", "-n", "3", qclab] + arguments, in: folder, timeout: 60)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
        }
        let b = try SimulationData(contentsOf: folder.appendingPathComponent("b.h5").path)
        XCTAssertEqual(b.seeds, Array(0..<16))
        let serial = try serialDriver(P.simulation(trajectories: 16))
        XCTAssertEqual(b.observables, serial.observables, "a continued run is the same bits as one run")
    }

    /// Under MPI, rank 0 reports the progress of the whole job (as lines, since the
    /// launcher forwards its standard error), once for the job, not once per rank.
    func testRankZeroReportsTheWholeJobsProgress() throws {
        let mpirun = try P.mpirun()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-progress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try P.jobJSON(trajectories: 23).write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let outcome = try P.run(mpirun, ["--oversubscribe", "-n", "3", try QCLabCLI.executable().path, "run", "job.json",
                                         "--driver", "mpi", "--output", "out.h5"], in: folder, timeout: 60)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(outcome.errors.components(separatedBy: "qclab: 23/23 trajectories").count - 1, 1, outcome.errors)
    }
}
