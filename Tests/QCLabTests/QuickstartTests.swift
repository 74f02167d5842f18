// swift-format-ignore-file
// (the quickstart below is compared line by line with README.md and GettingStarted.md)
import Foundation
import XCTest
import QCLab

/// The library quickstart of README.md and GettingStarted.md runs as written.
final class QuickstartTests: XCTestCase {
    func testTheQuickstartRuns() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-quickstart")
        let previous = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(folder.path)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }

        // BEGIN QUICKSTART
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
        // END QUICKSTART

        XCTAssertEqual(t.count, 101)
        XCTAssertEqual(populations.count, t.count)
        XCTAssertEqual(populations[0][0], 1, accuracy: 1e-12)
        XCTAssertEqual(p0.count, t.count)
        XCTAssertEqual(p0.last!.value, populations.last![0])
        XCTAssertGreaterThan(p0.last!.standardError, 0)
        XCTAssertLessThan(p0.last!.standardError, 0.05)
        XCTAssertEqual(coherence.count, t.count)
        XCTAssertEqual(rho.count, t.count)
        XCTAssertEqual(rho.map { $0[0][1] }, coherence)
        XCTAssertEqual(rho[0][0][0], Complex(1))
        XCTAssertEqual(energy.count, t.count)
        let loaded = try SimulationData(contentsOf: folder.appendingPathComponent("spin-boson.h5").path)
        XCTAssertEqual(loaded.normFactor, 100)
    }

    /// README.md and GettingStarted.md show exactly the code this test runs.
    func testTheDocumentsShowTheTestedCode() throws {
        let here = URL(fileURLWithPath: #filePath)
        let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        func lines(_ text: String) -> [String] {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let source = try String(contentsOf: here, encoding: .utf8)
        let begin = source.range(of: "// BEGIN QUICKSTART\n")!, end = source.range(of: "// END QUICKSTART")!
        let tested = lines(String(source[begin.upperBound..<end.lowerBound])).filter { !$0.isEmpty }
        for document in ["README.md", "Sources/QCLab/QCLab.docc/GettingStarted.md"] {
            let text = try String(contentsOf: root.appendingPathComponent(document), encoding: .utf8)
            guard let start = text.range(of: "```swift\nimport QCLab\n\nvar settings") else {
                XCTFail("\(document): no quickstart snippet")
                continue
            }
            let rest = text[start.upperBound...]
            let snippet = "var settings" + rest[..<rest.range(of: "```")!.lowerBound]
            XCTAssertEqual(lines(String(snippet)).filter { !$0.isEmpty }, tested, "\(document) must show the tested quickstart")
        }
    }
}
