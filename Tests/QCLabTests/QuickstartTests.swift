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
            model: SpinBoson(kBT: 1.0, V: 0.5, E: 0.5, A: 100, W: 0.1, lReorg: 0.005),
            algorithm: MeanField(),
            initialWavefunction: [Complex(1), Complex(0)])   // initial_state["wf_db"]

        let data = try serialDriver(simulation)

        // QC Lab's data.data_dict["t"] and data.data_dict["dm_db"]:
        let t = data.times
        let dm = data.mean("dm_db")!             // shape (T, 2, 2), complex: re, im interleaved
        let population0 = t.indices.map { dm[2 * (4 * $0)] }                // Re dm_db[k, 0, 0]
        let errorBar0 = data.standardError("dm_db")!.enumerated()           // ±1 standard error
            .filter { $0.offset % 8 == 0 }.map(\.element)
        print("P0(t = \(t.last!)) = \(population0.last!) ± \(errorBar0.last!)")

        try data.save(to: "spin-boson.h5")       // QC Lab's HDF5 layout, plus <name>_sem
        // END QUICKSTART

        XCTAssertEqual(t.count, 101)
        XCTAssertEqual(population0[0], 1, accuracy: 1e-12)
        XCTAssertEqual(errorBar0.count, t.count)
        XCTAssertGreaterThan(errorBar0.last!, 0)
        XCTAssertLessThan(errorBar0.last!, 0.05)
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
