import Foundation
import XCTest
@testable import QCLab
@testable import QCLabCore

/// Model and algorithm names as a new user types them.
///
/// Any case, QC Lab's module names (`spin_boson`), aliases (`fssh`, `mf`, `msmash`, `mft`), and
/// "did you mean" for a typo; in job files, `qclab init`, `qclab models` and the registries.
/// Results and records carry the canonical names.
final class NameMatchingTests: XCTestCase {
    func folder() throws -> URL { try QCLabCLI.temporaryFolder(self, "qclab-names") }

    func write(_ text: String, _ name: String, in folder: URL) throws {
        try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    func testEditDistanceAndSuggestions() {
        XCTAssertEqual(NameMatching.editDistance("", "abc"), 3)
        XCTAssertEqual(NameMatching.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(NameMatching.editDistance("spinbosun", "spinboson"), 1)
        XCTAssertEqual(NameMatching.editDistance("abc", "abc"), 0)
        let models = ModelRegistry.builtInNames, algorithms = AlgorithmRegistry.builtInNames
        XCTAssertEqual(NameMatching.suggestions(for: "SpinBosun", among: models), ["SpinBoson"])
        XCTAssertEqual(NameMatching.suggestions(for: "TullyProblemFour", among: models), ["TullyProblemOne"])
        XCTAssertEqual(
            NameMatching.suggestions(for: "Tully4", among: models),
            ["TullyProblemOne", "TullyProblemTwo", "TullyProblemThree"], "ties are all named")
        XCTAssertEqual(
            NameMatching.suggestions(for: "fsh", among: algorithms), ["FewestSwitchesSurfaceHopping"], "near an alias")
        XCTAssertEqual(
            NameMatching.suggestions(for: "smash", among: algorithms), ["MultiStateMappingApproachToSurfaceHopping"])
        XCTAssertEqual(
            NameMatching.suggestions(for: "holst", among: models),
            ["HolsteinLattice", "HolsteinLatticeReciprocalSpace"],
            "a prefix")
        XCTAssertEqual(
            NameMatching.suggestions(for: "Redfield", among: algorithms), [], "nothing close: no suggestion")
        XCTAssertEqual(NameMatching.didYouMean("Redfield", among: algorithms), "")
    }

    func testRegistriesAcceptCaseSeparatorsAndAliases() throws {
        let models: [(String, String)] = [
            ("SpinBoson", "SpinBoson"), ("spinboson", "SpinBoson"), ("SPIN_BOSON", "SpinBoson"),
            ("spin-boson", "SpinBoson"),
            ("tully1", "TullyProblemOne"), ("Tully_2", "TullyProblemTwo"),
            ("tully problem three", "TullyProblemThree"),
            ("fmo", "FMOComplex"), ("fmo_complex", "FMOComplex"), ("holstein", "HolsteinLattice"),
            ("holstein_lattice_reciprocal_space", "HolsteinLatticeReciprocalSpace"),
            ("complex_avoided_crossing_b", "ComplexAvoidedCrossingB"),
        ]
        for (given, canonical) in models {
            XCTAssertEqual(try ModelRegistry.canonicalName(given), canonical, given)
            XCTAssertEqual(try ModelRegistry.make(name: given).modelName, canonical, given)
        }
        let algorithms: [(String, String)] = [
            ("mf", "MeanField"), ("MFT", "MeanField"), ("mean_field", "MeanField"), ("Ehrenfest", "MeanField"),
            ("fssh", "FewestSwitchesSurfaceHopping"), ("FSSH", "FewestSwitchesSurfaceHopping"),
            ("fewest_switches_surface_hopping", "FewestSwitchesSurfaceHopping"),
            ("msmash", "MultiStateMappingApproachToSurfaceHopping"),
            ("MSMASH", "MultiStateMappingApproachToSurfaceHopping"),
        ]
        for (given, canonical) in algorithms {
            XCTAssertEqual(try AlgorithmRegistry.canonicalName(given), canonical, given)
            XCTAssertEqual(try AlgorithmRegistry.make(name: given).algorithmName, canonical, given)
        }
        // An alias of a model that is not registered matches nothing.
        XCTAssertNil(NameMatching.resolve("lvc", among: ["SpinBoson"], aliases: NameMatching.modelAliases))
        // Two registered names that differ only in case: each exactly, neither loosely.
        XCTAssertEqual(NameMatching.resolve("Abc", among: ["abc", "Abc"], aliases: [:]), "Abc")
        XCTAssertNil(NameMatching.resolve("ABC", among: ["abc", "Abc"], aliases: [:]))
        // Outputs name datasets: exact names only, with a suggestion.
        XCTAssertThrowsError(try OutputRegistry.make("Q", model: SpinBoson())) { error in
            XCTAssertEqual(
                "\(error)",
                "unknown output 'Q'; did you mean 'q'? (known: q, p, adiabatic_populations, active_surface_populations)"
            )
        }
        XCTAssertThrowsError(try ModelRegistry.make(name: "SpinBosun")) { error in
            XCTAssertEqual(
                error as? QCLabError, .unknownName(kind: "model", name: "SpinBosun", known: ModelRegistry.names))
            XCTAssertTrue(
                "\(error)".hasPrefix("unknown model 'SpinBosun'; did you mean 'SpinBoson'? (known: SpinBoson, "),
                "\(error)")
        }
    }

    /// Every alias stands for its name, is listed by `qclab models` and documented in
    /// docs/Reference.md; no alias is also another name's spelling.
    func testEveryAliasResolvesAndIsListedAndDocumented() throws {
        let reference = try String(
            contentsOf: DocumentationSnippetTests.root.appendingPathComponent("docs/Reference.md"), encoding: .utf8)
        let models = try QCLabCLI.run(["models"], in: try folder())
        XCTAssertEqual(models.status, 0, models.errors)
        for (list, names, resolve) in [
            (NameMatching.modelAliasList, ModelRegistry.names, ModelRegistry.canonicalName),
            (NameMatching.algorithmAliasList, AlgorithmRegistry.names, AlgorithmRegistry.canonicalName),
        ] {
            for (alias, name) in list {
                XCTAssertTrue(reference.contains("`\(alias)`"), "docs/Reference.md names the alias \(alias)")
                XCTAssertFalse(
                    names.contains { NameMatching.normalized($0) == NameMatching.normalized(alias) },
                    "\(alias) is a name")
                guard names.contains(name) else { continue }  // a model this build does not have
                XCTAssertEqual(try resolve(alias), name, alias)
                XCTAssertEqual(try resolve(alias.uppercased()), name, alias)
                let aliases = list.filter { $0.name == name }.map(\.alias).joined(separator: ", ")
                XCTAssertTrue(
                    models.output.contains("\n\(name)  (") && models.output.contains("\n  aliases: \(aliases)\n"),
                    "qclab models lists \(name)'s aliases: \(aliases)")
            }
        }
        let one = try QCLabCLI.run(["models", "tully1"], in: try folder())
        XCTAssertTrue(
            one.output.hasPrefix(
                "\nTullyProblemOne  (2 quantum states with the defaults)\n  aliases: tully1, tully_one, tully_problem_1\n"
            ),
            one.output)
    }

    /// Every model and algorithm class of QC Lab 1.3.0 (read from the installed package)
    /// resolves to itself, also lowercased and in QC Lab's snake_case module style; the
    /// ab initio ones, which need a quantum chemistry program, are the only exceptions.
    func testEveryQCLabClassNameResolves() throws {
        let python = try TestEnvironment.requirePython()
        let outcome = try QCLabCLI.run(
            [
                "-c",
                """
                import inspect, qclab.models, qclab.algorithms
                from qclab.model import Model
                from qclab.algorithm import Algorithm
                for kind, module, base in (("model", qclab.models, Model), ("algorithm", qclab.algorithms, Algorithm)):
                    for name, cls in sorted(inspect.getmembers(module, inspect.isclass)):
                        if issubclass(cls, base) and cls is not base:
                            print(kind, name)
                """,
            ], in: try folder(), program: python)
        XCTAssertEqual(outcome.status, 0, outcome.errors)
        let classes = outcome.output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertGreaterThanOrEqual(classes.count, 13, outcome.output)
        let notAvailable: Set = ["AbInitio", "MeanFieldAbInitio", "FewestSwitchesSurfaceHoppingAbInitio"]
        for entry in classes {
            let (kind, name) = (entry[0], entry[1])
            let resolve = kind == "model" ? ModelRegistry.canonicalName : AlgorithmRegistry.canonicalName
            if notAvailable.contains(name) {
                XCTAssertThrowsError(try resolve(name), name)
                continue
            }
            let snake = name.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression)
                .lowercased()
            for spelling in [name, name.lowercased(), name.uppercased(), snake] {
                XCTAssertEqual(try resolve(spelling), name, "\(kind) \(spelling)")
            }
        }
    }

    /// A job naming the model and algorithm by alias runs, records the canonical names and
    /// gives the same results to the bit as the job with QC Lab's names; the two outputs merge.
    func testAJobWithAliasesRunsAndRecordsCanonicalNames() throws {
        let folder = try folder()
        let settings = #"{"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 2}"#
        try write(
            BadJob.job(
                settings: settings, model: #"{"name": "spin_boson", "constants": {"A": 4}}"#,
                algorithm: #"{"name": "fssh"}"#, extra: #", "seeds": [0, 1, 2, 3]"#), "alias.json", in: folder)
        try write(
            BadJob.job(
                settings: settings, model: #"{"name": "SpinBoson", "constants": {"A": 4}}"#,
                algorithm: #"{"name": "FewestSwitchesSurfaceHopping"}"#, extra: #", "seeds": [4, 5, 6, 7]"#),
            "canonical.json", in: folder)
        for name in ["alias", "canonical"] {
            let run = try QCLabCLI.run(["run", "\(name).json", "--output", "\(name).h5", "--mergeable"], in: folder)
            XCTAssertEqual(run.status, 0, run.errors)
            XCTAssertEqual(run.errors, "", "no warning for an alias")
        }
        let alias = try SimulationData(contentsOf: folder.appendingPathComponent("alias.h5").path)
        let job = try XCTUnwrap(alias.job)
        XCTAssertTrue(job.contains(#""name": "SpinBoson""#), job)
        XCTAssertTrue(job.contains(#""name": "FewestSwitchesSurfaceHopping""#), job)
        XCTAssertFalse(job.contains("spin_boson") || job.contains("fssh\""), job)
        let expected = try serialDriver(
            Job(
                json: Data(
                    BadJob.job(
                        settings: settings, algorithm: #"{"name": "FewestSwitchesSurfaceHopping"}"#,
                        extra: #", "seeds": [0, 1, 2, 3]"#
                    ).utf8)
            ).simulation, seeds: [0, 1, 2, 3])
        XCTAssertTrue(alias.hasSameResults(as: expected))
        let merge = try QCLabCLI.run(["merge", "alias.h5", "canonical.h5", "--output", "merged.h5"], in: folder)
        XCTAssertEqual(merge.status, 0, merge.errors)
        XCTAssertEqual(merge.output, "wrote merged.h5: 8 trajectories (seeds 0...7) from 2 files\n")
    }

    func testATypoInAJobGetsDidYouMeanInOneLine() throws {
        let folder = try folder()
        let cases: [(model: String, algorithm: String, message: String)] = [
            (
                "SpinBosun", "MeanField",
                "qclab: error: unknown model 'SpinBosun'; did you mean 'SpinBoson'? (known: SpinBoson, "
            ),
            (
                "SpinBoson", "fsh",
                "qclab: error: unknown algorithm 'fsh'; did you mean 'FewestSwitchesSurfaceHopping'? (known: MeanField, "
            ),
            ("SpinBoson", "Redfield", "qclab: error: unknown algorithm 'Redfield' (known: MeanField, "),
        ]
        for (index, item) in cases.enumerated() {
            try write(
                BadJob.job(model: #"{"name": "\#(item.model)"}"#, algorithm: #"{"name": "\#(item.algorithm)"}"#),
                "job\(index).json", in: folder)
            let run = try QCLabCLI.run(["run", "job\(index).json", "--output", "out\(index).h5"], in: folder)
            XCTAssertEqual(run.status, 1)
            XCTAssertEqual(run.errorLines.count, 1, run.errors)
            XCTAssertTrue(run.errors.hasPrefix(item.message), run.errors)
        }
        // A key's typo is suggested the same way.
        try write(BadJob.job(settings: #"{"tmax": 1, "dt_updte": 0.01}"#), "key.json", in: folder)
        let key = try QCLabCLI.run(["run", "key.json", "--output", "key.h5"], in: folder)
        XCTAssertEqual(
            key.errors,
            "qclab: error: unknown key in settings 'dt_updte'; did you mean 'dt_update'? "
                + "(known: tmax, dt_update, dt_collect, num_trajs, batch_size, progress_bar)\n")
        XCTAssertEqual(QCLabCLI.contents(of: folder).filter { $0.hasSuffix(".h5") }, [], "nothing written")
    }

    func testInitAndModelsTakeAnySpelling() throws {
        let folder = try folder()
        let canonical = try QCLabCLI.run(["init", "TullyProblemOne", "FewestSwitchesSurfaceHopping"], in: folder)
        XCTAssertEqual(canonical.status, 0, canonical.errors)
        for (model, algorithm) in [
            ("tully1", "fssh"), ("tully_problem_one", "FSSH"), ("TULLYPROBLEMONE", "fewest-switches-surface-hopping"),
        ] {
            let aliased = try QCLabCLI.run(["init", model, algorithm], in: folder)
            XCTAssertEqual(aliased.status, 0, aliased.errors)
            XCTAssertEqual(aliased.output, canonical.output, "the job carries the canonical names")
        }
        let mf = try QCLabCLI.run(["init", "sb", "mft"], in: folder)
        XCTAssertTrue(
            mf.output.contains(#""name": "SpinBoson""#) && mf.output.contains(#""name": "MeanField""#), mf.output)
        let typo = try QCLabCLI.run(["init", "SpinBoson", "msmsh"], in: folder)
        XCTAssertEqual(typo.status, 1)
        XCTAssertEqual(typo.errorLines.count, 1)
        XCTAssertTrue(
            typo.errors.hasPrefix(
                "qclab: error: unknown algorithm 'msmsh'; did you mean 'MultiStateMappingApproachToSurfaceHopping'?"),
            typo.errors)

        let models = try QCLabCLI.run(["models", "fssh", "spin_boson"], in: folder)
        XCTAssertEqual(models.status, 0, models.errors)
        XCTAssertTrue(models.output.contains("\nSpinBoson  ("), models.output)
        XCTAssertTrue(models.output.contains("\nFewestSwitchesSurfaceHopping  ("), models.output)
        XCTAssertFalse(models.output.contains("MeanField"), models.output)
        let unknown = try QCLabCLI.run(["models", "Tully4"], in: folder)
        XCTAssertEqual(unknown.status, 1)
        XCTAssertEqual(unknown.errorLines.count, 1, unknown.errors)
        XCTAssertTrue(
            unknown.errors.hasPrefix(
                "qclab: error: unknown model or algorithm 'Tully4'; did you mean 'TullyProblemOne', "
                    + "'TullyProblemTwo' or 'TullyProblemThree'?"), unknown.errors)
    }
}
