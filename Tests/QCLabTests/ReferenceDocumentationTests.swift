import Foundation
import XCTest
@testable import QCLab

/// docs/Reference.md against what the program knows.
///
/// Every model with its constants, defaults, allowed values and initial distributions (from the
/// models' own code), every algorithm and simulation setting (the catalog, itself checked against
/// the job parser), and every dataset of the output file. `qclab init`'s jobs parse into the
/// defaults they claim.
final class ReferenceDocumentationTests: XCTestCase {
    static let reference: [String] = {
        let url = DocumentationSnippetTests.root.appendingPathComponent("docs/Reference.md")
        return ((try? String(contentsOf: url, encoding: .utf8)) ?? "").components(separatedBy: "\n")
    }()

    /// The lines of the section under `heading` (a whole line such as "## Models"), up to the
    /// next heading of the same or a higher level.
    static func section(_ heading: String) -> [String] {
        guard let start = reference.firstIndex(of: heading) else { return [] }
        let level = heading.prefix { $0 == "#" }.count
        var lines: [String] = []
        for line in reference[(start + 1)...] {
            let hashes = line.prefix { $0 == "#" }.count
            if hashes > 0 && hashes <= level && line.dropFirst(hashes).hasPrefix(" ") { break }
            lines.append(line)
        }
        return lines
    }

    /// The `### ` headings within lines.
    static func subheadings(_ lines: [String]) -> [String] {
        lines.filter { $0.hasPrefix("### ") }.map { String($0.dropFirst(4)) }
    }

