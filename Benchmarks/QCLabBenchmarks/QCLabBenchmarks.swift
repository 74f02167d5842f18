// Micro-benchmarks of QCLab's kernels and whole-run benchmarks of the workloads of
// ../shared/workloads.json and workloads-lattice.json. See Benchmarks/README.md for what each one measures.
//
//     cd Benchmarks && swift package benchmark                       # all
//     cd Benchmarks && swift package benchmark --filter 'FSSH step.*'  # a subset
//
// Names:
//   "Baseline (empty measurement)"  the measurement overhead (its mallocs are bookkeeping)
//   "Eigen <n>x<n> <real|complex> (<source>, batch <b>)"  one BatchEigensolver.diagonalize of a batch
//   "Eigen method <method> n=<n> B=<b>"  the same with the method forced, on HolsteinLattice(N: n)
//                                     Hamiltonians: the crossovers behind Strategy.fastest
//   "Force <model> (batch <b>)"       quantumClassicalForce + classicalForce of a batch
//   "MF step <workload> (batch <b>)"   one MeanFieldBatch.step
//   "FSSH step <workload> (batch <b>)" one SurfaceHoppingBatch.step
//   "FSSH step tully1_fssh (batch <b>), <plan>"  the same with the step plan forced
//   "Run <workload>"                  serialDriver on the whole workload (no file output)
//   "Run <workload>, plain sums"      the same with plain floating-point sums instead of exact ones

import Benchmark
import Foundation
import QCLab
// The kernels measured below (batches, eigensolver, step plans) are the library's
// System Programming Interface for the benchmarks, not its public API.
@_spi(Benchmarks) import QCLabCore

// MARK: Workloads

/// The workloads files: `QCLAB_WORKLOADS` if set (paths separated by ':'), else
/// `../shared/workloads.json` next to the repository (found from this source file's path:
/// Benchmarks/QCLabBenchmarks/ -> ../../../shared) and this package's `workloads-lattice.json`
/// (the Holstein lattice at N = 100 and 200), as `scripts/compare.sh` runs them.
let workloadsPaths: [String] = {
    if let paths = ProcessInfo.processInfo.environment["QCLAB_WORKLOADS"], !paths.isEmpty {
        return paths.split(separator: ":").map(String.init)
    }
    let package = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // QCLabBenchmarks/
        .deletingLastPathComponent()  // Benchmarks/
    return [
        package
            .deletingLastPathComponent()  // repository
            .deletingLastPathComponent()  // the repository's parent, which holds shared/
            .appendingPathComponent("shared/workloads.json").standardizedFileURL.path,
        package.appendingPathComponent("workloads-lattice.json").standardizedFileURL.path,
    ]
}()

/// The workload names in the files' order, and each one as a parsed ``Job``.
let workloads: [(name: String, job: Job)] = workloadsPaths.flatMap(readWorkloads)

/// The workloads of one file, in its order.
func readWorkloads(_ path: String) -> [(name: String, job: Job)] {
    guard let bytes = FileManager.default.contents(atPath: path) else {
        fatalError("cannot read the workloads file \(path) (set QCLAB_WORKLOADS to the paths of such files)")
    }
    do {
        guard let all = try JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
            fatalError("\(path) is not a JSON object of jobs")
        }
        // JSONSerialization loses the key order; take it from the text.
        let text = String(decoding: bytes, as: UTF8.self)
        let names = all.keys.sorted {
            (text.range(of: "\"\($0)\"")?.lowerBound ?? text.endIndex)
                < (text.range(of: "\"\($1)\"")?.lowerBound ?? text.endIndex)
        }
        return try names.map { name in
            let json = try JSONSerialization.data(withJSONObject: all[name]!)
            return (name, try Job(json: json))
        }
    } catch {
        fatalError("cannot parse the workloads file \(path): \(error)")
    }
}

func workload(_ name: String) -> Job {
    guard let job = workloads.first(where: { $0.name == name })?.job else {
        fatalError("workload '\(name)' is not in \(workloadsPaths.joined(separator: ", "))")
    }
    return job
}

/// The first `batch_size` seeds of a workload: its first batch.
func firstBatchSeeds(_ job: Job) -> [Int] {
    Array(0..<min(job.simulation.settings.batchSize, job.simulation.settings.numTrajs))
}

