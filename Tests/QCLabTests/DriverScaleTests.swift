import XCTest
import Foundation
@testable import QCLab

/// The drivers at cluster scale: bounded memory whatever the number of batches,
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
            let forked = try QCLabCLI.run(
                [
                    "-f", "peak-rss %M", qclab, "run", "job.json", "--driver", "multiprocessing",
                    "--num-tasks", "2", "--output", "f.h5",
                ], in: folder,
                program: URL(fileURLWithPath: time), timeout: 600)
            XCTAssertEqual(forked.status, 0, forked.errors)
            results["fork", default: [:]][batches] = peaks(forked.errors)
            // Every MPI rank, each wrapped.
            if let mpirun {
                let mpi = try P.run(
                    mpirun,
                    [
                        "--oversubscribe", "-n", "2", time, "-f", "peak-rss %M", qclab, "run", "job.json",
                        "--driver", "mpi", "--output", "m.h5",
                    ], in: folder, timeout: 600)
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
            for (x, y) in zip(small, large) {
                XCTAssertLessThanOrEqual(y, 1.5 * x, "\(driver): every rank: \(small) vs \(large)")
            }
        }
    }

    /// `qclab run --driver mpi` across two network namespaces matches serial and balances.
    ///
    /// The namespaces, joined by a veth pair, act as two hosts, and the run needs no option to
    /// `mpirun` that a user would need: Open MPI chooses TCP between the hosts (and shared memory
    /// within one) by itself. With 2 ranks (one per host) and 4 (two per host) the result is
    /// serial's to the bit, and each rank's share of the 64 batches (from the run's log,
    /// `MPI rank R ran N batch(es)`) is within 25% of even.
    ///
    /// What the harness adds, because its two "hosts" are one machine: Open MPI starts its daemon
    /// on the second "host" through `ssh`, found first on the PATH, a script standing in for ssh
    /// that enters the namespace and gives the daemon a host name of its own (Open MPI names its
    /// shared-memory files after the host, and the two "hosts" share /dev/shm); and
    /// `--bind-to none`, because each daemon would bind its first rank to the same core of this
    /// machine. Skipped where namespaces cannot be made (no CAP_NET_ADMIN).
    func testMPIAcrossTwoNetworkNamespacesMatchesSerialAndBalances() throws {
        let mpirun = try P.mpirun()
        let ip = "/usr/sbin/ip"
        _ = try TestEnvironment.requireTool(ip, "iproute2's ip")
        let unshare = try TestEnvironment.requireTool("/usr/bin/unshare", "util-linux's unshare").path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-netns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        let tag = getpid() % 200 + 20
        let (a, b) = ("qclab\(tag)a", "qclab\(tag)b")
        let (hostA, hostB) = ("10.78.\(tag).1", "10.78.\(tag).2")
        func sh(_ command: String) throws -> QCLabCLI.Outcome {
            try QCLabCLI.run(["-c", command], in: folder, program: URL(fileURLWithPath: "/bin/sh"), timeout: 30)
        }
        let setup = try sh(
            """
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
            throw TestEnvironment.unavailable(
                "cannot make network namespaces here (needs root with CAP_NET_ADMIN): \(setup.errors)")
        }
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let agent = bin.appendingPathComponent("ssh")
        try """
        #!/bin/sh
        # ssh for Open MPI's daemon launcher: runs the daemon command in the namespace of the "host",
        # under a host name of its own (shared-memory files are named after the host).
        while [ "${1#-}" != "$1" ]; do shift; done
        host=$1; shift
        case "$host" in \(hostA)) ns=\(a) ;; \(hostB)) ns=\(b) ;; *) echo "unknown host $host" >&2; exit 1 ;; esac
        exec \(ip) netns exec "$ns" \(unshare) --uts /bin/sh -c "hostname $ns; $*"
        """.write(to: agent, atomically: true, encoding: .utf8)
        chmod(agent.path, 0o755)
        // 64 batches of 4 trajectories, long enough that a batch outlasts a message by far,
        // and that a rank's CPU time is mostly batches (rank 0 also reads and writes files).
        let job = P.jobJSON(trajectories: 256).replacingOccurrences(of: #""tmax": 2.0"#, with: #""tmax": 50.0"#)
        XCTAssertNotEqual(job, P.jobJSON(trajectories: 256))
        try job.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let serial = try serialDriver(Job(json: Foundation.Data(job.utf8)).simulation)
        let qclab = try QCLabCLI.executable().path
        // GNU time around each rank writes the CPU time the rank got to `cpu-R` in the folder
        // (a file: the launcher's forwarding of a rank's last lines can lose them).
        let time = "/usr/bin/time"
        let timed = FileManager.default.isExecutableFile(atPath: time)
        let wrapper =
            timed ? ["/bin/sh", "-c", #"exec \#(time) -o "cpu-$OMPI_COMM_WORLD_RANK" -f "%U %S" "$0" "$@""#] : []
        for perHost in [1, 2] {
            let ranks = 2 * perHost, name = "two-hosts-\(ranks).h5"
            let path = bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            let outcome = try QCLabCLI.run(
                [
                    "netns", "exec", a, mpirun.path, "--host", "\(hostA):\(perHost),\(hostB):\(perHost)", "-n",
                    "\(ranks)",
                    "--bind-to", "none",
                ] + wrapper + [
                    qclab, "run", "job.json", "--driver", "mpi", "--output", name, "--mergeable",
                ], in: folder, program: URL(fileURLWithPath: ip),
                timeout: 300,
                environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "PATH": path])
            let label = "\(ranks) ranks on two hosts"
            XCTAssertEqual(outcome.status, 0, "\(label): \(outcome.errors)")
            XCTAssertEqual(
                outcome.output.components(separatedBy: "wrote \(name)").count - 1, 1, "\(label): only rank 0 writes")
            let data = try SimulationData(contentsOf: folder.appendingPathComponent(name).path)
            XCTAssertEqual(P.withoutLog(data), P.withoutLog(serial), label)
            XCTAssertTrue(data.log.contains("mpi driver, \(ranks) task(s)"), data.log)
            let shares = Self.batchesPerRank(in: data.log)
            XCTAssertEqual(shares.count, ranks, "\(label): every rank ran batches: \(shares)")
            XCTAssertEqual(shares.values.reduce(0, +), 64, "\(label): \(shares)")
            // The two "hosts" are equal, so every rank's share is even. The CPU time each
            // rank got (GNU time, when installed) is in the message, to tell a machine that
            // gave the ranks unequal CPU from a dispatcher that starved some.
            var cpu: [Int: Double] = [:]
            for rank in 0..<ranks where timed {
                let file = folder.appendingPathComponent("cpu-\(rank)")
                let words = ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(
                    whereSeparator: \.isWhitespace)
                if words.count == 2, let user = Double(words[0]), let system = Double(words[1]) {
                    cpu[rank] = user + system
                }
                try? FileManager.default.removeItem(at: file)
            }
            let expected = 64.0 / Double(ranks)
            for (rank, count) in shares.sorted(by: { $0.key < $1.key }) {
                XCTAssertLessThanOrEqual(
                    abs(Double(count) - expected), 0.25 * expected,
                    "\(label): rank \(rank)'s share: \(shares), CPU seconds \(cpu)")
            }
        }
    }

    /// Batches each MPI rank ran, from a run log's lines `MPI rank R ran N batch(es): ...`.
    static func batchesPerRank(in log: String) -> [Int: Int] {
        var shares: [Int: Int] = [:]
        for line in log.split(separator: "\n") where line.hasPrefix("MPI rank ") {
            let words = line.split(separator: " ")
            if words.count > 4, words[3] == "ran", let rank = Int(words[2]), let count = Int(words[4]) {
                shares[rank] = count
            }
        }
        return shares
    }

    /// Under MPI rank 0 alone reads the job and `--append` files and hands them to the
    /// other ranks; what it cannot read stops every rank, reported once.
    func testUnderMPIOnlyRankZeroReadsFiles() throws {
        let mpirun = try P.mpirun()
        let qclab = try QCLabCLI.executable().path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("qclab-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try P.jobJSON(trajectories: 8).write(
            to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let missing = try P.run(
            mpirun,
            [
                "--oversubscribe", "-n", "2", qclab, "run", "nowhere.json", "--driver", "mpi",
                "--output", "out.h5",
            ], in: folder, timeout: 60)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertEqual(
            missing.errors.components(separatedBy: "job file 'nowhere.json' does not exist").count - 1, 1,
            missing.errors)
        // A run and its continuation: other ranks get the earlier data from rank 0.
        for arguments in [
            ["run", "job.json", "--driver", "mpi", "--output", "a.h5", "--mergeable"],
            ["run", "job.json", "--driver", "mpi", "--append", "a.h5", "--output", "b.h5", "--mergeable"],
        ] {
            let outcome = try P.run(
                mpirun, ["--oversubscribe", "-n", "3", qclab] + arguments, in: folder, timeout: 60)
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
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "qclab-progress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        try P.jobJSON(trajectories: 23).write(
            to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let outcome = try P.run(
            mpirun,
            [
                "--oversubscribe", "-n", "3", try QCLabCLI.executable().path, "run", "job.json",
                "--driver", "mpi", "--output", "out.h5",
            ], in: folder, timeout: 60)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        XCTAssertEqual(
            outcome.errors.components(separatedBy: "qclab: 23/23 trajectories").count - 1, 1, outcome.errors)
    }
}
