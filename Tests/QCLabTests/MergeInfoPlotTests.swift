import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import QCLab

/// `SimulationData.merging` (`qclab merge`), `SimulationData.summary` (`qclab info`) and `TimeSeriesPlot`
/// (`qclab plot`), in the library and end to end through the executable.
final class MergeInfoPlotTests: XCTestCase {
    func spinBoson(
        trajectories: Int = 12, batchSize: Int = 4, tmax: Double = 1, dtCollect: Double = 0.1,
        algorithm: any Algorithm = MeanField()
    ) -> Simulation {
        Simulation(
            settings: SimulationSettings(
                tmax: tmax, dtUpdate: 0.01, dtCollect: dtCollect, numTrajs: trajectories, batchSize: batchSize),
            model: SpinBoson(A: 6), algorithm: algorithm, initialWavefunction: [Complex(1), Complex(0)])
    }

    func folder() throws -> URL { try QCLabCLI.temporaryFolder(self, "qclab-merge") }

    func save(_ data: SimulationData, _ name: String, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try data.save(to: path, mergeable: true)
        return path
    }

    func assertSame(
        _ merged: SimulationData, _ whole: SimulationData, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(merged.seeds, whole.seeds, file: file, line: line)
        XCTAssertEqual(merged.normFactor, whole.normFactor, file: file, line: line)
        XCTAssertEqual(merged.sampleCount, whole.sampleCount, file: file, line: line)
        XCTAssertEqual(merged.observables.map(\.name), whole.observables.map(\.name), file: file, line: line)
        for o in whole.observables {
            for (x, y) in zip(merged.mean(o.name)!, whole.mean(o.name)!) {
                XCTAssertEqual(x, y, accuracy: 1e-13 * max(1, abs(y)), "mean of \(o.name)", file: file, line: line)
            }
            // Standard errors come from sums of squares minus n times the squared mean, so
            // they are known to about 1e-7 of the mean (a spread below that is rounding).
            for ((x, y), m) in zip(
                zip(merged.standardError(o.name)!, whole.standardError(o.name)!), whole.mean(o.name)!)
            {
                XCTAssertEqual(
                    x, y, accuracy: 1e-9 * abs(y) + 1e-7 * max(1, abs(m)), "standard error of \(o.name)",
                    file: file, line: line)
            }
        }
    }

    // MARK: Merge

    func testTwoHalvesMergedEqualOneRunOfAllSeeds() throws {
        let folder = try folder()
        for (label, algorithm) in [
            ("mf", MeanField() as any Algorithm),
            ("fssh-det", FewestSwitchesSurfaceHopping(deterministic: true)),
        ] {
            let simulation = spinBoson(algorithm: algorithm)
            let whole = try serialDriver(simulation)
            let first = try save(serialDriver(simulation, seeds: Array(0..<6)), "\(label)-a.h5", in: folder)
            let second = try save(serialDriver(simulation, seeds: Array(6..<12)), "\(label)-b.h5", in: folder)
            let merged = try SimulationData.merging(files: [first, second])
            assertSame(merged, whole)
            XCTAssertEqual(whole.standardError("t")!.max(), 0, "t does not vary: no error bar")
            XCTAssertGreaterThan(whole.standardError("dm_db")!.max()!, 1e-3)
            XCTAssertTrue(merged.log.contains("=== \(first): 6 trajectories, seeds 0...5 ==="), merged.log)
            XCTAssertTrue(merged.log.contains("=== \(second): 6 trajectories, seeds 6...11 ==="), merged.log)
            XCTAssertTrue(merged.log.contains("Merged 2 parts: 12 trajectories, seeds 0...11"), merged.log)
            // Saved and read back, the merged file keeps its error bars.
            let path = try save(merged, "\(label)-merged.h5", in: folder)
            let names = try SimulationData.datasetNames(inFileAt: path)
            for name in ["dm_db_sem", "quantum_energy_sem", "classical_energy_sem", "num_samples"] {
                XCTAssertTrue(names.contains(name), "\(label): \(name) missing from \(names)")
            }
            assertSame(try SimulationData(contentsOf: path), whole)
        }
    }

