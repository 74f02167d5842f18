import Foundation
import XCTest
@testable import QCLab

/// A bad job file and what its error must say.
///
/// Shared by the library tests here and the end-to-end tests of the `qclab` executable
/// (`CLIErrorTests`).
struct BadJob {
    /// What the typed error must be.
    enum Expected {
        /// ``QCLabError/malformedJob(_:)``: the file is not valid JSON, or lacks a section.
        case malformed
        /// ``QCLabError/unknownName(kind:name:known:)`` for exactly this name.
        case unknownName(String)
        /// ``QCLabError/invalidConstant(model:name:reason:)`` for this constant.
        case constant(String)
        /// ``QCLabError/invalidSetting(_:_:)`` for this setting.
        case setting(String)
        /// ``QCLabError/invalidInitialState(_:)``.
        case initialState
    }

    let name: String
    let json: String
    let expected: Expected
    /// Text the one-line message must contain: it names the culprit.
    let culprit: String

    /// The code of the expected error.
    var code: QCLabError.Code {
        switch expected {
        case .malformed: return .malformedJob
        case .unknownName: return .unknownName
        case .constant: return .invalidConstant
        case .setting: return .invalidSetting
        case .initialState: return .invalidInitialState
        }
    }

    /// Whether `error` has the expected code and culprit.
    func matches(_ error: QCLabError) -> Bool {
        switch expected {
        case .malformed, .initialState: return error.code == code && error.culprit == nil
        case let .unknownName(name), let .constant(name), let .setting(name):
            return error.code == code && error.culprit == name
        }
    }

    // MARK: Building jobs

    /// A small valid job (mean field on a 4-mode spin-boson, a few steps) with sections
    /// replaced by the JSON text given.
    static func job(
        settings: String = #"{"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 4, "batch_size": 2}"#,
        model: String = #"{"name": "SpinBoson", "constants": {"A": 4}}"#,
        algorithm: String = #"{"name": "MeanField"}"#,
        initialState: String = #"{"wf_db": [1.0, 0.0]}"#,
        extra: String = ""
    ) -> String {
        """
        {
          "settings": \(settings),
          "model": \(model),
          "algorithm": \(algorithm),
          "initial_state": \(initialState)\(extra)
        }
        """
    }

    static let valid = job()

    static func fssh(_ settings: String) -> String {
        #"{"name": "FewestSwitchesSurfaceHopping", "settings": "# + settings + "}"
    }

