// Generated from the ```swift blocks of the README, the DocC articles and docs/ by
// DocumentationSnippetTests: do not edit. After editing a document, regenerate with
// QCLAB_UPDATE_SNIPPETS=1 swift test --disable-swift-testing --filter DocumentationSnippetTests
// The functions are compiled, never called: they prove that the documents' code compiles.
// The documents' own layout is kept: the formatter leaves this file alone.
// swift-format-ignore-file

import Foundation
import Logging
import QCLab

// MARK: README.md

private enum Snippets_README_md {
    static func run() throws {
        // README.md, Swift block 1

        var settings = SimulationSettings()      // QC Lab's defaults
        settings.tmax = 10
        settings.dtUpdate = 0.01
        settings.numTrajs = 100

        let simulation = Simulation(
            settings: settings,
            model: try ModelRegistry.make(name: "SpinBoson", constants: ["l_reorg": .number(0.005), "V": .number(0.5)]),
            algorithm: MeanField(),
            initialWavefunction: [Complex(1), Complex(0)])   // initial_state["wf_db"]

        let data = try serialDriver(simulation)

        // QC Lab's data.data_dict["t"], and the populations Re dm_db[k, n, n]:
        let t = data.times
        let populations = data.populations!              // populations[k][n]: state n at time t[k]
        print("P(t = 0) =", populations[0])
        let p0 = data.population(ofState: 0)!            // [Estimate]: value ± standard error, per time
        print("P0(t = \(t.last!)) = \(p0.last!.value) ± \(p0.last!.standardError)")
        let rho = data.dm_db!                            // rho[k][i][j]: Complex<Double>, QC Lab's dm_db[k, i, j]
        let coherence = data.densityMatrixElement(0, 1)! // [Complex<Double>]: dm_db[k, 0, 1], that is rho[k][0][1]
        let energy = data.estimates("quantum_energy")!   // any output, with its error bars
        print("rho01 =", coherence.last!, rho.last![0][1], " E_q =", energy.last!)

        try data.save(to: "spin-boson.h5")       // QC Lab's HDF5 layout, plus <name>_sem
        _ = settings
        _ = simulation
        _ = data
        _ = t
        _ = populations
        _ = p0
        _ = rho
        _ = coherence
        _ = energy
    }
}

// MARK: DocC/AddingAlgorithms.md

private enum Snippets_DocC_AddingAlgorithms_md {
    static func run() throws {
        // DocC/AddingAlgorithms.md, Swift block 1: not compiled: an excerpt of Examples/ReversingFSSH/Sources/ReversingFSSH/ReversingFSSH.swift (the step of its batch), which the tests compile and run
        // DocC/AddingAlgorithms.md, Swift block 2: not compiled: an excerpt of Examples/ReversingFSSH/Sources/ReversingFSSH/ReversingFSSH.swift (its runBatch)
        // DocC/AddingAlgorithms.md, Swift block 3
        AlgorithmRegistry.register("ReversingFSSH") { settings in
            // As strict as the built-in algorithms: an unknown key or a wrong type is an error.
            for key in settings.keys where key != "reverse_frustrated_hops" {
                throw QCLabError.invalidAlgorithmSetting(name: key, reason: "not a setting of ReversingFSSH")
            }
            guard case let .bool(reverse) = settings["reverse_frustrated_hops"] ?? .bool(true) else {
                throw QCLabError.invalidAlgorithmSetting(name: "reverse_frustrated_hops", reason: "must be true or false")
            }
            return ReversingFSSH(reverseFrustratedHops: reverse)
        }
        let job = try Job(contentsOf: "job.json")   // "algorithm": {"name": "ReversingFSSH"}
        let data = try serialDriver(job.simulation, seeds: job.seeds)
        _ = job
        _ = data
        // DocC/AddingAlgorithms.md, Swift block 4: not compiled: an extension, which Swift allows only at file scope (JobRecordTests conforms a model and an algorithm of its own the same way)
    }
}

// MARK: DocC/AddingOutputs.md

private enum Snippets_DocC_AddingOutputs_md {
    static func run() throws {
        // DocC/AddingOutputs.md, Swift block 1
        // The mean position of coordinate 0, per trajectory.
        let q0 = Output(name: "q0", shape: []) { state, values in
            let m = state.model.classicalCoordinateMass[0], h = state.model.classicalCoordinateWeight[0]
            for t in 0..<state.rows { values.re[t] = (2 / (m * h)).squareRoot() * state.z.re[t] }
        }
        let settings = SimulationSettings(tmax: 10, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 100, batchSize: 25)
        var simulation = Simulation(settings: settings, model: SpinBoson(), algorithm: MeanField(),
                                    initialWavefunction: [Complex(1), Complex(0)])
        simulation.outputs = [q0, try OutputRegistry.make("p", model: simulation.model)]
        let data = try serialDriver(simulation)
        let mean = data.mean("q0")!                 // at each collect time
        let errorBar = data.standardError("q0")!    // its standard error
        _ = q0
        _ = settings
        _ = simulation
        _ = data
        _ = mean
        _ = errorBar
    }
}