/// A built-in model by its QC Lab name and constants (the job file's route).
func builtInModel(_ name: String, _ constants: [String: ParameterValue]) throws -> any Model {
    try ModelRegistry.make(name: name, constants: constants)
}

// MARK: State for the kernels

/// Mutable state a benchmark keeps across its iterations (set up once, outside the measurement).
final class Box<State>: @unchecked Sendable {
    var state: State?
}

/// The Hamiltonians of `steps` consecutive surface-hopping steps of a batch (seeds
/// `0..<batch`, time step `dt`), and a solver. The benchmark walks through them back and
/// forth, so every call sees the Hamiltonian of the step before or after the previous
/// one, as in a run: a solver that starts from its previous solution (warm-started
/// Jacobi) gets the head start it gets in a run, no more.
struct EigenState {
    var solver: BatchEigensolver
    let hamiltonians: [ComplexBatch]
    var eigenvalues: [Double]
    var eigenvectors: ComplexBatch
    let n: Int, batch: Int, isReal: Bool
    let structure: HamiltonianStructure
    private var index = 0, direction = 1

    let method: BatchEigensolver.Strategy?

    init(model: any Model, batch: Int, dt: Double, steps: Int = 32, method: BatchEigensolver.Strategy? = nil) throws {
        self.method = method
        let n = model.numQuantumStates
        let psi = (0..<n).map { $0 == 0 ? Complex(1) : Complex<Double>.zero }
        let grid = TimeGrid(
            SimulationSettings(
                tmax: Double(steps) * dt, dtUpdate: dt, dtCollect: dt,
                numTrajs: batch, batchSize: batch))
        var run = try SurfaceHoppingBatch(
            algorithm: FewestSwitchesSurfaceHopping(), model: model, grid: grid,
            seeds: Array(0..<batch), initialWavefunction: psi)
        var sequence = [run.hamiltonian]
        for _ in 1..<steps {
            try run.step(dt: dt)
            sequence.append(run.hamiltonian)
        }
        hamiltonians = sequence
        (self.n, self.batch, isReal) = (n, batch, model.hamiltonianIsReal)
        structure = HamiltonianStructure.of(model)
        solver = try BatchEigensolver(
            states: n, batchSize: batch, isReal: isReal,
            strategy: method ?? .fastest(states: n, isReal: isReal, structure: structure), structure: structure)
        eigenvalues = [Double](repeating: 0, count: n * batch)
        eigenvectors = ComplexBatch(components: n * n, batchSize: batch)
        try solver.diagonalize(hamiltonians[0], eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
    }

    /// Diagonalizes the next Hamiltonian of the walk.
    mutating func run() throws {
        if index + direction < 0 || index + direction >= hamiltonians.count { direction = -direction }
        index += direction
        try solver.diagonalize(hamiltonians[index], eigenvalues: &eigenvalues, eigenvectors: &eigenvectors)
    }

    /// A fresh solver (no previous solution: the first step's path, a dense solve for n > 2).
    mutating func resetSolver() throws {
        solver = try BatchEigensolver(
            states: n, batchSize: batch, isReal: isReal,
            strategy: method ?? .fastest(states: n, isReal: isReal, structure: structure), structure: structure)
    }
}

/// Coordinates, a normalized superposition of all states, and force buffers.
struct ForceState {
    let model: any Model
    let z: ComplexBatch
    let wavefunction: ComplexBatch
    var quantumForce: ComplexBatch
    var classicalForce: ComplexBatch

    init(model: any Model, batch: Int) {
        self.model = model
        let n = model.numQuantumStates
        z = model.initialClassicalCoordinates(seeds: Array(0..<batch))
        var psi = ComplexBatch(components: n, batchSize: batch)
        let amplitude = 1.0 / Double(n).squareRoot()
        for t in 0..<batch {
            psi.setTrajectory(t, (0..<n).map { k in k % 2 == 0 ? Complex(amplitude) : Complex(0, amplitude) })
        }
        wavefunction = psi
        quantumForce = ComplexBatch(components: model.numClassicalCoordinates, batchSize: batch)
        classicalForce = quantumForce
    }

