import Foundation
import XCTest
@testable import QCLab

/// `qclab plot` beyond populations: energies and any output, model units, heat maps for
/// many states, the sample count of deterministic surface hopping, colours that read on
/// white, and PNG through rsvg-convert.
final class PlotTests: XCTestCase {
    func run(
        _ model: any Model, _ algorithm: any Algorithm, wavefunction: [Complex<Double>], trajectories: Int = 4,
        tmax: Double = 1, dtUpdate: Double = 0.01
    ) throws -> SimulationData {
        let settings = SimulationSettings(
            tmax: tmax, dtUpdate: dtUpdate, dtCollect: 10 * dtUpdate,
            numTrajs: trajectories, batchSize: trajectories)
        return try serialDriver(
            Simulation(settings: settings, model: model, algorithm: algorithm, initialWavefunction: wavefunction))
    }

    func testEnergiesHaveThreeSeriesAndTheModelsUnits() throws {
        let data = try run(
            TullyProblemOne(initPosition: -5), FewestSwitchesSurfaceHopping(), wavefunction: [Complex(1), Complex(0)],
            tmax: 2000, dtUpdate: 1)
        let plot = try TimeSeriesPlot(data: data, quantity: .energies)
        XCTAssertEqual(plot.names, ["quantum", "classical", "total"])
        XCTAssertEqual(plot.title, "Energy exchange: TullyProblemOne, FSSH")
        XCTAssertEqual(plot.yLabel, "E(t) − E(0) (hartree)")
        XCTAssertTrue(plot.xLabel.hasPrefix("time (a.u."), plot.xLabel)
        XCTAssertNil(plot.standardErrors, "a change has no error bar in the data")
        XCTAssertTrue(plot.subtitle!.contains("changes since t = 0"), plot.subtitle!)
        // Each part as its change since t = 0; the total is their sum.
        let quantum = data.mean("quantum_energy")!, classical = data.mean("classical_energy")!
        for k in plot.times.indices {
            XCTAssertEqual(plot.values[0][k], quantum[k] - quantum[0])
            XCTAssertEqual(plot.values[1][k], classical[k] - classical[0])
            XCTAssertEqual(plot.values[2][k], plot.values[0][k] + plot.values[1][k], accuracy: 1e-15)
        }
        XCTAssertGreaterThan(
            plot.values[0].map(abs).max()!, 1e-4, "the particle passes the crossing: energy changes hands")
        let svg = MergeInfoPlotTests.SVGElements.parse(plot.svg())
        XCTAssertEqual(svg.withClass("line ").count, 3)
        XCTAssertTrue(svg.texts.contains("E(t) − E(0) (hartree)") && svg.texts.contains("total"), "\(svg.texts)")
        // Reduced units (spin-boson): plain "time" and "energy".
        let reduced = try TimeSeriesPlot(
            data: run(SpinBoson(A: 4), MeanField(), wavefunction: [Complex(1), Complex(0)]),
            quantity: .energies)
        XCTAssertEqual([reduced.xLabel, reduced.yLabel], ["time", "E(t) − E(0)"])
    }

    func testAnyOutputByNameAndAnUnknownOneNamesTheKnown() throws {
        let data = try run(SpinBoson(A: 4), MeanField(), wavefunction: [Complex(1), Complex(0)])
        let plot = try TimeSeriesPlot(data: data, quantity: PlotQuantity(name: "classical_energy"))
        XCTAssertEqual(plot.names, ["classical_energy"])
        XCTAssertEqual(plot.values, [data.mean("classical_energy")!])
        XCTAssertFalse(plot.includesZero)
        XCTAssertThrowsError(try PlotSeries(data: data, quantity: .output("dm_bd"))) { error in
            XCTAssertEqual(
                "\(error)",
                "unknown output to plot 'dm_bd'; did you mean 'dm_db'? (known: populations, energies, dm_db, quantum_energy, classical_energy)"
            )
        }
        XCTAssertThrowsError(try PlotSeries(data: SimulationData(), quantity: .populations))
    }