    /// The body rows of the tables within lines, as cells with code quotes removed.
    static func rows(_ lines: [String]) -> [[String]] {
        lines.filter { $0.hasPrefix("| `") }.map { line in
            line.replacingOccurrences(of: "\\|", with: "\u{1}").split(separator: "|").map {
                $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "")
                    .replacingOccurrences(of: "\u{1}", with: "|")
            }
        }
    }

    /// The names an error lists as known, when `body` throws ``QCLabError/unknownName(kind:name:known:)``.
    func knownNames(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            try body()
            XCTFail("no error", file: file, line: line)
        } catch let QCLabError.unknownName(_, _, known) {
            return known
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
        return []
    }

    func testTheReferenceExists() {
        XCTAssertGreaterThan(Self.reference.count, 100, "docs/Reference.md")
    }

    func testEveryModelWithItsConstantsDefaultsAndInitialDistributions() throws {
        let models = Self.section("## Models")
        XCTAssertEqual(
            Self.subheadings(models), ModelRegistry.builtInNames, "one section per model, in the registry's order")
        // The built-in models only: other tests register models of their own in this process.
        for description in try ModelRegistry.builtInNames.map(ModelRegistry.describe) {
            let lines = Self.section("### \(description.name)")
            let documented = Self.rows(lines).map { Array($0.prefix(3)) }
            let actual = description.constants.map { constant -> [String] in
                if case .whole = constant.kind {
                    return [constant.name, constant.defaultValue.json(whole: true), constant.allowedValues]
                }
                return [constant.name, constant.defaultValue.json(), constant.allowedValues]
            }
            XCTAssertEqual(documented, actual, description.name)
            let distributions = description.initialDistributions.map {
                "`\($0.rawValue)`" + ($0 == description.defaultInitialDistribution ? " (default)" : "")
            }
            let expected = "`init_classical`: " + distributions.joined(separator: ", ")
            XCTAssertTrue(lines.contains(expected), "\(description.name): no line '\(expected)'")
            XCTAssertTrue(
                lines.contains { $0.contains("it has \(description.defaultStateCount) quantum states") },
                description.name)
        }
        // The init_classical table names every distribution.
        XCTAssertEqual(
            Self.rows(Self.section("### `model.init_classical`")).map(\.[0]),
            InitialClassicalDistribution.allCases.map(\.rawValue))
    }

    func testEveryAlgorithmAndSettingAsTheParserTakesThem() throws {
        let catalog = JobCatalog.algorithms
        XCTAssertEqual(Self.subheadings(Self.section("## Algorithms")), catalog.map(\.name))
        func job(_ algorithm: String) -> Data { Data(BadJob.job(algorithm: algorithm).utf8) }
        XCTAssertEqual(
            Array(knownNames { _ = try Job(json: job(#"{"name": "Nope"}"#)) }.prefix(catalog.count)),
            catalog.map(\.name),
            "the catalog names every algorithm the parser knows")
        XCTAssertEqual(AlgorithmRegistry.builtInNames, catalog.map(\.name))
        for algorithm in catalog {
            let documented = Self.rows(Self.section("### \(algorithm.name)")).map { Array($0.prefix(3)) }
            XCTAssertEqual(
                documented, algorithm.settings.map { [$0.name, $0.defaultJSON, $0.allowedValues] }, algorithm.name)
            XCTAssertEqual(
                knownNames { _ = try Job(json: job(#"{"name": "\#(algorithm.name)", "settings": {"nope": 1}}"#)) },
                algorithm.settings.map(\.name), "\(algorithm.name): the parser's settings")
            // Every default, written out, gives the algorithm that leaving it out gives.
            let written = algorithm.settings.map { "\"\($0.name)\": \($0.defaultJSON)" }.joined(separator: ", ")
            let explicit = try Job(json: job(#"{"name": "\#(algorithm.name)", "settings": {\#(written)}}"#)).simulation
                .algorithm
            let implicit = try Job(json: job(#"{"name": "\#(algorithm.name)"}"#)).simulation.algorithm
            XCTAssertEqual(String(reflecting: explicit), String(reflecting: implicit), algorithm.name)
            // Each listed value of a setting with named values parses; anything else is refused naming them.
            for setting in algorithm.settings where setting.allowedValues.contains(" | ") {
                let values = setting.allowedValues.components(separatedBy: " | ")
                for value in values {
                    XCTAssertNoThrow(
                        try Job(
                            json: job(
                                #"{"name": "\#(algorithm.name)", "settings": {"\#(setting.name)": "\#(value)"}}"#)))
                }
                XCTAssertEqual(
                    knownNames {
                        _ = try Job(
                            json: job(#"{"name": "\#(algorithm.name)", "settings": {"\#(setting.name)": "x"}}"#))
                    },
                    values)
            }
            // A whole-number setting takes both ends of its range and nothing beyond them or between whole numbers.
            for setting in algorithm.settings where setting.allowedValues.hasPrefix("whole number ") {
                let bounds = setting.allowedValues.dropFirst("whole number ".count).components(separatedBy: "...")
                    .compactMap { Int($0) }
                XCTAssertEqual(bounds.count, 2, "\(setting.name): '\(setting.allowedValues)'")
                guard bounds.count == 2 else { continue }
                func parse(_ value: String) throws {
                    _ = try Job(
                        json: job(#"{"name": "\#(algorithm.name)", "settings": {"\#(setting.name)": \#(value)}}"#))
                }
                XCTAssertNoThrow(try parse("\(bounds[0])"), setting.name)
                XCTAssertNoThrow(try parse("\(bounds[1])"), setting.name)
                for refused in ["\(bounds[0] - 1)", "\(bounds[1] + 1)", "\(bounds[0]).5", "true"] {
                    XCTAssertThrowsError(try parse(refused), "\(setting.name): \(refused)")
                }
            }
            for setting in algorithm.settings where setting.allowedValues == "true or false" {
                for value in ["true", "false"] {
                    XCTAssertNoThrow(
                        try Job(
                            json: job(#"{"name": "\#(algorithm.name)", "settings": {"\#(setting.name)": \#(value)}}"#))
                    )
                }
                XCTAssertThrowsError(
                    try Job(json: job(#"{"name": "\#(algorithm.name)", "settings": {"\#(setting.name)": 1}}"#)),
                    setting.name)
            }
        }
    }

    /// The backquoted names of a line (`t`, `dm_db`, ...).
    static func quotedNames(_ line: String) -> [String] {
        line.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
    }

    /// The outputs each algorithm collects by itself, as its own code declares them.
    func testEachAlgorithmsOwnOutputs() throws {
        let outputs = Self.section("## Outputs")
        let model = SpinBoson(A: 4)
        for name in JobCatalog.algorithms.map(\.name) {
            let rows = outputs.filter { $0.hasPrefix("| \(name) |") }
            XCTAssertEqual(rows.count, 1, "one row for \(name) in the table of the algorithms' outputs")
            guard let row = rows.first else { continue }
            let algorithm = try AlgorithmRegistry.make(name: name)
            XCTAssertEqual(Self.quotedNames(row), algorithm.defaultOutputs(for: model).map(\.name), name)
        }
    }

    /// The `outputs` table: every built-in extra output, with its shape and the algorithms
    /// that give it, as a run gives them; the others refuse it.
    func testEveryExtraOutputWithItsShapeAndAlgorithms() throws {
        let rows = Self.rows(Self.section("### `outputs`: extra outputs"))
        XCTAssertEqual(rows.map(\.[0]), OutputRegistry.builtInNames)
        let model = SpinBoson(A: 3)
        let settings = SimulationSettings(tmax: 0.2, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 2, batchSize: 2)
        let algorithms = JobCatalog.algorithms.map(\.name)
        for row in rows where row.count >= 3 {
            let symbols = ["T": 3, "N": model.numQuantumStates, "C": model.numClassicalCoordinates]
            let shape = row[1].trimmingCharacters(in: CharacterSet(charactersIn: "()")).components(separatedBy: ",")
                .map { symbols[$0.trimmingCharacters(in: .whitespaces)] ?? -1 }
            let giving =
                row[2] == "all"
                ? algorithms : row[2].components(separatedBy: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            XCTAssertTrue(Set(giving).isSubset(of: algorithms), "\(row[0]): '\(row[2])'")
            for name in algorithms {
                var simulation = Simulation(
                    settings: settings, model: model, algorithm: try AlgorithmRegistry.make(name: name),
                    initialWavefunction: [Complex(1), Complex(0)])
                simulation.outputs = [try OutputRegistry.make(row[0], model: model)]
                if giving.contains(name) {
                    let data = try serialDriver(simulation)
                    let observable = data.observables.first { $0.name == row[0] }
                    XCTAssertEqual(observable?.shape, shape, "\(row[0]) with \(name)")
                } else {
                    XCTAssertThrowsError(try serialDriver(simulation), "\(row[0]) with \(name)")
                }
            }
        }
    }

    /// Every command-line option of `qclab run`, every environment variable the program
    /// reads and every MPI launcher variable it recognises is in the reference.
    func testTheCommandLineAndItsEnvironment() throws {
        let text = Self.reference.joined(separator: "\n")
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-reference-cli")
        for (command, known) in [
            ("run", ["--seeds", "--checkpoint", "--append", "--driver"]),
            ("merge", ["--output", "--require-contiguous"]),
        ] {
            let help = try QCLabCLI.run([command, "--help"], in: folder)
            let options = Set(
                help.output.components(
                    separatedBy: CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-")).inverted
                ).filter { $0.hasPrefix("--") })
            XCTAssertTrue(options.isSuperset(of: known), "\(options)")
            for option in options where option != "--help" {
                XCTAssertTrue(text.contains(option), "\(option) of `qclab \(command)` is not in docs/Reference.md")
            }
        }
        // The variables the sources read from the environment.
        var variables = Set<String>()
        for folder in ["Sources/qclab", "Sources/QCLab", "Sources/QCLabMPI"] {
            let url = DocumentationSnippetTests.root.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(atPath: url.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let source = try String(contentsOf: url.appendingPathComponent(file), encoding: .utf8)
                // Read directly, or through the strict parser of the time settings.
                for marker in ["environment[\"", "EnvironmentSettings.seconds(\""] {
                    for piece in source.components(separatedBy: marker).dropFirst() {
                        variables.insert(String(piece.prefix { $0 != "\"" }))
                    }
                }
            }
        }
        XCTAssertTrue(
            variables.isSuperset(of: [
                "QCLAB_CHECKPOINT_INTERVAL", "QCLAB_WORKER_STALL_SECONDS", "QCLAB_INPUT_CHECK_SECONDS",
                "QCLAB_RASTERIZER_SECONDS", "OMPI_COMM_WORLD_SIZE",
            ]),
            "\(variables.sorted())")
        // PATH only locates rsvg-convert for `qclab plot`.
        for variable in variables.subtracting(["PATH"]) {
            XCTAssertTrue(text.contains("`\(variable)`"), "\(variable) is read but not in docs/Reference.md")
        }
        XCTAssertTrue(text.contains("`Step plan:"), "the step plan line of the log")
    }

    func testSimulationSettingsAndTheirDefaults() throws {
        let catalog = JobCatalog.simulationSettings
        let documented = Self.rows(Self.section("### Simulation settings")).map { Array($0.prefix(3)) }
        XCTAssertEqual(
            documented,
            catalog.map {
                [$0.name, $0.defaultValue.json(whole: $0.allowedValues.hasPrefix("whole")), $0.allowedValues]
            })
        XCTAssertEqual(
            knownNames { _ = try Job(json: Data(BadJob.job(settings: #"{"nope": 1}"#).utf8)) }, catalog.map(\.name))
        let parsed = try Job(json: Data(BadJob.job(settings: "{}").utf8)).simulation.settings
        let defaults: [String: ParameterValue] = [
            "tmax": .number(parsed.tmax), "dt_update": .number(parsed.dtUpdate),
            "dt_collect": .number(parsed.dtCollect),
            "num_trajs": .number(Double(parsed.numTrajs)), "batch_size": .number(Double(parsed.batchSize)),
            "progress_bar": .bool(parsed.progressBar),
        ]
        for setting in catalog { XCTAssertEqual(defaults[setting.name], setting.defaultValue, setting.name) }
        // QC Lab 1.3.0's defaults.
        XCTAssertEqual(
            catalog.map(\.defaultValue),
            [.number(10), .number(0.001), .number(0.1), .number(100), .number(25), .bool(true)])
    }

    /// `qclab init`'s job for every model and algorithm parses, into the default model.
    func testInitJobsParseIntoTheDefaults() throws {
        for name in ModelRegistry.builtInNames {
            for algorithm in JobCatalog.algorithms.map(\.name) {
                let text = try JobCatalog.defaultJob(model: name, algorithm: algorithm)
                let job = try Job(json: Data(text.utf8))
                XCTAssertEqual(
                    String(reflecting: job.simulation.model), String(reflecting: try ModelRegistry.make(name: name)),
                    name)
                XCTAssertEqual(job.simulation.initialWavefunction.first, Complex(1))
                XCTAssertEqual(job.simulation.warnings, [], "\(name): a job run as written")
            }
        }
        XCTAssertThrowsError(try JobCatalog.defaultJob(model: "SpinBosun", algorithm: "MeanField"))
        XCTAssertThrowsError(try JobCatalog.defaultJob(model: "SpinBoson", algorithm: "Redfield"))
    }

    func testEveryDatasetOfTheOutputFile() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-reference")
        let settings = SimulationSettings(tmax: 0.2, dtUpdate: 0.01, dtCollect: 0.1, numTrajs: 2, batchSize: 2)
        var simulation = Simulation(
            settings: settings, model: SpinBoson(A: 4), algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: [Complex(1), Complex(0)])
        simulation.outputs = try OutputRegistry.builtInNames.map {
            try OutputRegistry.make($0, model: simulation.model)
        }
        let data = try serialDriver(simulation)
        let path = folder.appendingPathComponent("out.h5").path
        try data.save(to: path, mergeable: true)
        let written = Set(try SimulationData.datasetNames(inFileAt: path))
        var documented = Set<String>()
        let rows = Self.rows(Self.section("## The output file (HDF5)"))
        for row in rows where !row[0].hasPrefix("<name>") { documented.insert(row[0]) }
        XCTAssertTrue(rows.contains { $0[0] == "<name>_sem" })
        XCTAssertTrue(rows.contains { $0[0] == "<name>_exact" })
        for output in data.observables.map(\.name) {
            if output != "t" { documented.insert(output + "_sem") }
            documented.insert(output + "_exact")
        }
        XCTAssertEqual(written, documented)
        // Types and shapes as documented.
        let shapes = Dictionary(uniqueKeysWithValues: rows.map { ($0[0], $0[2]) })
        for observable in data.observables {
            let documentedShape = shapes[observable.name] ?? ""
            let axes = documentedShape.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",")
                .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            XCTAssertEqual(axes.count, observable.shape.count, observable.name)
        }
    }
}
