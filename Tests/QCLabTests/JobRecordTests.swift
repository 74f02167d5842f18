import Foundation
import XCTest
@testable import QCLab

/// The job record (the output's root attribute `job`) speaks the job file's language: every
/// built-in model's constants and every built-in algorithm's settings under the names the
/// job parser accepts, so that a record read back as a job runs the same simulation and a
/// refusal to merge names the difference as the job file does.
final class JobRecordTests: XCTestCase {
    // MARK: Built-in models and algorithms

    /// A valid value other than the default: a flag flipped, a whole number plus 2 (an even
    /// `N` stays even), a real number scaled and shifted (a positive one stays positive).
    private func changed(_ constant: ConstantDescription) throws -> ParameterValue {
        switch (constant.kind, constant.defaultValue) {
        case let (.flag, .bool(b)): return .bool(!b)
        case let (.whole(_, maximum), .number(x)): return .number(x + 2 <= Double(maximum) ? x + 2 : x - 2)
        case let (.real, .number(x)): return .number(x * 1.5 + 0.125)
        // Lists (vectors, Hermitian matrices): every number scaled, which keeps a matrix
        // Hermitian and a positive entry positive.
        case let (.structured, .array(items)):
            func scaled(_ value: ParameterValue) -> ParameterValue {
                switch value {
                case let .number(x): return .number(x * 1.5)
                case let .array(items): return .array(items.map(scaled))
                default: return value
                }
            }
            return .array(items.map(scaled))
        case (.structured, .string("boltzmann")): return .string("wigner")
        default: throw TestEnvironment.Missing(description: "the test has no changed value for \(constant)")
        }
    }

    func testBuiltInModelsRecordEveryConstantByTheNameTheJobParserReads() throws {
        for name in ModelRegistry.builtInNames {
            let description = try ModelRegistry.describe(name)
            let defaults = try XCTUnwrap(try ModelRegistry.make(name: name) as? any JobDescribableModel, name)
            XCTAssertEqual(
                defaults.jobConstants,
                Dictionary(uniqueKeysWithValues: description.constants.map { ($0.name, $0.defaultValue) }), name)
            XCTAssertEqual(defaults.initialDistribution, description.defaultInitialDistribution, name)

            let given = Dictionary(uniqueKeysWithValues: try description.constants.map { ($0.name, try changed($0)) })
            let model = try XCTUnwrap(
                try ModelRegistry.make(name: name, constants: given) as? any JobDescribableModel, name)
            XCTAssertEqual(model.jobConstants, given, name)
            for distribution in description.initialDistributions {
                let variant = try ModelRegistry.make(name: name, initialDistribution: distribution)
                XCTAssertEqual((variant as? any JobDescribableModel)?.initialDistribution, distribution, name)
            }
        }
    }

    func testBuiltInAlgorithmsRecordEverySettingByTheNameTheJobParserReads() throws {
        for name in AlgorithmRegistry.builtInNames {
            let defaults = try XCTUnwrap(try AlgorithmRegistry.make(name: name) as? any JobDescribableAlgorithm, name)
            // The parser's own list of the settings it knows, from its refusal of an unknown one.
            XCTAssertThrowsError(try AlgorithmRegistry.make(name: name, settings: ["no_such_setting": .bool(true)])) {
                error in
                guard case let .unknownName(_, _, known)? = error as? QCLabError else { return XCTFail("\(error)") }
                XCTAssertEqual(Set(known), Set(defaults.jobSettings.keys), name)
            }
            let given = nonDefaultSettings(of: defaults)
            let algorithm = try XCTUnwrap(
                try AlgorithmRegistry.make(name: name, settings: given) as? any JobDescribableAlgorithm)
            XCTAssertEqual(algorithm.jobSettings, given, name)
        }
    }

    private func nonDefaultSettings(of algorithm: any JobDescribableAlgorithm) -> [String: JSONValue] {
        algorithm.jobSettings.mapValues { value in
            switch value {
            case let .bool(b): return .bool(!b)
            case let .number(x): return .number(x + 3)
            case .string("sign_overlap"): return .string("phase_overlap")
            default: return value
            }
        }
    }