// MARK: DocC/GettingStarted.md

private enum Snippets_DocC_GettingStarted_md {
    static func run() throws {
        // DocC/GettingStarted.md, Swift block 1: not compiled: a fragment of your own package's Package.swift
        // DocC/GettingStarted.md, Swift block 2

        var settings = SimulationSettings()      // QC Lab's defaults
        settings.tmax = 10
        settings.dtUpdate = 0.01
        settings.numTrajs = 100

        let simulation = Simulation(
            settings: settings,
            model: try ModelRegistry.make(name: "SpinBoson", constants: ["l_reorg": .number(0.005), "V": .number(0.5)]),
            algorithm: MeanField(),
            initialWavefunction: [Complex(1), Complex(0)])   // initial_state["wf_db"]

        let data = try serialDriver(simulation)

        // QC Lab's data.data_dict["t"], and the populations Re dm_db[k, n, n]:
        let t = data.times
        let populations = data.populations!              // populations[k][n]: state n at time t[k]
        print("P(t = 0) =", populations[0])
        let p0 = data.population(ofState: 0)!            // [Estimate]: value ± standard error, per time
        print("P0(t = \(t.last!)) = \(p0.last!.value) ± \(p0.last!.standardError)")
        let rho = data.dm_db!                            // rho[k][i][j]: Complex<Double>, QC Lab's dm_db[k, i, j]
        let coherence = data.densityMatrixElement(0, 1)! // [Complex<Double>]: dm_db[k, 0, 1], that is rho[k][0][1]
        let energy = data.estimates("quantum_energy")!   // any output, with its error bars
        print("rho01 =", coherence.last!, rho.last![0][1], " E_q =", energy.last!)

        try data.save(to: "spin-boson.h5")       // QC Lab's HDF5 layout, plus <name>_sem
        _ = settings
        _ = simulation
        _ = data
        _ = t
        _ = populations
        _ = p0
        _ = rho
        _ = coherence
        _ = energy
        // DocC/GettingStarted.md, Swift block 3
        let model = try ModelRegistry.make(name: "SpinBoson",
                                           constants: ["V": .number(0.5), "l_reorg": .number(0.005)])
        _ = model
        // DocC/GettingStarted.md, Swift block 4
        let more = try serialDriver(simulation, data: data)   // seeds 100...199 added to 0...99
        _ = more
        // DocC/GettingStarted.md, Swift block 5

        QCLabLogging.logger = Logger(label: "qclab")   // its lines go where your LoggingSystem sends them
    }
}

// MARK: DocC/UserDefinedModels.md