    mutating func run() {
        model.quantumClassicalForce(z: z, wavefunction: wavefunction, into: &quantumForce)
        model.classicalForce(z: z, into: &classicalForce)
    }
}

/// A batch and its model's fused classical step (one RK4 step of `z` and the rebuild of
/// `H(z)`), as the algorithms take it every update.
struct ClassicalStepState {
    var step: any FusedClassicalStep
    var z: ComplexBatch
    let wavefunction: ComplexBatch
    var hamiltonian: ComplexBatch

    init(model: any Model, batch: Int, dt: Double) {
        guard let fused = model as? any FusedClassicalDynamics else {
            fatalError("\(model.modelName) has no fused classical step")
        }
        let forces = ForceState(model: model, batch: batch)
        step = fused.fusedClassicalStep(dt: dt, batchSize: batch)
        z = forces.z
        wavefunction = forces.wavefunction
        let n = model.numQuantumStates
        hamiltonian = ComplexBatch(components: n * n, batchSize: batch)
    }

    mutating func run() {
        step.advance(z: &z, psi: wavefunction, hamiltonian: &hamiltonian)
    }
}

/// A mean-field or surface-hopping batch of a workload's first batch of seeds; it is
/// started afresh after the workload's number of steps, so the steps measured are
/// those of the workload's own time window.
struct StepState<Batch> {
    let make: () throws -> Batch
    var batch: Batch
    let dt: Double
    let totalSteps: Int
    var done = 0

    init(job: Job, make: @escaping () throws -> Batch) throws {
        self.make = make
        batch = try make()
        dt = job.simulation.timeGrid.dtUpdate
        totalSteps = max(job.simulation.timeGrid.totalSteps, 1)
    }

    mutating func restartIfDone(upcoming: Int) throws {
        if done + upcoming > totalSteps {
            batch = try make()
            done = 0
        }
    }
}

// MARK: Configurations

// (CPU time is left out of the kernel metrics: its resolution here is 10 ms.)
let kernelMetrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal, .mallocBytesCount]
let runMetrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident]

func kernelConfiguration(_ scaling: BenchmarkScalingFactor = .one) -> Benchmark.Configuration {
    .init(
        metrics: kernelMetrics, timeUnits: .microseconds, warmupIterations: 3, scalingFactor: scaling,
        maxDuration: .seconds(2), maxIterations: 10_000)
}

func runConfiguration() -> Benchmark.Configuration {
    .init(
        metrics: runMetrics, timeUnits: .milliseconds, warmupIterations: 1, scalingFactor: .one,
        maxDuration: .seconds(20), maxIterations: 5)
}

// MARK: Benchmarks

