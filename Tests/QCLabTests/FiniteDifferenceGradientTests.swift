import Foundation
import XCTest
@testable import QCLab
@_spi(Benchmarks) @testable import QCLabCore

/// QC Lab's finite-difference gradients (an ingredient set to `None`; the job's `model.gradients`):
/// against QC Lab run that way (`Fixtures/generate_lvc_fixtures.py`, the `fd_` cases of
/// `index_lvc.json`), and against the analytic gradients they stand in for.
final class FiniteDifferenceGradientTests: XCTestCase {
    /// Mean field, FSSH and MSMASH with `dh_qc_dzc` and/or `dh_c_dzc` by differences, QC Lab's
    /// default step and others: every output within tolerance of QC Lab's.
    func testEveryCaseAgreesWithQCLab() throws {
        let names = try LinearVibronicCouplingTests.lvcCases().filter { $0.hasPrefix("fd_") }
        XCTAssertGreaterThanOrEqual(names.count, 5)
        for name in names {
            let model = try Fixtures.job(name).simulation.model
            XCTAssertTrue(model is any FiniteDifferenceGradientModel, name)
            if name.contains("caca") {
                XCTAssertTrue(
                    model is any HopRescalingDirectionModel && model is any GaugeFieldForceModel,
                    "\(name): the crossing's own rescaling direction and gauge-field force stay")
            }
            try CrossingAndMSMASHFixtureTests.compare(name)
        }
    }

    /// The differences agree with the analytic gradients within their own error: rounding
    /// (`ε |H| / δ`) for linear couplings, `δ |∂²H|` for curved ones and harmonic baths; and
    /// they are differences (not the analytic values passed through).
    func testDifferencesAgreeWithTheAnalyticGradients() throws {
        let settings = FiniteDifferenceSettings(quantumClassical: true, classical: true)
        let models: [(model: any Model, tolerance: Double)] = [
            (try ModelRegistry.make(name: "SpinBoson", constants: ["A": .number(6), "V": .number(0.3)]), 1e-7),
            (try Fixtures.job("lvc_ci_mf").simulation.model, 1e-7),
            (try Fixtures.job("lvc_diag_mf").simulation.model, 1e-7),
            (
                try ModelRegistry.make(name: "ComplexAvoidedCrossingA", constants: ["init_position_x": .number(-0.3)]),
                1e-3
            ),
            (try ModelRegistry.make(name: "TullyProblemTwo", constants: ["init_position": .number(0.1)]), 1e-3),
        ]
        for (analytic, tolerance) in models {
            let differences = analytic.withFiniteDifferenceGradients(settings)
            XCTAssertFalse(differences is any FusedClassicalDynamics, "fused steps use the analytic gradients")
            let n = analytic.numQuantumStates, c = analytic.numClassicalCoordinates, rows = 3
            let z = analytic.initialClassicalCoordinates(seeds: Array(0..<rows))
            var psi = ComplexBatch(components: n, batchSize: rows)
            for i in psi.re.indices { (psi.re[i], psi.im[i]) = (sin(Double(i) + 1), cos(3 * Double(i))) }
            var (exact, approximate) = (
                ComplexBatch(components: c, batchSize: rows), ComplexBatch(components: c, batchSize: rows)
            )
            var differs = false
            func check(_ label: String, tolerance: Double) {
                for i in exact.re.indices {
                    let error = Complex(approximate.re[i] - exact.re[i], approximate.im[i] - exact.im[i]).length
                    let size = Complex(exact.re[i], exact.im[i]).length
                    XCTAssertLessThanOrEqual(
                        error, tolerance * (1 + size), "\(analytic.modelName) \(label) element \(i)")
                    if error != 0 { differs = true }
                }
            }
            analytic.quantumClassicalForce(z: z, wavefunction: psi, into: &exact)
            differences.quantumClassicalForce(z: z, wavefunction: psi, into: &approximate)
            check("dh_qc_dzc", tolerance: tolerance)
            analytic.classicalForce(z: z, into: &exact)
            differences.classicalForce(z: z, into: &approximate)
            check("dh_c_dzc", tolerance: 1e-5)  // quadratic: δ ω² / h
            for t in 0..<rows {
                let zRow = (0..<c).map { z[$0, t] }
                let u = (0..<n).map { psi[$0, t] }, v = (0..<n).map { psi[(n - 1 - $0), t] }
                let a = analytic.couplingGradient(z: zRow, left: u, right: v)
                let b = differences.couplingGradient(z: zRow, left: u, right: v)
                for k in 0..<c {
                    XCTAssertLessThanOrEqual(
                        (a[k] - b[k]).length, tolerance * (1 + a[k].length), "\(analytic.modelName) coupling gradient")
                }
            }
            XCTAssertTrue(differs, "\(analytic.modelName): the differences equal the analytic gradients to the bit")
        }
    }