    /// The record with seeds added, read back as a job file.
    private func readBack(_ simulation: Simulation, seeds: [Int]) throws -> Job {
        let record = try StrictJSON.parse(Array(simulation.jobRecord.utf8))
        guard case var .object(job) = record else { throw QCLabError.malformedJob("the record is not an object") }
        job["seeds"] = .array(seeds.map { .number(Double($0)) })
        // `batch_size` is not recorded (results do not depend on it); deterministic surface
        // hopping needs one that is a multiple of the number of states.
        guard case var .object(settings)? = job["settings"] else { throw QCLabError.malformedJob("no settings") }
        settings["batch_size"] = .number(Double(simulation.settings.batchSize))
        job["settings"] = .object(settings)
        return try Job(json: Foundation.Data(JobRecord.text(.object(job)).utf8))
    }

    /// Runs `simulation` and its record read back as a job, and checks they agree to the bit.
    private func assertRecordRunsTheSameSimulation(_ simulation: Simulation, _ label: String) throws {
        let seeds = [3, 4]
        let job = try readBack(simulation, seeds: seeds)
        XCTAssertEqual(job.simulation.jobRecord, simulation.jobRecord, label)
        XCTAssertEqual(job.seeds, seeds)
        let original = try serialDriver(simulation, seeds: seeds)
        let again = try serialDriver(job.simulation, seeds: job.seeds)
        XCTAssertFalse(original.observables.isEmpty, label)
        XCTAssertEqual(ParallelDriverTests.withoutLog(original), ParallelDriverTests.withoutLog(again), label)
    }

    private func settings(tmax: Double = 0.2, dtUpdate: Double = 0.01) -> SimulationSettings {
        var settings = SimulationSettings()
        (settings.tmax, settings.dtUpdate, settings.dtCollect, settings.numTrajs, settings.batchSize) = (
            tmax, dtUpdate, 0.1, 2, 2
        )
        return settings
    }