    /// Every mistake in a job file that must be refused, with its culprit.
    static let all: [BadJob] = [
        // Not JSON.
        BadJob(
            name: "malformed JSON", json: #"{"settings": {"tmax": 1,, "dt_update": 0.01}}"#,
            expected: .malformed, culprit: "line 1, column 25"),
        BadJob(
            name: "truncated JSON", json: String(valid.prefix(valid.count / 2)), expected: .malformed,
            culprit: "truncated"),
        BadJob(name: "empty file", json: "", expected: .malformed, culprit: "empty"),
        BadJob(
            name: "trailing comma", json: job(model: #"{"name": "SpinBoson",}"#), expected: .malformed,
            culprit: "line 3"),
        BadJob(
            name: "key given twice", json: job(extra: #", "model": {"name": "SpinBoson"}"#),
            expected: .malformed, culprit: "'model' appears twice"),
        BadJob(
            name: "missing model", json: #"{"initial_state": {"wf_db": [1, 0]}}"#, expected: .malformed,
            culprit: "'model'"),
        // Unknown keys, at every level.
        BadJob(
            name: "typo in settings", json: job(settings: #"{"tmax": 1, "dt_updte": 0.01}"#),
            expected: .unknownName("dt_updte"), culprit: "dt_updte"),
        BadJob(
            name: "unknown top-level key", json: job(extra: #", "setings": {}"#),
            expected: .unknownName("setings"), culprit: "setings"),
        // The output file's settings.
        BadJob(
            name: "output_file.mergeable not a flag", json: job(extra: #", "output_file": {"mergeable": "yes"}"#),
            expected: .setting("output_file.mergeable"), culprit: "output_file.mergeable"),
        BadJob(
            name: "unknown key in output_file", json: job(extra: #", "output_file": {"mergable": true}"#),
            expected: .unknownName("mergable"), culprit: "mergable"),
        BadJob(
            name: "output_file not an object", json: job(extra: #", "output_file": true"#),
            expected: .malformed, culprit: "'output_file' must be an object"),
        BadJob(
            name: "unknown key in model", json: job(model: #"{"name": "SpinBoson", "constant": {"A": 4}}"#),
            expected: .unknownName("constant"), culprit: "constant"),
        BadJob(
            name: "unknown model constant",
            json: job(model: #"{"name": "SpinBoson", "constants": {"l_reorganization": 0.1}}"#),
            expected: .unknownName("l_reorganization"), culprit: "l_reorganization"),
        BadJob(
            name: "unknown key in algorithm", json: job(algorithm: #"{"name": "MeanField", "setting": {}}"#),
            expected: .unknownName("setting"), culprit: "setting"),
        BadJob(
            name: "unknown algorithm setting", json: job(algorithm: fssh(#"{"fssh_determinstic": true}"#)),
            expected: .unknownName("fssh_determinstic"), culprit: "fssh_determinstic"),
        BadJob(
            name: "FSSH setting given to MeanField",
            json: job(algorithm: #"{"name": "MeanField", "settings": {"gauge_fixing": "sign_overlap"}}"#),
            expected: .unknownName("gauge_fixing"), culprit: "gauge_fixing"),
        BadJob(
            name: "unknown key in initial_state", json: job(initialState: #"{"wf_db": [1, 0], "wf_adb": [1, 0]}"#),
            expected: .unknownName("wf_adb"), culprit: "wf_adb"),
        // Unknown names.
        BadJob(
            name: "unknown model", json: job(model: #"{"name": "SpinBosn"}"#), expected: .unknownName("SpinBosn"),
            culprit: "SpinBosn"),
        BadJob(
            name: "unknown algorithm", json: job(algorithm: #"{"name": "Redfield"}"#),
            expected: .unknownName("Redfield"), culprit: "Redfield"),
        BadJob(
            name: "unknown gauge_fixing", json: job(algorithm: fssh(#"{"gauge_fixing": "sign_overlp"}"#)),
            expected: .unknownName("sign_overlp"), culprit: "sign_overlp"),
        BadJob(
            name: "unknown init_classical", json: job(model: #"{"name": "SpinBoson", "init_classical": "wigner"}"#),
            expected: .unknownName("wigner"), culprit: "wigner"),
        // Constants of the wrong type or out of range.
        BadJob(
            name: "string for A", json: job(model: #"{"name": "SpinBoson", "constants": {"A": "100"}}"#),
            expected: .constant("A"), culprit: "got the string \"100\""),
        BadJob(
            name: "absurd lattice size", json: job(model: #"{"name": "HolsteinLattice", "constants": {"N": 1e8}}"#),
            expected: .constant("N"), culprit: "at most 4096"),
        BadJob(
            name: "1.5 for N", json: job(model: #"{"name": "HolsteinLattice", "constants": {"N": 1.5}}"#),
            expected: .constant("N"), culprit: "'N'"),
        BadJob(
            name: "negative A", json: job(model: #"{"name": "SpinBoson", "constants": {"A": -4}}"#),
            expected: .constant("A"), culprit: "'A'"),
        BadJob(
            name: "negative N", json: job(model: #"{"name": "FMOComplex", "constants": {"N": -1}}"#),
            expected: .constant("N"), culprit: "'N'"),
        BadJob(
            name: "negative kBT", json: job(model: #"{"name": "SpinBoson", "constants": {"kBT": -0.5}}"#),
            expected: .constant("kBT"), culprit: "'kBT'"),
        BadJob(
            name: "negative boson_mass", json: job(model: #"{"name": "SpinBoson", "constants": {"boson_mass": -1}}"#),
            expected: .constant("boson_mass"), culprit: "'boson_mass'"),
        BadJob(
            name: "zero mass (Tully)", json: job(model: #"{"name": "TullyProblemOne", "constants": {"mass": 0}}"#),
            expected: .constant("mass"), culprit: "'mass'"),
        BadJob(
            name: "negative phonon_mass",
            json: job(model: #"{"name": "HolsteinLattice", "constants": {"phonon_mass": -2}}"#),
            expected: .constant("phonon_mass"), culprit: "'phonon_mass'"),
        // Settings out of range.
        BadJob(
            name: "zero dt_update", json: job(settings: #"{"dt_update": 0}"#), expected: .setting("dt_update"),
            culprit: "dt_update"),
        BadJob(
            name: "negative dt_update", json: job(settings: #"{"dt_update": -0.01}"#), expected: .setting("dt_update"),
            culprit: "dt_update"),
        BadJob(
            name: "negative tmax", json: job(settings: #"{"tmax": -1}"#), expected: .setting("tmax"), culprit: "tmax"),
        BadJob(
            name: "string for tmax", json: job(settings: #"{"tmax": "10"}"#), expected: .setting("tmax"),
            culprit: "tmax"),
        BadJob(
            name: "zero num_trajs", json: job(settings: #"{"num_trajs": 0}"#), expected: .setting("num_trajs"),
            culprit: "num_trajs"),
        BadJob(
            name: "zero batch_size", json: job(settings: #"{"batch_size": 0}"#), expected: .setting("batch_size"),
            culprit: "batch_size"),
        BadJob(
            name: "negative batch_size", json: job(settings: #"{"batch_size": -5}"#), expected: .setting("batch_size"),
            culprit: "batch_size"),
        BadJob(
            name: "deterministic FSSH batch_size not a multiple of the states",
            json: job(
                settings: #"{"tmax": 0.2, "dt_update": 0.01, "num_trajs": 6, "batch_size": 3}"#,
                algorithm: fssh(#"{"fssh_deterministic": true}"#)),
            expected: .setting("batch_size"), culprit: "batch_size"),
        BadJob(
            name: "empty seeds", json: job(extra: #", "seeds": []"#), expected: .setting("seeds"), culprit: "seeds"),
        BadJob(
            name: "batch too large for memory",
            json: job(settings: #"{"batch_size": 100000000}"#), expected: .setting("batch_size"),
            culprit: "GiB per batch"),
        BadJob(
            name: "repeated seed", json: job(extra: #", "seeds": [3, 5, 3]"#), expected: .setting("seeds"),
            culprit: "3 appears twice"),
        // The initial state.
        BadJob(
            name: "wf_db too long", json: job(initialState: #"{"wf_db": [1, 0, 0]}"#), expected: .initialState,
            culprit: "wf_db has 3 entries"),
        BadJob(
            name: "wf_db too short for FMO", json: job(model: #"{"name": "FMOComplex", "constants": {"N": 2}}"#),
            expected: .initialState, culprit: "wf_db has 2 entries"),
        BadJob(
            name: "wf_db entry not a number", json: job(initialState: #"{"wf_db": ["1", 0]}"#),
            expected: .initialState, culprit: "wf_db entry 0"),
    ]
}

/// `Job(json:)` refuses every bad job with a typed error naming the culprit, and reads
/// good ones strictly but completely.
final class JobParsingTests: XCTestCase {
    func testEveryBadJobThrowsATypedErrorNamingTheCulprit() {
        for bad in BadJob.all {
            XCTAssertThrowsError(try Job(json: Foundation.Data(bad.json.utf8)), bad.name) { error in
                guard let error = error as? QCLabError else {
                    return XCTFail("\(bad.name): not a QCLabError: \(error)")
                }
                XCTAssertTrue(bad.matches(error), "\(bad.name): unexpected error \(error)")
                XCTAssertTrue(
                    error.description.contains(bad.culprit), "\(bad.name): '\(error)' does not name '\(bad.culprit)'")
                XCTAssertFalse(error.description.contains("\n"), "\(bad.name): message must be one line")
            }
        }
    }

    func testTheValidBaseJobParses() throws {
        let job = try Job(json: Foundation.Data(BadJob.valid.utf8))
        XCTAssertEqual(job.simulation.settings.numTrajs, 4)
        XCTAssertEqual(job.simulation.settings.dtUpdate, 0.01)
        XCTAssertEqual(job.simulation.model.modelName, "SpinBoson")
        XCTAssertEqual(job.simulation.algorithm.algorithmName, "MeanField")
        XCTAssertNil(job.seeds)
    }

    func testMissingFileAndFolderAreInvalidPaths() {
        XCTAssertThrowsError(try Job(contentsOf: "/nonexistent/job.json")) { error in
            XCTAssertEqual(error as? QCLabError, .invalidPath("job file '/nonexistent/job.json' does not exist"))
        }
        XCTAssertThrowsError(try Job(contentsOf: NSTemporaryDirectory())) { error in
            guard case .invalidPath(let reason)? = error as? QCLabError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("folder"), reason)
        }
    }

    func testSyntaxErrorsGiveLineAndColumnAndTheFileName() {
        let text = "{\n  \"settings\": {\n    \"tmax\": 1,\n  }\n}"
        XCTAssertThrowsError(try Job(json: Foundation.Data(text.utf8), source: "job.json")) { error in
            XCTAssertEqual(
                "\(error)",
                "malformed job: 'job.json' is not valid JSON at line 4, column 3: unexpected character '}'; expected a key in double quotes"
            )
        }
    }

    func testStrictJSONReadsWhatJSONDecoderReads() throws {
        let text = #"""
            {"a": [1, -2.5e-3, 0, 1E2, true, false, null], "b": {"c": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}, "d": "ü", "e": -0.0}
            """#
        let strict = try StrictJSON.parse(Array(text.utf8))
        let reference = try JSONDecoder().decode(JSONValue.self, from: Foundation.Data(text.utf8))
        XCTAssertEqual(strict, reference)
        for bad in ["[1, 2", "01", "1.", "-", "\"abc", "[1] 2", "{\"a\" 1}", "tru", "\"\\x\"", "[1e999]", "\u{FEFF}"] {
            XCTAssertThrowsError(try StrictJSON.parse(Array(bad.utf8)), bad) { error in
                guard case .malformedJob(let reason)? = error as? QCLabError else {
                    return XCTFail("\(bad): \(error)")
                }
                XCTAssertTrue(reason.contains("line 1, column"), "\(bad): \(reason)")
            }
        }
        XCTAssertThrowsError(try StrictJSON.parse(Array(repeating: UInt8(ascii: "["), count: 10_000)))
    }

    func testEveryExampleJobParses() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".json") }
            .sorted()
        XCTAssertGreaterThanOrEqual(files.count, 7, "one example job per model")
        var models = Set<String>()
        for name in files {
            let job = try Job(contentsOf: examples.appendingPathComponent(name).path)
            models.insert(job.simulation.model.modelName)
        }
        // The built-in models, not the ones tests register.
        XCTAssertEqual(models, Set(ModelRegistry.builtInNames), "every built-in model has an example job")
    }
}
