import Foundation
import Logging
import QCLab

// Runs the user-defined ThreeStateCrossing model (ThreeStateCrossing.swift) through
// QCLab's drivers, exactly as the built-in models run, and saves the results in QC Lab's
// HDF5 layout. `qclab info`, `qclab plot` and `qclab merge` read the output like any other.

let arguments = CommandLine.arguments.dropFirst()
let output = arguments.first { !$0.hasPrefix("-") } ?? "three-state.h5"

// QCLab logs every batch through swift-log at level info (the same lines go into the
// output's `log` attribute). Show them with --verbose; otherwise only warnings.
let verbose = arguments.contains("--verbose")
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = verbose ? .info : .warning
    return handler
}

var model = ThreeStateCrossing()
model.initMomentum = 20  // kinetic energy 0.1, far above the 0.02 spread of the asymptotes

let settings = SimulationSettings(tmax: 2000, dtUpdate: 0.5, dtCollect: 10, numTrajs: 200, batchSize: 50)
let simulation = Simulation(
    settings: settings, model: model,
    algorithm: FewestSwitchesSurfaceHopping(),
    initialWavefunction: [Complex(1), Complex(0), Complex(0)])

do {
    // The serial driver: batch after batch in this process.
    let serial = try serialDriver(simulation)
    // The multiprocessing driver: the same batches in forked workers, the same result to the bit.
    let parallel = try parallelDriverMultiprocessing(simulation, numTasks: 2)
    precondition(serial.mean("dm_db") == parallel.mean("dm_db"), "the drivers agree to the bit")

    try parallel.save(to: output)
    // Re dm_db[t, n, n] with its standard error, at the last collect time.
    let final = (0..<3).map { parallel.population(ofState: $0)!.last! }
    print("wrote \(output): \(parallel.normFactor) trajectories of \(model.modelName)")
    for (state, population) in final.enumerated() {
        print(
            String(
                format: "final population of state %d: %.3f ± %.3f", state, population.value, population.standardError)
        )
    }
} catch {
    FileHandle.standardError.write(Foundation.Data("three-state-model: error: \(error)\n".utf8))
    exit(1)
}