    func testManyStatesMakeAHeatMapOneRowPerStateWithAColourBar() throws {
        let n = 12
        var wavefunction = [Complex<Double>](repeating: Complex(0), count: n)
        wavefunction[5] = Complex(1)
        let data = try run(HolsteinLattice(N: n), MeanField(), wavefunction: wavefunction)
        let plot = try HeatMapPlot(data: data)
        XCTAssertEqual(plot.values.count, n)
        let svg = MergeInfoPlotTests.SVGElements.parse(plot.svg())
        let cells = svg.elements.filter { $0.name == "rect" && $0.attributes["class"] == "cell" }.map(\.attributes)
        XCTAssertFalse(cells.isEmpty)
        XCTAssertEqual(Set(cells.compactMap { $0["y"] }).count, n, "one row of cells per state")
        // At t = 0 all of the population is on state 5: its first cell has the top colour, the others the bottom one.
        let rowHeight = Double(cells[0]["height"]!)!
        let firstColumn = cells.filter { Double($0["x"]!)! == 84 }
        XCTAssertEqual(firstColumn.count, n)
        for cell in firstColumn {
            let row = Int(((Double(cell["y"]!)! - 84) / rowHeight).rounded())
            XCTAssertEqual(cell["fill"], ColourScale.viridis(row == 5 ? 63.5 / 64 : 0.5 / 64), "row \(row)")
        }
        XCTAssertTrue(svg.texts.contains("population") && svg.texts.contains("state"), "\(svg.texts)")
        XCTAssertTrue(svg.texts.contains("1.0") || svg.texts.contains("1"), "colour bar reaches 1: \(svg.texts)")
    }

    func testDeterministicSurfaceHoppingCountsIndependentSamplesNotBranches() throws {
        let data = try run(
            SpinBoson(A: 4), FewestSwitchesSurfaceHopping(deterministic: true),
            wavefunction: [Complex(1), Complex(0)], trajectories: 6)
        XCTAssertEqual(data.normFactor, 6)
        XCTAssertEqual(data.sampleCount, 3)
        XCTAssertTrue(try TimeSeriesPlot(data: data).subtitle!.hasPrefix("3 independent samples (6 branches)"))
        let stochastic = try run(
            SpinBoson(A: 4), FewestSwitchesSurfaceHopping(), wavefunction: [Complex(1), Complex(0)])
        XCTAssertTrue(try TimeSeriesPlot(data: stochastic).subtitle!.hasPrefix("4 trajectories;"))
    }

    /// WCAG contrast of every line colour against white: at least 3:1 (graphics), so no
    /// line is faint (a bright yellow is about 1.2:1).
    func testEveryLineColourReadsOnWhite() {
        func luminance(_ hex: String) -> Double {
            let value = Int(hex.dropFirst(), radix: 16)!
            func linear(_ shift: Int) -> Double {
                let c = Double((value >> shift) & 255) / 255
                return c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
            }
            let red: Double = linear(16), green: Double = linear(8), blue: Double = linear(0)
            return 0.2126 * red + 0.7152 * green + 0.0722 * blue
        }
        for count in [2, 7, 10, 11, 50] {
            for series in 0..<count {
                let colour = TimeSeriesPlot.colour(series, of: count)
                XCTAssertGreaterThanOrEqual(
                    1.05 / (luminance(colour) + 0.05), 3, "\(colour) (series \(series) of \(count))")
            }
        }
    }

    // MARK: Command line

    func testPNGThroughRsvgConvertAndAClearLineWithoutIt() throws {
        let folder = try QCLabCLI.temporaryFolder(self, "qclab-plot")
        try BadJob.valid.write(to: folder.appendingPathComponent("job.json"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try QCLabCLI.run(["run", "job.json", "--output", "out.h5"], in: folder).status, 0)

        let png = try QCLabCLI.run(["plot", "out.h5", "--output", "pop.png"], in: folder)
        XCTAssertEqual(png.status, 0, png.errors)
        let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent("pop.png")))
        XCTAssertEqual(
            Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "a PNG, not an SVG named .png")
        let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) },
            height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual([width, height], [1760, 1040], "rendered at twice the SVG's size")

        let energies = try QCLabCLI.run(["plot", "out.h5", "--quantity", "energies"], in: folder)
        XCTAssertEqual(energies.status, 0, energies.errors)
        XCTAssertEqual(
            energies.output, "wrote out-energies.svg: energies, 3 series at 3 times (lines, changes since t = 0)\n")

        let noRasterizer = try QCLabCLI.run(
            ["plot", "out.h5", "--output", "again.png"], in: folder, environment: ["PATH": "/nonexistent"])
        XCTAssertEqual(noRasterizer.status, 1)
        XCTAssertEqual(noRasterizer.errorLines.count, 1, noRasterizer.errors)
        XCTAssertTrue(
            noRasterizer.errors.contains("rsvg-convert") && noRasterizer.errors.contains("librsvg2-bin"),
            noRasterizer.errors)
        let pdf = try QCLabCLI.run(["plot", "out.h5", "--output", "pop.pdf"], in: folder)
        XCTAssertEqual(pdf.errors, "qclab: error: cannot tell the picture format of 'pop.pdf': name it .svg or .png\n")
        XCTAssertEqual(
            QCLabCLI.contents(of: folder), ["job.json", "out-energies.svg", "out.h5", "pop.png"],
            "no temporary files left")
    }
}