let benchmarks: @Sendable () -> Void = {
    // One BLAS thread, as the drivers run batches (the kernels below bypass the drivers).
    setLinearAlgebraThreads(1)
    // The measurement's own allocations (package-benchmark's bookkeeping between
    // startMeasurement and stopMeasurement): subtract these from the kernels' counts.
    Benchmark("Baseline (empty measurement)", configuration: kernelConfiguration()) { benchmark in
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(0) }
        benchmark.stopMeasurement()
    }

    // Batched diagonalization, one solver call per batch (divide by the batch size for
    // the time per matrix), on the Hamiltonians of consecutive steps.
    let eigenCases: [(String, @Sendable () throws -> any Model, Int, BenchmarkScalingFactor)] = [
        (
            "50x50 real (HolsteinLattice N=50, batch 25)", { try builtInModel("HolsteinLattice", ["N": .number(50)]) },
            25, .one
        ),
        ("7x7 real (FMOComplex N=200, batch 50)", { try builtInModel("FMOComplex", ["N": .number(200)]) }, 50, .one),
        ("2x2 real (SpinBoson A=100, batch 250)", { try builtInModel("SpinBoson", ["A": .number(100)]) }, 250, .kilo),
        (
            "10x10 complex (HolsteinLatticeReciprocalSpace N=10, batch 25)",
            { try builtInModel("HolsteinLatticeReciprocalSpace", ["N": .number(10)]) }, 25, .one
        ),
    ]
    for (name, makeModel, batch, scaling) in eigenCases {
        let box = Box<EigenState>()
        let setup: @Sendable () async throws -> Void = {
            if box.state == nil { box.state = try EigenState(model: try makeModel(), batch: batch, dt: 0.01) }
        }
        Benchmark("Eigen \(name)", configuration: kernelConfiguration(scaling)) { benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { try box.state!.run() }
            benchmark.stopMeasurement()
            blackHole(box.state!.eigenvalues[0])
        } setup: {
            try await setup()
        }
        guard !name.hasPrefix("2x2") else { continue }
        // The first step's call: a fresh solver, so no previous solution to start from.
        Benchmark("Eigen \(name), cold", configuration: kernelConfiguration(scaling)) { benchmark in
            try box.state!.resetSolver()
            benchmark.startMeasurement()
            try box.state!.run()
            benchmark.stopMeasurement()
            blackHole(box.state!.eigenvalues[0])
        } setup: {
            try await setup()
        }
    }

    // Every eigensolver method on the same real Hamiltonians (the Holstein lattice's, N
    // states) per (n, B): the batched SIMD solver against dsyevd everywhere, the
    // warm-started Jacobi where it is an option (3 <= n <= 16), the closed form at n = 2, and
    // the warm-started tridiagonal solver the lattice's structure allows (n >= 3).
    for n in [2, 3, 4, 5, 8, 16, 32, 50, 64, 100, 128, 200, 256] {
        for batch in [25, 64, 256] where n <= 128 || batch == 64 {
            var methods: [BatchEigensolver.Strategy] = [.batchedHouseholder, .lapack]
            if n == 2 { methods.append(.closedFormTwoByTwo) }
            if n >= 3 && n <= 16 { methods.append(.jacobiWarmStart) }
            if n >= 3 { methods.append(.warmStartTridiagonal) }
            for method in methods {
                let box = Box<EigenState>()
                let scaling: BenchmarkScalingFactor = n <= 8 ? .kilo : .one
                Benchmark("Eigen method \(method) n=\(n) B=\(batch)", configuration: kernelConfiguration(scaling)) {
                    benchmark in
                    benchmark.startMeasurement()
                    for _ in benchmark.scaledIterations { try box.state!.run() }
                    benchmark.stopMeasurement()
                    blackHole(box.state!.eigenvalues[0])
                } setup: {
                    if box.state == nil {
                        box.state = try EigenState(
                            model: try builtInModel("HolsteinLattice", ["N": .number(Double(n))]),
                            batch: batch, dt: 0.01, steps: 4,
                            method: method)
                    }
                }
            }
        }
    }

    // Force evaluation: quantum-classical plus classical force, as one RK4 stage needs.
    let forceCases: [(String, @Sendable () throws -> any Model, Int)] = [
        ("Force SpinBoson A=100 (batch 250)", { try builtInModel("SpinBoson", ["A": .number(100)]) }, 250),
        ("Force FMOComplex N=200 (batch 50)", { try builtInModel("FMOComplex", ["N": .number(200)]) }, 50),
        (
            "Force TullyProblemOne (batch 500)",
            { try builtInModel("TullyProblemOne", ["init_position": .number(-5)]) }, 500
        ),
    ]
    for (name, makeModel, batch) in forceCases {
        let box = Box<ForceState>()
        Benchmark(name, configuration: kernelConfiguration()) { benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                box.state!.run()
            }
            benchmark.stopMeasurement()
            blackHole(box.state!.quantumForce.re[0] + box.state!.classicalForce.re[0])
        } setup: {
            box.state = ForceState(model: try makeModel(), batch: batch)
        }
    }

    // One classical RK4 step with the rebuild of H(z): closed form for a harmonic bath,
    // the batched four-stage step (vectorized exponentials) for a scattering model.
    let classicalCases: [(String, @Sendable () throws -> any Model, Int, Double)] = [
        (
            "Classical step SpinBoson A=100 (batch 250)", { try builtInModel("SpinBoson", ["A": .number(100)]) }, 250,
            0.01
        ),
        (
            "Classical step TullyProblemOne (batch 500)",
            { try builtInModel("TullyProblemOne", ["init_position": .number(-5)]) }, 500, 0.5
        ),
    ]
    for (name, makeModel, batch, dt) in classicalCases {
        let box = Box<ClassicalStepState>()
        Benchmark(name, configuration: kernelConfiguration()) { benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { box.state!.run() }
            benchmark.stopMeasurement()
            blackHole(box.state!.z.re[0])
        } setup: {
            box.state = ClassicalStepState(model: try makeModel(), batch: batch, dt: dt)
        }
    }

    // One mean-field RK4 step of a workload's first batch.
    for name in ["spin_boson_mf", "fmo_mf"] {
        let box = Box<StepState<MeanFieldBatch>>()
        let batch = workload(name).simulation.settings.batchSize
        Benchmark("MF step \(name) (batch \(batch))", configuration: kernelConfiguration()) { benchmark in
            try box.state!.restartIfDone(upcoming: benchmark.scaledIterations.count)
            let dt = box.state!.dt
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { box.state!.batch.step(dt: dt) }
            benchmark.stopMeasurement()
            box.state!.done += benchmark.scaledIterations.count
        } setup: {
            let job = workload(name)
            box.state = try StepState(job: job) {
                MeanFieldBatch(
                    model: job.simulation.model, seeds: firstBatchSeeds(job),
                    initialWavefunction: job.simulation.initialWavefunction,
                    dt: job.simulation.settings.dtUpdate)
            }
        }
    }

    // One surface-hopping step of a workload's first batch (hops included as they come).
    for name in [
        "spin_boson_fssh", "fmo_fssh", "holstein50_fssh", "holstein100_fssh", "holstein200_fssh", "tully1_fssh",
    ] {
        surfaceHoppingStepBenchmark(workload: name)
    }

    // The tully1_fssh step under each fast plan: the whole step fused into one pass (the
    // fastest, Tully's built-in surfaces) against the passes it replaces.
    let tullyPlans: [(String, StepPlan)] = [
        (
            "whole step fused",
            StepPlan(
                classical: .fused, eigensolver: .closedFormTwoByTwo, quantum: .fusedScatteringStep,
                realProducts: true)
        ),
        (
            "fused two-state",
            StepPlan(
                classical: .fused, eigensolver: .closedFormTwoByTwo, quantum: .fusedTwoState,
                realProducts: true)
        ),
        (
            "separate kernels",
            StepPlan(
                classical: .fused, eigensolver: .closedFormTwoByTwo, quantum: .separate,
                realProducts: true)
        ),
    ]
    for (label, plan) in tullyPlans {
        surfaceHoppingStepBenchmark(workload: "tully1_fssh", plan: (label, plan))
    }

    // Whole runs: serialDriver on each workload, as `qclab run` does minus writing the file.
    for (name, job) in workloads {
        var simulation = job.simulation
        simulation.settings.progressBar = false
        let seeds = job.seeds
        Benchmark("Run \(name)", configuration: runConfiguration()) { benchmark in
            let data = try serialDriver(simulation, seeds: seeds)
            blackHole(data.normFactor)
        }
        // The same run with the exact reduction replaced by plain floating-point sums: the
        // difference from "Run <workload>" is what the exact sums cost.
        Benchmark("Run \(name), plain sums", configuration: runConfiguration()) { benchmark in
            OutputReduction.plainFloatingPointSums = true
            defer { OutputReduction.plainFloatingPointSums = false }
            let data = try serialDriver(simulation, seeds: seeds)
            blackHole(data.normFactor)
        }
    }
}

