// A helper of ParallelDriverTests, run under mpirun: a small mean-field job (23 seeds in
// batches of 4) through `parallelDriverMPI`, with an algorithm whose batch holding the
// seed given on the command line throws, on whichever rank runs it. Nothing on the
// `qclab` command line makes one batch fail, so this is how the tests see that a failure
// on one rank ends the whole job with a message naming the lost seeds, and leaves no rank
// waiting.
//
//   mpirun -n K MPIFailureProbe SEED          (SEED -1: nothing fails)
//   mpirun -n K MPIFailureProbe slow RANK     (nothing fails; RANK's first batch waits until
//                                             another rank starts the last batch, and rank 0
//                                             prints the run's log: how many batches each
//                                             rank ran, for the test of dynamic hand-out)
//
//   mpirun -n 2 MPIFailureProbe disagree WHAT (rank 1 passes the driver another `job`
//                                             (tmax 2), 24 `trajectories`, or `seeds`, `tasks`
//                                             or a `checkpoint` that rank 0 does not: the
//                                             ranks' agreement check)
//
// With `progress` instead of a seed, it runs a longer job of 2 batches of 8 and prints
// each progress count rank 0 receives (`progress DONE/TOTAL`), so that the tests see
// progress within batches under MPI. `progress CK` does the same with a checkpoint at CK
// (rank 0 then gets every batch's result and keeps the checkpoint).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import QCLab
import QCLabMPI

/// Mean field, except that the batch holding `failingSeed` throws.
struct FailingMeanField: Algorithm {
    struct InjectedFailure: Error, CustomStringConvertible {
        let seed: Int
        var description: String { "injected failure at seed \(seed)" }
    }

    let failingSeed: Int
    /// The rank (as the launcher numbers it) that is held up, if any.
    ///
    /// Its first batch waits until another rank starts the job's last batch (the one holding seed
    /// `lastSeed`), which it learns from a file that rank writes in the working folder. So the held
    /// rank runs only the batches it was given before the others had taken all the rest; with
    /// batches dealt out in turn instead, it would hold a later one and wait until the deadline.
    var slowRank: String? = nil
    var lastSeed = 22
    var algorithmName: String { "FailingMeanField" }
    func branchCount(for model: any Model) -> Int { 1 }

    func runBatch(model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int]) throws
        -> SimulationData
    {
        if seeds.contains(failingSeed) { throw InjectedFailure(seed: failingSeed) }
        if let slowRank {
            let release = "probe-released"
            if getenv("OMPI_COMM_WORLD_RANK").map({ String(cString: $0) }) == slowRank {
                // A deadline only turns a hang into a failure.
                var waited = 0
                while access(release, F_OK) != 0 {
                    guard waited < 60_000 else { throw InjectedFailure(seed: -1) }
                    usleep(10_000)
                    waited += 10
                }
            } else if seeds.contains(lastSeed) {
                close(open(release, O_CREAT | O_WRONLY, 0o644))
            }
        }
        return try MeanField().runBatch(
            model: model, grid: grid, initialWavefunction: initialWavefunction, seeds: seeds)
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
let slowRank = arguments.first == "slow" ? arguments.dropFirst().first : nil
let showProgress = arguments.first == "progress"
let failingSeed = slowRank == nil ? arguments.first.flatMap { Int($0) } ?? -1 : -1
let disagreement =
    arguments.first == "disagree" && getenv("OMPI_COMM_WORLD_RANK").map({ String(cString: $0) }) == "1"
    ? arguments.dropFirst().first : nil
let settings =
    disagreement == "job" || disagreement == "trajectories"
    ? SimulationSettings(
        tmax: disagreement == "job" ? 2 : 1, dtUpdate: 0.01, dtCollect: 0.1,
        numTrajs: disagreement == "job" ? 23 : 24, batchSize: 4, progressBar: false)
    : showProgress
        ? SimulationSettings(tmax: 200, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 16, batchSize: 8, progressBar: false)
        : SimulationSettings(tmax: 1, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 23, batchSize: 4, progressBar: false)
let simulation = Simulation(
    settings: settings, model: SpinBoson(),
    algorithm: FailingMeanField(failingSeed: failingSeed, slowRank: slowRank),
    initialWavefunction: [Complex(1), Complex(0)])
do {
    var checkpoint = showProgress ? CommandLine.arguments.dropFirst(2).first.map { Checkpointing(path: $0) } : nil
    if disagreement == "checkpoint" { checkpoint = Checkpointing(path: "ck") }
    let data = try parallelDriverMPI(
        simulation, seeds: disagreement == "seeds" ? Array(0..<23) : nil,
        numTasks: disagreement == "tasks" ? 2 : nil, checkpoint: checkpoint,
        progress: showProgress ? { done, total in print("progress \(done)/\(total)") } : nil)
    MPIEnvironment.finalize()
    if let data {
        print("complete: \(data.normFactor) trajectories, seeds \(data.seeds.first!)...\(data.seeds.last!)")
        if slowRank != nil { print(data.log) }
    }
} catch {
    fputs("probe: error: \(error)\n", stderr)
    MPIEnvironment.finalize()
    exit(1)
}