    /// The step is QC Lab's: halving δ halves the error of a curved Hamiltonian's difference.
    func testStepIsTheOneGiven() throws {
        let analytic = try ModelRegistry.make(
            name: "ComplexAvoidedCrossingA", constants: ["init_position_x": .number(-0.3)])
        let z = analytic.initialClassicalCoordinates(seeds: [5])
        let u = [Complex(0.6, 0.1), Complex(-0.2, 0.7)], zRow = [z[0, 0], z[1, 0]]
        let exact = analytic.couplingGradient(z: zRow, left: u, right: u)[0]
        func error(_ delta: Double) -> Double {
            let model = analytic.withFiniteDifferenceGradients(
                FiniteDifferenceSettings(quantumClassical: true, quantumClassicalDelta: delta))
            return (model.couplingGradient(z: zRow, left: u, right: u)[0] - exact).length
        }
        let (coarse, fine) = (error(1e-3), error(5e-4))
        XCTAssertEqual(coarse / fine, 2, accuracy: 0.05, "forward differences: error proportional to the step")
    }

    /// A Swift model's own record (``JobRecordable``) stays, with the gradients beside it.
    func testSwiftModelsKeepTheirRecord() throws {
        let model = RecordedPair().withFiniteDifferenceGradients(FiniteDifferenceSettings(classical: true))
        let simulation = Simulation(
            settings: SimulationSettings(tmax: 1, dtUpdate: 0.1, dtCollect: 0.5, numTrajs: 2, batchSize: 2),
            model: model, algorithm: MeanField(), initialWavefunction: [Complex(1), Complex(0)])
        let record = try StrictJSON.parse(Array(simulation.jobRecord.utf8))
        guard case let .object(top) = record, case let .object(section)? = top["model"],
            case let .object(properties)? = section["swift_properties"]
        else { return XCTFail("\(record)") }
        XCTAssertEqual(properties["label"], .string("recorded pair"))
        XCTAssertEqual(
            section["gradients"],
            .object([
                "dh_c_dzc": .string("finite_difference"),
                "dh_c_dzc_finite_difference_delta": .number(1e-6),
            ]))
    }

    /// `model.gradients` in a job file: recorded in the job record only when a gradient is by
    /// differences; bad values refused with one line naming the key.
    func testJobKey() throws {
        func job(_ gradients: String) -> String {
            #"{"model": {"name": "SpinBoson", "constants": {"A": 4}"# + gradients
                + #"}, "initial_state": {"wf_db": [1, 0]}}"#
        }
        let plain = try Job(json: Foundation.Data(job("").utf8)).simulation
        let analytic = try Job(json: Foundation.Data(job(#", "gradients": {"dh_qc_dzc": "analytic"}"#).utf8))
            .simulation
        XCTAssertTrue(analytic.model is SpinBoson)
        XCTAssertEqual(analytic.jobRecord, plain.jobRecord)
        let fd = try Job(
            json: Foundation.Data(
                job(#", "gradients": {"dh_c_dzc": "finite_difference", "dh_c_dzc_finite_difference_delta": 1e-7}"#)
                    .utf8)
        ).simulation
        let settings = try XCTUnwrap(fd.model as? any FiniteDifferenceGradientModel).finiteDifferences
        XCTAssertEqual(settings, FiniteDifferenceSettings(classical: true, classicalDelta: 1e-7))
        XCTAssertEqual(fd.model.modelName, "SpinBoson")
        XCTAssertTrue(
            fd.jobRecord.contains(
                #""gradients": {"dh_c_dzc": "finite_difference", "dh_c_dzc_finite_difference_delta": 1e-07}"#),
            fd.jobRecord)
        XCTAssertEqual(
            try Job(json: Foundation.Data(LinearVibronicCouplingTests.runnable(fd.jobRecord).utf8)).simulation
                .jobRecord, fd.jobRecord)
        for (gradients, expected) in [
            (#", "gradients": {"dh_qc_dz": "finite_difference"}"#, "'dh_qc_dz'"),
            (#", "gradients": {"dh_qc_dzc": "numerical"}"#, "model.gradients.dh_qc_dzc"),
            (
                #", "gradients": {"dh_qc_dzc_finite_difference_delta": 0}"#,
                "model.gradients.dh_qc_dzc_finite_difference_delta"
            ),
            (#", "gradients": ["dh_qc_dzc"]"#, "'model.gradients' must be an object"),
        ] {
            XCTAssertThrowsError(try Job(json: Foundation.Data(job(gradients).utf8))) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }
}

/// A two-state model written in Swift that records its stored properties.
private struct RecordedPair: DiagonalLinearHarmonicModel, JobRecordable {
    var modelName: String { "RecordedPair" }
    var label = "recorded pair"
    var numQuantumStates: Int { 2 }
    let bath = HarmonicBath(frequency: [1.0], mass: [1.0], weight: [1.0], kBT: 1.0)
    let coupling = DiagonalLinearCoupling(gamma: [[0.3], [-0.3]])
    let constantHamiltonian = [Complex(0.5), Complex(0.1), Complex(0.1), Complex(-0.5)]
}