    func testMergeIsWeightedByTrajectoryCount() throws {
        let simulation = spinBoson(trajectories: 10)
        let small = try serialDriver(simulation, seeds: [0, 1])
        let large = try serialDriver(simulation, seeds: Array(2..<10))
        let merged = try SimulationData.merging([("small", small), ("large", large)])
        assertSame(merged, try serialDriver(simulation))
    }

    func testOverlappingSeedsAreRefused() throws {
        let simulation = spinBoson()
        let a = try serialDriver(simulation, seeds: [0, 1, 2, 3])
        let b = try serialDriver(simulation, seeds: [3, 4])
        let c = try serialDriver(simulation, seeds: [1, 2, 7])
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("b.h5", b)])) { error in
            XCTAssertEqual(
                error as? QCLabError,
                .incompatibleData(
                    "overlapping seeds: seed 3 is in both 'a.h5' and 'b.h5'; merging would count those trajectories twice"
                ))
        }
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("c.h5", c)])) { error in
            XCTAssertTrue("\(error)".contains("2 seeds (1...2) are in both 'a.h5' and 'c.h5'"), "\(error)")
        }
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("a.h5", a)]), "the same file twice")
    }

    func testMismatchedTimeGridsAndOutputsAreRefused() throws {
        let a = try serialDriver(spinBoson(), seeds: [0, 1])
        // Parts of different jobs: the job's difference is named, not the different time
        // grid or shape it causes.
        let stretched = try serialDriver(spinBoson(tmax: 2, dtCollect: 0.2), seeds: [2, 3])
        let longer = try serialDriver(spinBoson(tmax: 2), seeds: [2, 3])
        var wavefunction = [Complex<Double>](repeating: .zero, count: 7)
        wavefunction[0] = Complex(1)
        let fmo = try serialDriver(
            Simulation(
                settings: spinBoson().settings, model: FMOComplex(N: 2), algorithm: MeanField(),
                initialWavefunction: wavefunction), seeds: [2, 3])
        for (other, difference) in [
            (stretched, "settings.dt_collect is 0.1 in 'a.h5' but 0.2 in 'b.h5'"),
            (longer, "settings.tmax is 1 in 'a.h5' but 2 in 'b.h5'"),
            (fmo, #"model.name is "SpinBoson" in 'a.h5' but "FMOComplex" in 'b.h5'"#),
        ] {
            XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("b.h5", other)])) { error in
                XCTAssertEqual("\(error)", "cannot merge data: different jobs: " + difference)
            }
            var sum = a
            XCTAssertThrowsError(try sum.add(other)) { error in
                XCTAssertTrue("\(error)".hasPrefix("cannot merge data: different jobs: "), "\(error)")
            }
        }
        // Parts that record no job (QC Lab's files) are compared on what they hold.
        func jobless(_ data: SimulationData) -> SimulationData {
            var data = data
            data.job = nil
            return data
        }
        // Same number of points, different times.
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("b.h5", jobless(stretched))])) { error in
            XCTAssertEqual(
                "\(error)",
                "cannot merge data: time grids differ: 'a.h5' has 11 points, dt_collect 0.1, tmax 1, "
                    + "'b.h5' has 11 points, dt_collect 0.2, tmax 2")
        }
        // A different number of points.
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("b.h5", jobless(longer))])) { error in
            XCTAssertTrue("\(error)".contains("time grids differ"), "\(error)")
            XCTAssertTrue("\(error)".contains("21 points"), "\(error)")
        }
        // A different model size.
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("fmo.h5", jobless(fmo))])) { error in
            XCTAssertTrue(
                "\(error)".contains("'dm_db' has shape [11, 7, 7] in 'fmo.h5' but [11, 2, 2] in 'a.h5'"), "\(error)")
        }
        // Different outputs.
        var extra = try serialDriver(spinBoson(), seeds: [4])
        extra.observables.append(OutputAccumulator(name: "populations_adb", shape: [11, 2], isComplex: false))
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("x.h5", extra)])) { error in
            XCTAssertTrue(
                "\(error)".contains("'x.h5' has an output 'populations_adb', which 'a.h5' has not"), "\(error)")
        }
        XCTAssertThrowsError(try SimulationData.merging([])) {
            XCTAssertEqual("\($0)", "cannot merge data: nothing to merge")
        }
        XCTAssertThrowsError(try SimulationData.merging([("a.h5", a), ("empty.h5", SimulationData())])) {
            XCTAssertEqual("\($0)", "cannot merge data: 'empty.h5' holds no trajectories")
        }
    }

    /// `qclab merge` of outputs of different jobs whose shapes differ too (a longer run, a
    /// larger lattice) names the job's difference in one line, and writes nothing.
    func testMergeNamesTheJobDifferenceBeforeTheShapes() throws {
        let folder = try folder()
        let jobs = [
            ("short", BadJob.job(settings: #"{"tmax": 0.2, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 2}"#)),
            (
                "long",
                BadJob.job(
                    settings: #"{"tmax": 0.4, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 2}"#,
                    extra: #", "seeds": [2, 3]"#)
            ),
            ("two", BadJob.job(model: #"{"name": "HolsteinLattice", "constants": {"N": 2}}"#)),
            (
                "three",
                BadJob.job(
                    model: #"{"name": "HolsteinLattice", "constants": {"N": 3}}"#,
                    initialState: #"{"wf_db": [1.0, 0.0, 0.0]}"#, extra: #", "seeds": [4, 5, 6, 7]"#)
            ),
        ]
        for (name, job) in jobs {
            try job.write(to: folder.appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
            let run = try QCLabCLI.run(["run", "\(name).json", "--output", "\(name).h5"], in: folder)
            XCTAssertEqual(run.status, 0, run.errors)
        }
        for (a, b, difference) in [
            ("short", "long", "settings.tmax is 0.2 in 'short.h5' but 0.4 in 'long.h5'"),
            ("two", "three", "model.constants.N is 2 in 'two.h5' but 3 in 'three.h5'"),
            ("short", "three", #"model.name is "SpinBoson" in 'short.h5' but "HolsteinLattice" in 'three.h5'"#),
        ] {
            let merge = try QCLabCLI.run(["merge", "\(a).h5", "\(b).h5", "--output", "merged.h5"], in: folder)
            XCTAssertEqual(merge.status, 1)
            XCTAssertEqual(merge.errors, "qclab: error: cannot merge data: different jobs: \(difference)\n")
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("merged.h5").path))
        }
    }

    func testMergingAFileWrittenByQCLab() throws {
        // QC Lab's files hold no error bars; merged with ours they still merge, weighted.
        let theirs = try SimulationData(contentsOf: Fixtures.url("mf_spin_boson.h5").path)
        let job = try Fixtures.job("mf_spin_boson")
        let ours = try serialDriver(job.simulation, seeds: Array(1000..<1010))
        let merged = try SimulationData.merging([("qclab.h5", theirs), ("ours.h5", ours)])
        XCTAssertEqual(merged.normFactor, theirs.normFactor + 10)
        let expected = zip(theirs.mean("dm_db")!, ours.mean("dm_db")!).map {
            ($0 * Double(theirs.normFactor) + $1 * 10) / Double(theirs.normFactor + 10)
        }
        for (x, y) in zip(merged.mean("dm_db")!, expected) { XCTAssertEqual(x, y, accuracy: 1e-13) }
    }

    // MARK: Info

    func testSummaryNamesTrajectoriesSeedsGridOutputsAndErrorBars() throws {
        let folder = try folder()
        let data = try serialDriver(
            spinBoson(trajectories: 6, algorithm: FewestSwitchesSurfaceHopping(deterministic: true)),
            seeds: [0, 1, 2, 3, 10, 11])
        let path = try save(data, "out.h5", in: folder)
        let summary = try SimulationData(contentsOf: path).summary(
            datasetNames: SimulationData.datasetNames(inFileAt: path))
        XCTAssertEqual(
            summary,
            """
            model:        SpinBoson (init_classical = boltzmann_harmonic)
            constants:    A = 6, E = 0.5, V = 0.5, W = 0.1, boson_mass = 1, kBT = 1, l_reorg = 0.005
            algorithm:    FewestSwitchesSurfaceHopping
                          fssh_deterministic = true, gauge_fixing = sign_overlap, use_gauge_field_force = false
            settings:     tmax = 1, dt_update = 0.01, dt_collect = 0.1
            wf_db:        [1, 0]
            trajectories: 6, 3 independent samples
            seeds:        0...3, 10...11
            time grid:    11 points, dt_collect 0.1, tmax 1
            outputs:      t (11,) real
                          dm_db (11, 2, 2) complex
                          quantum_energy (11,) real
                          classical_energy (11,) real
            error bars:   yes, standard errors of the mean (dm_db_sem, quantum_energy_sem, classical_energy_sem)
            log:          7 lines
            """)
        let fixture = Fixtures.url("mf_spin_boson.h5").path
        let theirs = try SimulationData(contentsOf: fixture).summary(
            datasetNames: SimulationData.datasetNames(inFileAt: fixture))
        XCTAssertTrue(theirs.contains("error bars:   no"), theirs)
        XCTAssertTrue(theirs.contains("trajectories: 50\n"), theirs)
        XCTAssertTrue(
            theirs.hasPrefix("job:          not recorded (a file written by QC Lab, say)\ntrajectories: 50\n"), theirs)
    }

    // MARK: Plot

    /// The elements of an SVG document, parsed with Foundation's XMLParser.
    final class SVGElements: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        var texts: [String] = []
        private var text = ""
        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            elements.append((name, attributes))
            text = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { texts.append(text) }
            text = ""
        }

        static func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGElements {
            let parser = XMLParser(data: Foundation.Data(svg.utf8))
            let delegate = SVGElements()
            parser.delegate = delegate
            XCTAssertTrue(
                parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))", file: file,
                line: line)
            return delegate
        }

        func withClass(_ prefix: String) -> [[String: String]] {
            elements.filter { ($0.attributes["class"] ?? "").hasPrefix(prefix) }.map(\.attributes)
        }
    }

    func testPlotOfARunIsValidSVGWithOneLinePerStateAxesAndLegend() throws {
        let data = try serialDriver(spinBoson(algorithm: FewestSwitchesSurfaceHopping()))
        let plot = try TimeSeriesPlot(data: data)
        XCTAssertEqual(plot.title, "Diabatic populations: SpinBoson, FSSH")
        let svg = SVGElements.parse(plot.svg())
        XCTAssertEqual(svg.elements.first?.name, "svg")
        XCTAssertEqual(svg.withClass("line ").count, 2, "one line per state")
        XCTAssertEqual(svg.withClass("band ").count, 2, "one error band per state")
        XCTAssertTrue(svg.texts.contains("time"))
        XCTAssertTrue(svg.texts.contains("population"))
        XCTAssertTrue(svg.texts.contains("Diabatic populations: SpinBoson, FSSH"))
        XCTAssertTrue(svg.texts.contains("state 0") && svg.texts.contains("state 1"), "\(svg.texts)")
        // Tick labels: numbers including 0 and 1 on both axes (populations; times 0 to tmax = 1).
        let numbers = svg.texts.compactMap(Double.init)
        XCTAssertGreaterThanOrEqual(numbers.count, 8, "tick labels: \(svg.texts)")
        XCTAssertGreaterThanOrEqual(numbers.filter { $0 == 0 }.count, 2, "0 on both axes: \(svg.texts)")
        XCTAssertGreaterThanOrEqual(numbers.filter { $0 == 1 }.count, 2, "1 on both axes: \(svg.texts)")
        // The lines follow the data: state 0 starts at the top (population 1).
        let lines = svg.withClass("line ")
        let start = lines[0]["d"]!.dropFirst().split(separator: " ")[0].split(separator: ",").map { Double($0)! }
        let end = lines[1]["d"]!.dropFirst().split(separator: " ")[0].split(separator: ",").map { Double($0)! }
        XCTAssertLessThan(start[1], end[1], "population 1 is drawn above population 0")
        XCTAssertEqual(start[0], end[0], "both lines start at t = 0")
    }

    func testPlotOfManyStatesKeepsTheLegendShort() throws {
        let states = 50, times = (0...20).map { Double($0) * 0.5 }
        let populations = (0..<states).map { n in
            times.map { t in exp(-t) * (n == 0 ? 1 : 0) + (1 - exp(-t)) / Double(states) }
        }
        let plot = TimeSeriesPlot(
            times: times, values: populations,
            standardErrors: populations.map { $0.map { 0.01 * $0 } }, title: "Holstein <50> & co")
        let svg = SVGElements.parse(plot.svg())
        XCTAssertEqual(svg.withClass("line ").count, states)
        let entries = svg.withClass("legend-entry")
        XCTAssertLessThanOrEqual(entries.count, 10)
        XCTAssertTrue(svg.texts.contains("state 0") && svg.texts.contains("state 49"), "\(svg.texts)")
        XCTAssertTrue(svg.texts.contains { $0.contains("50 series") }, "a note on the states left out: \(svg.texts)")
        XCTAssertTrue(svg.texts.contains("Holstein <50> & co"), "the title is escaped and read back")
    }

    func testPlotBreaksLinesAtNonFiniteValuesAndOmitsMissingErrorBars() throws {
        let times = [0.0, 1, 2, 3, 4]
        let plot = TimeSeriesPlot(times: times, values: [[1, 0.8, .nan, 0.6, 0.5], [0, 0.2, .infinity, 0.4, 0.5]])
        let svg = SVGElements.parse(plot.svg())
        for path in svg.elements where path.name == "path" {
            let d = path.attributes["d"] ?? ""
            XCTAssertTrue(d.allSatisfy { "MLZ0123456789.,- ".contains($0) }, "only finite coordinates: \(d)")
        }
        XCTAssertEqual(svg.withClass("band ").count, 0)
        XCTAssertEqual(svg.withClass("line ").count, 2)
        XCTAssertEqual(svg.withClass("line ")[0]["d"]!.filter { $0 == "M" }.count, 2, "a gap where the value is NaN")
        // QC Lab's own files hold no error bars: no bands, and the subtitle says so.
        let theirs = try TimeSeriesPlot(data: SimulationData(contentsOf: Fixtures.url("mf_spin_boson.h5").path))
        XCTAssertNil(theirs.standardErrors)
        XCTAssertEqual(theirs.subtitle, "50 trajectories; no error bars in this data")
        XCTAssertEqual(SVGElements.parse(theirs.svg()).withClass("band ").count, 0)
    }

    func testTicksAreRound() {
        XCTAssertEqual(TimeSeriesPlot.ticks(0, 1, target: 5).values, [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        XCTAssertEqual(TimeSeriesPlot.ticks(0, 1500, target: 7).step, 250)
        XCTAssertEqual(TimeSeriesPlot.label(0.25, step: 0.25), "0.25")
        XCTAssertEqual(TimeSeriesPlot.label(-0.0, step: 0.2), "0.0")
        XCTAssertEqual(TimeSeriesPlot.label(1500, step: 250), "1500")
    }

    // MARK: End to end

    func testMergeInfoAndPlotThroughTheCommandLine() throws {
        let folder = try folder()
        func write(_ name: String, _ extra: String) throws {
            try BadJob.job(extra: extra).write(
                to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write("all.json", #", "seeds": [0, 1, 2, 3, 4, 5]"#)
        try write("a.json", #", "seeds": [0, 1, 2]"#)
        try write("b.json", #", "seeds": [3, 4, 5]"#)
        for name in ["all", "a", "b"] {
            let outcome = try QCLabCLI.run(["run", "\(name).json", "--output", "\(name).h5"], in: folder)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
        }
        // Default outputs hold no exact sums: merged in floating point, saying so.
        let merge = try QCLabCLI.run(["merge", "a.h5", "b.h5", "--output", "merged.h5"], in: folder)
        XCTAssertEqual(merge.status, 0, merge.errors)
        XCTAssertEqual(merge.output, "wrote merged.h5: 6 trajectories (seeds 0...5) from 2 files\n")
        XCTAssertEqual(
            merge.errors,
            "qclab: note: 'a.h5', 'b.h5' were written without exact sums: merged in floating point, "
                + "not bit-identical to one run; write the parts with --mergeable\n")
        let path = { folder.appendingPathComponent($0).path }
        let whole = try SimulationData(contentsOf: path("all.h5"))
        assertSame(try SimulationData(contentsOf: path("merged.h5")), whole)
        // A file without exact sums still has its error bars.
        let parts = try QCLabCLI.run(["info", "a.h5"], in: folder)
        XCTAssertTrue(
            parts.output.contains(
                "error bars:   yes, standard errors of the mean (dm_db_sem, quantum_energy_sem, classical_energy_sem)"),
            parts.output)
        XCTAssertFalse(try SimulationData.datasetNames(inFileAt: path("a.h5")).contains("dm_db_exact"))
        // Mergeable parts merge silently into the bits of one run.
        for name in ["all", "a", "b"] {
            let outcome = try QCLabCLI.run(
                ["run", "\(name).json", "--output", "\(name)-m.h5", "--mergeable"], in: folder)
            XCTAssertEqual(outcome.status, 0, outcome.errors)
        }
        let exact = try QCLabCLI.run(
            ["merge", "a-m.h5", "b-m.h5", "--output", "merged-m.h5", "--mergeable"], in: folder)
        XCTAssertEqual(exact.errors, "")
        XCTAssertEqual(
            try SimulationData(contentsOf: path("merged-m.h5")).observables,
            try SimulationData(contentsOf: path("all-m.h5")).observables)
        for name in ["all-m.h5", "a-m.h5", "b-m.h5", "merged-m.h5"] {
            try FileManager.default.removeItem(atPath: path(name))
        }

        let overlap = try QCLabCLI.run(["merge", "a.h5", "all.h5", "--output", "bad.h5"], in: folder)
        XCTAssertNotEqual(overlap.status, 0)
        XCTAssertEqual(
            overlap.errors,
            "qclab: error: cannot merge data: overlapping seeds: 3 seeds (0...2) are in both "
                + "'a.h5' and 'all.h5'; merging would count those trajectories twice\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("bad.h5")))

        let info = try QCLabCLI.run(["info", "merged.h5"], in: folder)
        XCTAssertEqual(info.status, 0, info.errors)
        for expected in [
            "file:         merged.h5", "trajectories: 6", "seeds:        0...5",
            "time grid:    3 points, dt_collect 0.1, tmax 0.2",
            "dm_db (3, 2, 2) complex", "error bars:   yes",
        ] {
            XCTAssertTrue(info.output.contains(expected), "'\(expected)' not in:\n\(info.output)")
        }

        let plot = try QCLabCLI.run(["plot", "merged.h5", "--output", "pop.svg"], in: folder)
        XCTAssertEqual(plot.status, 0, plot.errors)
        let svg = SVGElements.parse(try String(contentsOf: folder.appendingPathComponent("pop.svg"), encoding: .utf8))
        XCTAssertEqual(svg.withClass("line ").count, 2)
        XCTAssertTrue(svg.texts.contains("population"))
        let defaultName = try QCLabCLI.run(["plot", "all.h5"], in: folder)
        XCTAssertEqual(defaultName.status, 0, defaultName.errors)
        XCTAssertEqual(
            QCLabCLI.contents(of: folder),
            ["a.h5", "a.json", "all.h5", "all.json", "all.svg", "b.h5", "b.json", "merged.h5", "pop.svg"],
            "no temporary files left")
    }

    /// `qclab info` shows the job a file records: the model by its canonical name (whatever
    /// the job file called it) with every constant, the algorithm with its settings, the
    /// settings as QC Lab rounds them and `wf_db`; long lists go on over rows.
    func testInfoShowsTheJobsModelAlgorithmSettingsAndConstants() throws {
        let folder = try folder()
        try BadJob.job(
            settings: #"{"tmax": 0.25, "dt_update": 0.01, "dt_collect": 0.1, "num_trajs": 2}"#,
            model: #"{"name": "holstein", "constants": {"N": 12, "g": 0.75}, "init_classical": "wigner_harmonic"}"#,
            algorithm: #"{"name": "fssh", "settings": {"gauge_fixing": "phase_overlap"}}"#,
            initialState: #"{"wf_db": [0, 0, 0, [0.6, -0.8], 0, 0, 0, 0, 0, 0, 0, 0]}"#
        )
        .write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let run = try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder)
        XCTAssertEqual(run.status, 0, run.errors)
        let info = try QCLabCLI.run(["info", "out.h5"], in: folder)
        XCTAssertEqual(info.status, 0, info.errors)
        XCTAssertEqual(
            Array(info.output.split(separator: "\n").prefix(8)),
            [
                "file:         out.h5",
                "model:        HolsteinLattice (init_classical = wigner_harmonic)",
                "constants:    J = 1, N = 12, g = 0.75, kBT = 1, periodic = true, phonon_mass = 1, w = 0.5",
                "algorithm:    FewestSwitchesSurfaceHopping",
                "              fssh_deterministic = false, gauge_fixing = phase_overlap, use_gauge_field_force = false",
                "settings:     tmax = 0.2, dt_update = 0.01, dt_collect = 0.1",  // 0.25 as QC Lab rounds it
                "wf_db:        12 entries, zero but for [3] = 0.6-0.8i",
                "trajectories: 2",
            ], info.output)
        // Mean field has no settings: no row for them; a short wf_db is shown whole.
        try BadJob.valid.write(to: folder.appendingPathComponent("mf.json"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try QCLabCLI.run(["run", "mf.json", "--output", "mf.h5"], in: folder).status, 0)
        let mf = try QCLabCLI.run(["info", "mf.h5"], in: folder)
        XCTAssertTrue(
            mf.output.contains(
                "\nalgorithm:    MeanField\nsettings:     tmax = 0.2, dt_update = 0.01, dt_collect = 0.1\n"
                    + "wf_db:        [1, 0]\ntrajectories: 4\n"), mf.output)
        // A model written in Swift is shown by the properties it records.
        var data = try SimulationData(contentsOf: folder.appendingPathComponent("mf.h5").path)
        data.job =
            #"{"algorithm": {"name": "MeanField", "settings": {}}, "model": {"name": "DoubleWell", "swift_properties": {"gap": 0.5, "kBT": 1}}, "settings": {"tmax": 1}}"#
        XCTAssertTrue(
            data.summary().hasPrefix(
                "model:        DoubleWell\nproperties:   gap = 0.5, kBT = 1\nalgorithm:    MeanField\nsettings:     tmax = 1\n"
            ),
            data.summary())
    }

    /// `--append` continues a run with fresh seeds: the result equals one run of all of them.
    func testAppendThroughTheCommandLine() throws {
        let folder = try folder()
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        let first = try QCLabCLI.run(["run", "job.json", "--output", "first.h5"], in: folder)
        XCTAssertEqual(first.status, 0, first.errors)
        let second = try QCLabCLI.run(["run", "job.json", "--output", "both.h5", "--append", "first.h5"], in: folder)
        XCTAssertEqual(second.status, 0, second.errors)
        XCTAssertEqual(
            second.errors,
            "qclab: note: 'first.h5' was written without exact sums: appended in floating point, "
                + "not bit-identical to one run; write the parts with --mergeable\n")
        XCTAssertTrue(second.output.contains("wrote both.h5: 8 trajectories (seeds 0...7)"), second.output)
        var job = try Job(json: Foundation.Data(BadJob.valid.utf8))
        job.simulation.settings.numTrajs = 8
        assertSame(
            try SimulationData(contentsOf: folder.appendingPathComponent("both.h5").path),
            try serialDriver(job.simulation))
        // Appended to a mergeable file: silently, to the bits of one run.
        XCTAssertEqual(
            try QCLabCLI.run(["run", "job.json", "--output", "first-m.h5", "--mergeable"], in: folder).status, 0)
        let exact = try QCLabCLI.run(
            ["run", "job.json", "--output", "both-m.h5", "--append", "first-m.h5", "--mergeable"], in: folder)
        XCTAssertEqual(exact.status, 0, exact.errors)
        XCTAssertEqual(exact.errors, "")
        XCTAssertEqual(
            try SimulationData(contentsOf: folder.appendingPathComponent("both-m.h5").path).observables,
            try serialDriver(job.simulation).observables)
    }
}