/// One surface-hopping step of `workload`'s first batch, hops included as they come; under
/// `plan` (named in the benchmark's name) when given, else the plan the batch chooses.
func surfaceHoppingStepBenchmark(workload name: String, plan: (label: String, plan: StepPlan)? = nil) {
    let box = Box<StepState<SurfaceHoppingBatch>>()
    let batch = workload(name).simulation.settings.batchSize
    Benchmark(
        "FSSH step \(name) (batch \(batch))" + (plan.map { ", \($0.label)" } ?? ""),
        configuration: kernelConfiguration()
    ) { benchmark in
        try box.state!.restartIfDone(upcoming: benchmark.scaledIterations.count)
        let dt = box.state!.dt
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try box.state!.batch.step(dt: dt) }
        benchmark.stopMeasurement()
        box.state!.done += benchmark.scaledIterations.count
    } setup: {
        let job = workload(name)
        guard var algorithm = job.simulation.algorithm as? FewestSwitchesSurfaceHopping else {
            fatalError("workload \(name) is not surface hopping")
        }
        if let plan { algorithm.forcedStepPlan = plan.plan }
        box.state = try StepState(job: job) {
            try SurfaceHoppingBatch(
                algorithm: algorithm, model: job.simulation.model,
                grid: job.simulation.timeGrid, seeds: firstBatchSeeds(job),
                initialWavefunction: job.simulation.initialWavefunction)
        }
    }
}