private enum Snippets_DocC_UserDefinedModels_md {
    static func run() throws {
        // DocC/UserDefinedModels.md, Swift block 1
        struct DoubleWell: ThermalModel, JobRecordable {
            var modelName: String { "DoubleWell" }
            var numQuantumStates: Int { 2 }
            var numClassicalCoordinates: Int { 1 }
            var classicalCoordinateMass: [Double] { [1.0] }
            var classicalCoordinateWeight: [Double] { [1.0] }
            var kBT = 0.5, a = 1.0, b = 0.25, c = 0.2, gap = 0.5, tunneling = 0.1

            /// `q` and `∂q/∂z* = 1/sqrt(2 m h)` for `m = h = 1`.
            private func position(_ z: Complex<Double>) -> Double { 2.0.squareRoot() * z.real }
            private let dqdzc = 0.5.squareRoot()

            func quantumHamiltonian(z: ComplexBatch, into h: inout ComplexBatch) {
                for t in 0..<z.batchSize {
                    let q = position(z[0, t])
                    (h[0, t], h[1, t], h[2, t], h[3, t]) = (Complex(gap + c * q), Complex(tunneling),
                                                            Complex(tunneling), Complex(-gap - c * q))
                }
            }
            func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch) {
                for t in 0..<z.batchSize {
                    force[0, t] = Complex(c * dqdzc * (psi[0, t].lengthSquared - psi[1, t].lengthSquared))
                }
            }
            func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>]) -> [Complex<Double>] {
                [(u[0].conjugate * v[0]).multiplied(by: c * dqdzc) - (u[1].conjugate * v[1]).multiplied(by: c * dqdzc)]
            }
            func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) {
                for t in 0..<z.batchSize {
                    let q = position(z[0, t]), p = 2.0.squareRoot() * z[0, t].imaginary
                    energy[t] = 0.5 * p * p + b * (q * q - a * a) * (q * q - a * a)
                }
            }
            func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
                for t in 0..<z.batchSize {
                    let q = position(z[0, t])
                    force[0, t] = Complex(4 * b * q * (q * q - a * a) * dqdzc, z[0, t].imaginary)
                }
            }
        }
        // DocC/UserDefinedModels.md, Swift block 2

        struct DonorBridgeAcceptor: DiagonalLinearHarmonicModel, JobRecordable {
            var modelName: String { "DonorBridgeAcceptor" }
            var numQuantumStates: Int { 3 }
            let bath: HarmonicBath
            let coupling: DiagonalLinearCoupling
            let constantHamiltonian: [Complex<Double>]

            init(energies: [Double] = [0.5, 1.0, -0.5], donorBridge: Double = 0.3, bridgeAcceptor: Double = 0.3,
                 reorganization: Double = 0.1, cutoff: Double = 0.2, modes: Int = 20, kBT: Double = 1.0) {
                // Debye spectral density discretized as in QC Lab's spin-boson model.
                let frequency: [Double] = (0..<modes).map { j in
                    cutoff * tan((Double(j) + 0.5) * Double.pi / (2 * Double(modes)))
                }
                let scale = (2 * reorganization / Double(modes)).squareRoot()
                let gamma: [Double] = frequency.map { w in w * scale / (2 * w).squareRoot() }
                let all = frequency + frequency + frequency
                bath = HarmonicBath(frequency: all, mass: Array(repeating: 1, count: all.count), weight: all, kBT: kBT)
                let zeros = Array(repeating: 0.0, count: modes)
                coupling = DiagonalLinearCoupling(gamma: [gamma + zeros + zeros, zeros + gamma + zeros, zeros + zeros + gamma])
                constantHamiltonian = [energies[0], donorBridge, 0,
                                       donorBridge, energies[1], bridgeAcceptor,
                                       0, bridgeAcceptor, energies[2]].map { Complex($0) }
            }
        }
        // DocC/UserDefinedModels.md, Swift block 3
        struct SwiftTullyOne: TwoStateScatteringModel, JobRecordable {
            var modelName: String { "SwiftTullyOne" }
            var mass = 2000.0, initPosition = -5.0, initMomentum = 10.0
            var A = 0.01, B = 1.6, C = 0.005, D = 1.0

            func diabatic(positions q: [Double], into s: inout ScatteringSurfaces) {
                for t in q.indices {
                    let decay = exp(-B * abs(q[t])), gaussian = exp(-D * q[t] * q[t])   // e^{-B|q|}, e^{-Dq²}
                    let v11 = q[t] >= 0 ? A * (1 - decay) : -A * (1 - decay)
                    (s.v11[t], s.v12[t], s.v22[t]) = (v11, C * gaussian, -v11)
                    (s.d11[t], s.d12[t], s.d22[t]) = (A * B * decay, -2 * C * D * q[t] * gaussian, -A * B * decay)
                }
            }
        }
        // DocC/UserDefinedModels.md, Swift block 4: not compiled: an outline with the bodies left out; the whole model is Examples/ThreeStateModel and Tests/QCLabTests/ThreeStateCrossing.swift
        // DocC/UserDefinedModels.md, Swift block 5
        ModelRegistry.register("ThreeStateCrossing") { constants, distribution in
            var model = ThreeStateCrossing()
            if case let .number(p)? = constants["init_momentum"] { model.initMomentum = p }
            return model                         // reject unknown constants with a QCLabError
        }
        let job = try Job(contentsOf: "three-state.json")   // "model": {"name": "ThreeStateCrossing"}
        _ = job
        // DocC/UserDefinedModels.md, Swift block 6: not compiled: an extension, which Swift allows only at file scope (JobRecordTests conforms a model and an algorithm of its own the same way)
        // DocC/UserDefinedModels.md, Swift block 7
        let simulation = Simulation(
            settings: SimulationSettings(tmax: 2000, dtUpdate: 0.5, dtCollect: 10, numTrajs: 200, batchSize: 50),
            model: ThreeStateCrossing(),
            algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: [Complex(1), Complex(0), Complex(0)])
        let data = try parallelDriverMultiprocessing(simulation)
        try data.save(to: "three-state.h5")
        _ = simulation
        _ = data
    }
}

// MARK: docs/Guide.md

private enum Snippets_docs_Guide_md {
    static func run() throws {
        // docs/Guide.md, Swift block 1: not compiled: a fragment of your own package's Package.swift
        // docs/Guide.md, Swift block 2
        do {
            let job = try Job(contentsOf: "job.json")
            _ = try serialDriver(job.simulation)
        } catch let error as QCLabError {
            switch error.code {
            case .invalidSetting, .invalidConstant, .unknownName:
                print("fix \(error.culprit ?? "the job"):", error.localizedDescription)
            default:
                print(error.code.rawValue, error.localizedDescription)
            }
        }
    }
}

// MARK: docs/Reference.md

private enum Snippets_docs_Reference_md {
    static func run() throws {
        // docs/Reference.md, Swift block 1

        let data = try SimulationData(contentsOf: "out.h5")
        let populations = data.populations!             // [time][state]
        let p0 = data.population(ofState: 0)!           // value ± standard error at each time
        print(populations.count, p0.last!)
        let rho = data.dm_db!                           // rho[t][i][j]: Complex, as dm_db[t, i, j]
        let errors = data.matrices("dm_db", standardErrors: true)!   // dm_db_sem, shaped the same
        let q = data.vectors("q")                       // q[t][k] when the job collected "q" (else nil)
        print(rho[0][0][0], errors.last![0][1], q?.last ?? [])
        _ = data
        _ = populations
        _ = p0
        _ = rho
        _ = errors
        _ = q
    }
}
