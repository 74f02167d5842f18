import Foundation
import XCTest
@testable import QCLab
@_spi(Benchmarks) @testable import QCLabCore

/// `LinearVibronicCoupling` against QC Lab running the same model as a user writes it in Python,
/// seed for seed (`Fixtures/generate_lvc_fixtures.py`, `index_lvc.json`), against the built-in
/// spin-boson model it reproduces, and its refusals of bad constants.
final class LinearVibronicCouplingTests: XCTestCase {
    static func lvcCases() throws -> [String] {
        try Fixtures.cases(index: "index_lvc.json").map(\.name)
    }

    /// Diagonal and off-diagonal (complex and real) couplings, under mean field, FSSH with every
    /// gauge fixing (stochastic and deterministic) and MSMASH: every output within tolerance.
    func testEveryCaseAgreesWithQCLab() throws {
        let names = try Self.lvcCases().filter { $0.hasPrefix("lvc_") }
        XCTAssertGreaterThanOrEqual(names.count, 11)
        for name in names { try CrossingAndMSMASHFixtureTests.compare(name) }
    }

    /// Diagonal couplings take the spin-boson fast path (the fused RK4 step); off-diagonal ones the
    /// general model with its complex Hamiltonian.
    func testFastPathFollowsTheCouplings() throws {
        let diagonal = try Fixtures.job("lvc_diag_mf").simulation.model
        XCTAssertTrue(diagonal is DiagonalLinearVibronicCoupling)
        XCTAssertTrue(diagonal is any FusedClassicalDynamics)
        XCTAssertFalse(diagonal.hamiltonianIsReal, "h_q is complex")
        let crossing = try Fixtures.job("lvc_ci_mf").simulation.model
        XCTAssertTrue(crossing is LinearVibronicCoupling)
        XCTAssertFalse(crossing.hamiltonianIsReal)
        XCTAssertTrue(try Fixtures.job("lvc_ci_real_fssh").simulation.model.hamiltonianIsReal)
        XCTAssertEqual(StepPlan.fastest(model: diagonal, diagonalizes: false).classical, .fused)
    }