    func testEveryBuiltInModelsRecordReadBackAsAJobRunsTheSameSimulation() throws {
        for name in ModelRegistry.builtInNames {
            let description = try ModelRegistry.describe(name)
            let given = Dictionary(uniqueKeysWithValues: try description.constants.map { ($0.name, try changed($0)) })
            // Another distribution than the default where the model takes one.
            let distribution = description.initialDistributions.first { $0 != description.defaultInitialDistribution }
            let model = try ModelRegistry.make(name: name, constants: given, initialDistribution: distribution)
            var wavefunction = [Complex<Double>](repeating: Complex(0), count: model.numQuantumStates)
            wavefunction[0] = Complex(1)
            let simulation = Simulation(
                settings: settings(), model: model, algorithm: MeanField(),
                initialWavefunction: wavefunction, outputs: [try OutputRegistry.make("q", model: model)])
            XCTAssertTrue(simulation.jobRecord.contains(#""outputs": ["q"]"#), simulation.jobRecord)
            if let distribution {
                XCTAssertTrue(
                    simulation.jobRecord.contains(#""init_classical": "\#(distribution.rawValue)""#),
                    simulation.jobRecord)
            }
            try assertRecordRunsTheSameSimulation(simulation, name)
        }
    }

    func testEveryBuiltInAlgorithmsRecordReadBackAsAJobRunsTheSameSimulation() throws {
        let model = try ModelRegistry.make(name: "ComplexAvoidedCrossingA")
        for name in AlgorithmRegistry.builtInNames {
            let defaults = try XCTUnwrap(try AlgorithmRegistry.make(name: name) as? any JobDescribableAlgorithm)
            for settings in [defaults.jobSettings, nonDefaultSettings(of: defaults)] {
                let algorithm = try AlgorithmRegistry.make(name: name, settings: settings)
                let simulation = Simulation(
                    settings: self.settings(tmax: 0.1, dtUpdate: 0.005), model: model,
                    algorithm: algorithm, initialWavefunction: [Complex(1), Complex(0)])
                try assertRecordRunsTheSameSimulation(simulation, "\(name) \(settings)")
            }
        }
    }

    // MARK: Refusals name the job file's keys

    private func spinBosonJob(
        constants: String = "", initClassical: String = "", algorithm: String = #"{"name": "MeanField"}"#,
        outputs: String = ""
    ) throws -> Simulation {
        let json = """
            {"settings": {"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 2, "batch_size": 2},
             "model": {"name": "SpinBoson", "constants": {"A": 4\(constants)}\(initClassical)},
             "algorithm": \(algorithm),
             "initial_state": {"wf_db": [1, 0]}\(outputs)}
            """
        return try Job(json: Foundation.Data(json.utf8)).simulation
    }

    func testMergeAndAppendRefusalsNameTheDifferenceByTheJobFilesKeys() throws {
        let fssh = #"{"name": "FewestSwitchesSurfaceHopping"}"#
        let msmash = #"{"name": "MultiStateMappingApproachToSurfaceHopping"}"#
        let cases: [(Simulation, Simulation, String)] = [
            (
                try spinBosonJob(), try spinBosonJob(constants: #", "l_reorg": 0.01"#),
                "model.constants.l_reorg is 0.005 in 'a.h5' but 0.01 in 'b.h5'"
            ),
            (
                try spinBosonJob(), try spinBosonJob(constants: #", "boson_mass": 2"#),
                "model.constants.boson_mass is 1 in 'a.h5' but 2 in 'b.h5'"
            ),
            (
                try spinBosonJob(), try spinBosonJob(initClassical: #", "init_classical": "wigner_harmonic""#),
                #"model.init_classical is "boltzmann_harmonic" in 'a.h5' but "wigner_harmonic" in 'b.h5'"#
            ),
            (
                try spinBosonJob(algorithm: fssh),
                try spinBosonJob(
                    algorithm:
                        #"{"name": "FewestSwitchesSurfaceHopping", "settings": {"gauge_fixing": "phase_overlap"}}"#),
                #"algorithm.settings.gauge_fixing is "sign_overlap" in 'a.h5' but "phase_overlap" in 'b.h5'"#
            ),
            (
                try spinBosonJob(algorithm: fssh),
                try spinBosonJob(
                    algorithm: #"{"name": "FewestSwitchesSurfaceHopping", "settings": {"fssh_deterministic": true}}"#),
                "algorithm.settings.fssh_deterministic is false in 'a.h5' but true in 'b.h5'"
            ),
            (
                try spinBosonJob(algorithm: msmash),
                try spinBosonJob(
                    algorithm:
                        #"{"name": "MultiStateMappingApproachToSurfaceHopping", "settings": {"msmash_max_hops": 3}}"#),
                "algorithm.settings.msmash_max_hops is 10 in 'a.h5' but 3 in 'b.h5'"
            ),
        ]
        let folder = try temporaryFolder()
        for (first, second, difference) in cases {
            let a = try serialDriver(first, seeds: [0, 1]), b = try serialDriver(second, seeds: [2, 3])
            // Merging files, as `qclab merge` does.
            let pathA = folder.appendingPathComponent("a.h5").path, pathB = folder.appendingPathComponent("b.h5").path
            try a.save(to: pathA)
            try b.save(to: pathB)
            XCTAssertThrowsError(try SimulationData.merging(files: [pathA, pathB])) { error in
                let named = difference.replacingOccurrences(of: "'a.h5'", with: "'\(pathA)'")
                    .replacingOccurrences(of: "'b.h5'", with: "'\(pathB)'")
                XCTAssertEqual("\(error)", "cannot merge data: different jobs: " + named)
            }
            XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("b.h5", b)])) { error in
                XCTAssertEqual("\(error)", "cannot merge data: different jobs: " + difference)
            }
            // Appending, as `--append` does.
            let appended = difference.replacingOccurrences(of: "in 'a.h5'", with: "in the data continued")
                .replacingOccurrences(of: "in 'b.h5'", with: "in this job")
            XCTAssertThrowsError(try serialDriver(second, seeds: [2, 3], data: a)) { error in
                XCTAssertTrue("\(error)".contains(appended), "\(error)")
            }
            // The same job, seeds apart, mixes.
            XCTAssertNoThrow(try serialDriver(first, seeds: [2, 3], data: a))
        }
        // Extra outputs are part of the job too (merging finds the different set of outputs first).
        let plain = try spinBosonJob(), withQ = try spinBosonJob(outputs: #", "outputs": ["q"]"#)
        let d = try XCTUnwrap(JobRecord.difference(plain.jobRecord, withQ.jobRecord))
        XCTAssertEqual([d.path, d.mine, d.theirs], ["outputs", "[]", #"["q"]"#])
    }

    func testARecordOfTheOlderFormatIsNamedAsSuch() throws {
        let current = try spinBosonJob().jobRecord
        // As records were written before they spoke the job file's language.
        let older =
            #"{"algorithm": {"name": "MeanField", "settings": {}}, "initial_state": {"wf_db": [[1, 0], [0, 0]]}, "#
            + #""model": {"constants": {"A": 4, "E": 0.5, "V": 0.5, "W": 0.1, "bosonMass": 1, "kBT": 1, "lReorg": 0.005}, "#
            + #""name": "SpinBoson"}, "settings": {"dt_collect": 0.1, "dt_update": 0.01, "tmax": 0.2}}"#
        let d = try XCTUnwrap(JobRecord.difference(older, current))
        XCTAssertEqual(
            [d.path, d.mine, d.theirs],
            ["the job record", "in an older format (Swift property names)", "in the job file's names"])
        XCTAssertNil(JobRecord.difference(current, current))
    }

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "qclab-jobrecord-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    // MARK: Models and algorithms written in Swift

    func testSwiftModelAndAlgorithmWithoutQCLabNamesAreRecordedByTheirPropertyNames() throws {
        let a = Simulation(
            settings: settings(), model: TwoSiteSwiftModel(reorganization: 0.1),
            algorithm: DampedMeanField(damping: 0),
            initialWavefunction: [Complex(1), Complex(0)])
        let record = try StrictJSON.parse(Array(a.jobRecord.utf8))
        guard case let .object(top) = record, case let .object(model)? = top["model"],
            case let .object(algorithm)? = top["algorithm"]
        else {
            return XCTFail(a.jobRecord)
        }
        guard case let .object(properties)? = model["swift_properties"] else { return XCTFail(a.jobRecord) }
        XCTAssertEqual(properties["reorganization"], .number(0.1))
        XCTAssertEqual(properties["label"], .string("two sites"))
        XCTAssertEqual(
            properties["constantHamiltonian"],
            .array([[0.5, 0], [0.2, 0], [0.2, 0], [-0.5, 0]].map { .array($0.map(JSONValue.number)) }))
        XCTAssertNil(model["constants"])
        XCTAssertNil(model["init_classical"])
        XCTAssertEqual(algorithm["swift_properties"], .object(["damping": .number(0)]))
        XCTAssertNil(algorithm["settings"])

        var b = a
        b.model = TwoSiteSwiftModel(reorganization: 0.2)
        var c = a
        c.algorithm = DampedMeanField(damping: 0.5)
        let dataA = try serialDriver(a, seeds: [0, 1])
        for (other, difference) in [
            (
                b,
                "model.swift_properties.coupling.terms is "
                    + #"[{"coordinate": 0, "gamma": 0.07071067811865477, "state": 0}, {"coordinate": 1, "gamma": 0.07071067811865477, "state": 1}]"#
                    + " in 'a.h5' but "
                    + #"[{"coordinate": 0, "gamma": 0.1, "state": 0}, {"coordinate": 1, "gamma": 0.1, "state": 1}]"#
                    + " in 'b.h5'"
            ),
            (c, "algorithm.swift_properties.damping is 0 in 'a.h5' but 0.5 in 'b.h5'"),
        ] {
            XCTAssertThrowsError(
                try SimulationData.merging([("a.h5", dataA), ("b.h5", try serialDriver(other, seeds: [2, 3]))])
            ) { error in
                XCTAssertEqual("\(error)", "cannot merge data: different jobs: " + difference)
            }
        }
        XCTAssertNoThrow(try serialDriver(a, seeds: [2, 3], data: dataA))
    }

    func testSwiftModelAndAlgorithmThatStateTheirNamesAreRecordedAsTheirJobFilesSayThem() throws {
        ModelRegistry.register("TwoSiteJobModel") { constants, _ in
            var c = ModelConstants(model: "TwoSiteJobModel", constants)
            let model = TwoSiteJobModel(reorganization: try c.double("l_reorg", default: 0.1, .nonNegative))
            try c.finish()
            return model
        }
        AlgorithmRegistry.register("NamedDampedMeanField") { settings in
            try Job.allowOnly(settings, ["damping"], in: "algorithm.settings of NamedDampedMeanField")
            guard case let .number(damping) = settings["damping"] ?? .number(0) else {
                throw QCLabError.invalidAlgorithmSetting(name: "damping", reason: "must be a number")
            }
            return NamedDampedMeanField(inner: DampedMeanField(damping: damping))
        }
        let a = Simulation(
            settings: settings(), model: TwoSiteJobModel(reorganization: 0.1),
            algorithm: NamedDampedMeanField(inner: DampedMeanField(damping: 0.25)),
            initialWavefunction: [Complex(1), Complex(0)])
        XCTAssertTrue(
            a.jobRecord.contains(#""constants": {"l_reorg": 0.1}, "init_classical": "boltzmann_harmonic""#),
            a.jobRecord)
        XCTAssertTrue(a.jobRecord.contains(#""settings": {"damping": 0.25}"#), a.jobRecord)
        try assertRecordRunsTheSameSimulation(a, "TwoSiteJobModel")

        var b = a
        b.model = TwoSiteJobModel(reorganization: 0.2)
        XCTAssertThrowsError(
            try SimulationData.merging([
                ("a.h5", try serialDriver(a, seeds: [0, 1])),
                ("b.h5", try serialDriver(b, seeds: [2, 3])),
            ])
        ) { error in
            XCTAssertEqual(
                "\(error)",
                "cannot merge data: different jobs: model.constants.l_reorg is 0.1 in 'a.h5' but 0.2 in 'b.h5'")
        }
    }
}

/// A model written in Swift that states its job-file constants.
private struct TwoSiteJobModel: DiagonalLinearHarmonicModel, JobDescribableModel {
    var modelName: String { "TwoSiteJobModel" }
    var numQuantumStates: Int { 2 }
    let base: TwoSiteSwiftModel
    var bath: HarmonicBath { base.bath }
    var coupling: DiagonalLinearCoupling { base.coupling }
    var constantHamiltonian: [Complex<Double>] { base.constantHamiltonian }

    init(reorganization: Double) { base = TwoSiteSwiftModel(reorganization: reorganization) }

    var jobConstants: [String: ParameterValue] { ["l_reorg": .number(base.reorganization)] }
}

/// An algorithm written in Swift that states its job-file settings.
private struct NamedDampedMeanField: JobDescribableAlgorithm {
    var algorithmName: String { "NamedDampedMeanField" }
    let inner: DampedMeanField

    var jobSettings: [String: JSONValue] { ["damping": .number(inner.damping)] }
    func branchCount(for model: any Model) -> Int { 1 }
    func defaultOutputs(for model: any Model) -> [Output] { inner.defaultOutputs(for: model) }
    func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData {
        try inner.runBatch(
            model: model, grid: grid, initialWavefunction: initialWavefunction, seeds: seeds, outputs: outputs)
    }
}

/// A model written in Swift, with no QC Lab names: two sites, each coupled to one mode.
private struct TwoSiteSwiftModel: DiagonalLinearHarmonicModel, JobRecordable {
    var modelName: String { "TwoSiteSwiftModel" }
    var numQuantumStates: Int { 2 }
    let reorganization: Double
    let label = "two sites"
    let bath: HarmonicBath
    let coupling: DiagonalLinearCoupling
    let constantHamiltonian: [Complex<Double>]

    init(reorganization: Double) {
        self.reorganization = reorganization
        bath = HarmonicBath(frequency: [0.1, 0.1], mass: [1, 1], weight: [0.1, 0.1], kBT: 1)
        let g = (reorganization * 0.1 / 2).squareRoot()
        coupling = DiagonalLinearCoupling(gamma: [[g, 0], [0, g]])
        constantHamiltonian = [Complex(0.5), Complex(0.2), Complex(0.2), Complex(-0.5)]
    }
}

/// An algorithm written in Swift, with no QC Lab names: mean field with a setting of its own.
private struct DampedMeanField: Algorithm {
    var algorithmName: String { "DampedMeanField" }
    let damping: Double

    func branchCount(for model: any Model) -> Int { 1 }
    func defaultOutputs(for model: any Model) -> [Output] { MeanField().defaultOutputs(for: model) }

    func runBatch(
        model: any Model, grid: TimeGrid, initialWavefunction: [Complex<Double>], seeds: [Int],
        outputs: [Output]
    ) throws -> SimulationData {
        try MeanField().runBatch(
            model: model, grid: grid, initialWavefunction: initialWavefunction, seeds: seeds, outputs: outputs)
    }
}