    /// The spin-boson model written as LVC constants (K_k = diag(γ_0k, γ_1k) sqrt(2 m ω_k)) runs
    /// the spin-boson fixtures of QC Lab's own SpinBoson within tolerance, and agrees with our
    /// SpinBoson to rounding.
    func testDiagonalCouplingsReproduceTheSpinBoson() throws {
        for name in ["mf_spin_boson", "fssh_spin_boson", "fssh_spin_boson_phase_overlap"] {
            let job = try Fixtures.job(name)
            let spinBoson = try XCTUnwrap(job.simulation.model as? SpinBoson)
            let scale = spinBoson.bath.frequency.indices.map {
                (2.0 * spinBoson.bath.mass[$0] * spinBoson.bath.frequency[$0]).squareRoot()
            }
            var gamma = [[Double]](repeating: [Double](repeating: 0, count: spinBoson.A), count: 2)
            for term in spinBoson.coupling.terms { gamma[term.state][term.coordinate] = term.gamma }
            let couplings = (0..<spinBoson.A).map { k in
                [[gamma[0][k] * scale[k], 0.0], [0.0, gamma[1][k] * scale[k]]]
            }
            let constants: [String: ParameterValue] = [
                "h_q": Self.matrix([[spinBoson.E, spinBoson.V], [spinBoson.V, -spinBoson.E]]),
                "frequencies": .array(spinBoson.bath.frequency.map(ParameterValue.number)),
                "masses": .array(spinBoson.bath.mass.map(ParameterValue.number)),
                "couplings": .array(couplings.map(Self.matrix)), "kBT": .number(spinBoson.kBT),
            ]
            let lvc = try ModelRegistry.make(
                name: "LinearVibronicCoupling", constants: constants,
                initialDistribution: spinBoson.initialDistribution)
            XCTAssertTrue(lvc is DiagonalLinearVibronicCoupling)
            var simulation = job.simulation
            simulation.model = lvc
            let ours = try serialDriver(simulation, seeds: job.seeds)
            let builtIn = try serialDriver(job.simulation, seeds: job.seeds)
            let theirs = try SimulationData(contentsOf: Fixtures.url("\(name).h5").path)
            for output in ["dm_db", "quantum_energy", "classical_energy"] {
                let isComplex = output == "dm_db"
                assertAgrees(
                    ours.mean(output)!, theirs.mean(output)!, isComplex: isComplex,
                    "\(name) as LVC vs QC Lab: \(output)")
                let worst = zip(ours.mean(output)!, builtIn.mean(output)!).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 1e-9, "\(name) as LVC vs our SpinBoson: \(output)")
            }
        }
        // QC Lab's own side of the same mapping: its SpinBoson constants run as the user's LVC in
        // Python agree with our built-in SpinBoson on that job.
        try CrossingAndMSMASHFixtureTests.compare("lvc_spin_boson_mf")
        let python = try SimulationData(contentsOf: Fixtures.url("lvc_spin_boson_mf.h5").path)
        let job = try Fixtures.job("lvc_spin_boson_mf")
        var simulation = job.simulation
        simulation.model = try ModelRegistry.make(
            name: "SpinBoson",
            constants: [
                "A": .number(20), "V": .number(0.3),
                "l_reorg": .number(0.02), "kBT": .number(0.5),
            ])
        let builtIn = try serialDriver(simulation, seeds: job.seeds)
        for output in ["dm_db", "quantum_energy", "classical_energy"] {
            assertAgrees(
                builtIn.mean(output)!, python.mean(output)!, isComplex: output == "dm_db",
                "QC Lab's LVC vs our SpinBoson: \(output)")
        }
    }

    /// The force and the coupling gradient are `K_k / sqrt(2 m_k ω_k)` sandwiched, checked against
    /// differences of the Hamiltonian itself (central, so exact to rounding for a linear model).
    func testGradientsAreTheHamiltoniansDerivative() throws {
        let model = try Fixtures.job("lvc_ci_mf").simulation.model
        let z = model.initialClassicalCoordinates(seeds: [3, 4])
        var psi = ComplexBatch(components: 2, batchSize: 2)
        (psi.re, psi.im) = ([0.6, 0.3, 0.0, 0.5], [0.0, 0.1, 0.8, -0.7])
        var force = ComplexBatch(components: 2, batchSize: 2)
        model.quantumClassicalForce(z: z, wavefunction: psi, into: &force)
        for t in 0..<2 {
            let u = [psi[0, t], psi[1, t]], zRow = [z[0, t], z[1, t]]
            let gradient = model.couplingGradient(z: zRow, left: u, right: u)
            for k in 0..<2 {
                // d<ψ|H|ψ>/dz* = ½ (∂/∂Re z + i ∂/∂Im z); H depends on Re z only.
                func energy(_ shift: Double) -> Double {
                    var shifted = ComplexBatch(components: 2, batchSize: 1)
                    shifted.re = [zRow[0].real, zRow[1].real]
                    shifted.re[k] += shift
                    var h = ComplexBatch(components: 4, batchSize: 1)
                    model.quantumHamiltonian(z: shifted, into: &h)
                    var sum = Complex<Double>.zero
                    for a in 0..<2 { for b in 0..<2 { sum += u[a].conjugate * h[a * 2 + b, 0] * u[b] } }
                    return sum.real
                }
                let expected = 0.5 * (energy(1e-3) - energy(-1e-3)) / 2e-3
                XCTAssertEqual(force[k, t].real, expected, accuracy: 1e-12)
                XCTAssertEqual(force[k, t].imaginary, 0, accuracy: 1e-15)
                XCTAssertEqual(gradient[k].real, force[k, t].real, accuracy: 1e-15)
            }
        }
    }

    /// `qclab init` writes a job for it that runs, and its job record is a job that rebuilds it.
    func testDefaultJobAndJobRecordRoundTrip() throws {
        let text = try JobCatalog.defaultJob(
            model: "LinearVibronicCoupling", algorithm: "FewestSwitchesSurfaceHopping")
        let job = try Job(json: Foundation.Data(text.utf8))
        let model = try XCTUnwrap(job.simulation.model as? LinearVibronicCoupling)
        XCTAssertEqual(model.numQuantumStates, 2)
        XCTAssertEqual(model.data.couplings[1][1], Complex(0.2, 0.1))
        let description = try ModelRegistry.describe("LinearVibronicCoupling")
        XCTAssertEqual(
            description.constants.map(\.name), ["h_q", "frequencies", "masses", "couplings", "kBT", "init_classical"])
        XCTAssertEqual(description.initialDistributions, [.boltzmannHarmonic, .wignerHarmonic])
        for name in ["lvc_diag_fssh_wigner", "lvc_ci_real_fssh"] {
            let original = try Fixtures.job(name)
            let record = original.simulation.jobRecord
            let rebuilt = try Job(json: Foundation.Data(Self.runnable(record).utf8))
            XCTAssertEqual(rebuilt.simulation.jobRecord, record, name)
            let described = try XCTUnwrap(rebuilt.simulation.model as? any JobDescribableModel)
            XCTAssertEqual(
                described.jobConstants, (original.simulation.model as! any JobDescribableModel).jobConstants)
        }
    }

    /// `qclab models` lists it with its constants; `qclab init` writes a job for it that runs.
    func testModelsAndInitKnowIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lvc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let models = try QCLabCLI.run(["models", "LinearVibronicCoupling"], in: folder)
        XCTAssertEqual(models.status, 0, models.errors)
        XCTAssertTrue(models.output.hasPrefix("\nLinearVibronicCoupling  (2 quantum states"), models.output)
        for line in [
            "  h_q  ", "N×N Hermitian matrix", "  couplings  ", "C Hermitian N×N matrices", "  masses  ",
            "\"boltzmann\" or \"wigner\"",
        ] {
            XCTAssertTrue(models.output.contains(line), "\(line) in\n\(models.output)")
        }
        let initial = try QCLabCLI.run(
            ["init", "LinearVibronicCoupling", "MultiStateMappingApproachToSurfaceHopping"], in: folder)
        XCTAssertEqual(initial.status, 0, initial.errors)
        let job = initial.output.replacingOccurrences(of: "\"tmax\": 10.0", with: "\"tmax\": 0.5")
            .replacingOccurrences(of: "\"num_trajs\": 100", with: "\"num_trajs\": 4")
        try job.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let run = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertEqual(run.errors, "", "no warnings for a job as init writes it")
        XCTAssertEqual(try SimulationData(contentsOf: folder.appendingPathComponent("out.h5").path).normFactor, 4)
    }

    /// Each bad constant is refused with one line that names the element.
    func testBadConstantsAreRefusedNamingTheElement() throws {
        let good =
            #""h_q": [[0.2, 0], [0, -0.2]], "frequencies": [1, 0.5], "couplings": [[[0.5, 0], [0, -0.5]], [[0, [0.2, 0.1]], [[0.2, -0.1], 0]]]"#
        let cases: [(constants: String, model: String, expected: String)] = [
            (
                #""h_q": [[0.2, [0.1, 0.3]], [[0.1, 0.3], -0.2]], "frequencies": [1], "couplings": [[[1, 0], [0, 1]]]"#,
                "",
                "constant 'h_q[0][1]' must be the complex conjugate of h_q[1][0] (the matrix must be Hermitian), got [0.1, 0.3] and [0.1, 0.3]"
            ),
            (
                #""h_q": [[[0.2, 1e-3], 0], [0, -0.2]], "frequencies": [1], "couplings": [[[1, 0], [0, 1]]]"#, "",
                "constant 'h_q[0][0]' must be real (the matrix must be Hermitian), got [0.2, 0.001]"
            ),
            (
                #""h_q": [[0.2, 0], [0, -0.2]], "frequencies": [1, 0.5], "couplings": [[[0.5, 0], [0, -0.5]], [[0, [0.2, 0.1]], [[0.2, 0.1], 0]]]"#,
                "",
                "constant 'couplings[1][0][1]' must be the complex conjugate of couplings[1][1][0]"
            ),
            (
                #""h_q": [[0.2, 0], [0, -0.2, 1]], "frequencies": [1], "couplings": [[[1, 0], [0, 1]]]"#, "",
                "constant 'h_q[1]' must be a row of 2 elements (N×N, N = 2 states), got 3"
            ),
            (
                #""h_q": [[0.2, 0], [0, -0.2]], "frequencies": [1], "couplings": [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]"#,
                "",
                "constant 'couplings[0]' must have 2 rows (N×N, N = 2 states), got 3"
            ),
            (
                #""h_q": [[0.2, 0], [0, -0.2]], "frequencies": [1, 2], "couplings": [[[1, 0], [0, 1]]]"#, "",
                "constant 'couplings' must be a list of 2 matrices, one per frequency, got 1"
            ),
            (
                #""h_q": [[0.2, 0], [0, -0.2]], "frequencies": [1, -2], "couplings": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]"#,
                "",
                "constant 'frequencies[1]' must be positive, got -2.0"
            ),
            (good + #", "masses": [1, 0]"#, "", "constant 'masses[1]' must be positive, got 0.0"),
            (good + #", "masses": [1]"#, "", "constant 'masses' must have 2 entries, one per frequency, got 1"),
            (
                #""h_q": [[0.2, "x"], [0, -0.2]]"#, "",
                "constant 'h_q[0][1]' must be a finite number or an [re, im] pair, got the string \"x\""
            ),
            (#""h_q": 0.5"#, "", "constant 'h_q' must be a list (N×N Hermitian matrix), got 0.5"),
            (
                good + #", "init_classical": "thermal""#, "",
                "constant 'init_classical' must be \"boltzmann\" or \"wigner\", got the string \"thermal\""
            ),
            (
                good + #", "init_classical": "wigner""#, #", "init_classical": "boltzmann_harmonic""#,
                "constant 'init_classical' is \"wigner\" but model.init_classical is boltzmann_harmonic"
            ),
            (
                good, #", "init_classical": "definite_position_momentum""#,
                "constant 'init_classical' must be boltzmann_harmonic or wigner_harmonic for a harmonic bath"
            ),
            (good + #", "omega": [1, 2]"#, "", "omega"),
        ]
        for (constants, model, expected) in cases {
            let text =
                #"{"model": {"name": "LinearVibronicCoupling", "constants": {"# + constants + "}" + model
                + #"}, "initial_state": {"wf_db": [1, 0]}}"#
            XCTAssertThrowsError(try Job(json: Foundation.Data(text.utf8))) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(expected), "\(message)\n  expected: \(expected)")
                XCTAssertFalse(message.contains("\n"), message)
            }
        }
        // And through the executable: one line on standard error, no output file.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lvc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let bad =
            #"{"model": {"name": "LinearVibronicCoupling", "constants": {"# + cases[2].constants
            + #"}}, "initial_state": {"wf_db": [1, 0]}}"#
        try bad.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let outcome = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertNotEqual(outcome.status, 0)
        XCTAssertEqual(outcome.errorLines.count, 1, outcome.errors)
        XCTAssertTrue(outcome.errors.contains("couplings[1][0][1]"), outcome.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.h5").path))
    }

    static func matrix(_ rows: [[Double]]) -> ParameterValue {
        .array(rows.map { .array($0.map(ParameterValue.number)) })
    }

    /// A job record as a job file: the record plus the seeds it leaves out.
    static func runnable(_ record: String) -> String {
        String(record.dropLast()) + #", "seeds": [0, 1]}"#
    }
}
