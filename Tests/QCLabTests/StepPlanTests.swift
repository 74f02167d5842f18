import XCTest
@testable import QCLab
@_spi(Benchmarks) import QCLabCore

/// Runs `body` for every element of `items`, naming the element in any failure: the
/// pattern of swift-collections' `withEvery` test helpers, so that one test can sweep a
/// whole space of cases and still say which one broke.
func withEvery<S: Sequence>(
    _ label: String, in items: S, describe: (S.Element) -> String = { "\($0)" },
    _ body: (S.Element, String) throws -> Void
) rethrows {
    for item in items { try body(item, "\(label) \(describe(item))") }
}

/// Every applicable step plan of every model gives the generic plan's dynamics: the same
/// hops, and every output within 1e-10.
final class StepPlanTests: XCTestCase {
    /// Models that reach every plan: two-state real with a fused harmonic step (spin-boson)
    /// or a fused scattering step (Tully), Jacobi sizes (FMO, a small Holstein lattice, the
    /// three-state crossing written in Swift), LAPACK-only sizes and complex H.
    static let models: [(any Model, dt: Double, steps: Int)] = [
        (SpinBoson(A: 6, lReorg: 0.05), 0.02, 150),
        (FMOComplex(N: 2), 0.02, 60),
        (HolsteinLattice(g: 0.8, N: 4, periodic: false), 0.02, 80),
        (HolsteinLattice(g: 0.8, N: 18, periodic: true), 0.02, 20),
        (HolsteinLatticeReciprocalSpace(N: 4), 0.02, 60),
        (TullyProblemOne(initMomentum: 20, initPosition: -1.5), 1.0, 150),
        (TullyProblemTwo(initMomentum: 25, initPosition: -2), 1.0, 150),
        (TullyProblemThree(initMomentum: 20, initPosition: -1), 1.0, 150),
        (ThreeStateCrossing.crossingNow, 1.0, 150),
    ]

    static let surfaceHopping: [FewestSwitchesSurfaceHopping] = FewestSwitchesSurfaceHopping.GaugeFixing.allCases
        .flatMap { gauge in
            [false, true].map { FewestSwitchesSurfaceHopping(deterministic: $0, gaugeFixing: gauge) }
        }

    func testEveryPlanOfEveryModelAgreesWithTheGenericPlan() throws {
        var compared = 0, hops = 0, plansSeen = Set<StepPlan>()
        try withEvery(
            "model", in: Self.models.map { ($0.0.modelName + "(\($0.0.numQuantumStates))", $0) }, describe: \.0
        ) { entry, label in
            let (model, dt, steps) = entry.1
            let psi0 = (0..<model.numQuantumStates).map { Complex($0 == 0 ? 0.6 : 0, $0 == 1 ? 0.8 : 0) }
            let seeds = Array(0..<(2 * model.numQuantumStates))
            let grid = TimeGrid(
                SimulationSettings(tmax: dt * Double(steps), dtUpdate: dt, dtCollect: dt * Double(steps / 5)))
            let extras: [Output] = [
                .positions(coordinates: model.numClassicalCoordinates),
                .momenta(coordinates: model.numClassicalCoordinates),
                .adiabaticPopulations(states: model.numQuantumStates),
            ]

            // Mean field.
            let meanField = MeanField()
            XCTAssertTrue(meanField.applicablePlans(for: model).contains(meanField.stepPlan(for: model)!), label)
            let mfReference = try MeanField(stepPlan: .generic(diagonalizes: false)).runBatch(
                model: model, grid: grid, initialWavefunction: psi0, seeds: seeds,
                outputs: meanField.defaultOutputs(for: model) + extras)
            try withEvery("mean-field plan", in: meanField.applicablePlans(for: model)) { plan, planLabel in
                plansSeen.insert(plan)
                let data = try MeanField(stepPlan: plan).runBatch(
                    model: model, grid: grid, initialWavefunction: psi0,
                    seeds: seeds, outputs: meanField.defaultOutputs(for: model) + extras)
                assertClose(data, mfReference, "\(label), \(planLabel)")
                compared += 1
            }

            // Surface hopping, every gauge, stochastic and deterministic.
            try withEvery("FSSH", in: Self.surfaceHopping) { algorithm, algorithmLabel in
                let plans = algorithm.applicablePlans(for: model)
                XCTAssertTrue(plans.contains(algorithm.stepPlan(for: model)!), "\(label): the fastest plan applies")
                var generic = algorithm
                generic.forcedStepPlan = .generic(diagonalizes: true)
                let reference = try run(generic, model: model, grid: grid, seeds: seeds, psi0: psi0, extras: extras)
                hops += reference.hops.count
                try withEvery("plan", in: plans) { plan, planLabel in
                    plansSeen.insert(plan)
                    var forced = algorithm
                    forced.forcedStepPlan = plan
                    let result = try run(forced, model: model, grid: grid, seeds: seeds, psi0: psi0, extras: extras)
                    let where_ = "\(label), \(algorithmLabel), \(planLabel)"
                    XCTAssertEqual(result.hops, reference.hops, "\(where_): the same hops")
                    assertClose(result.data, reference.data, where_)
                    compared += 1
                }
            }
        }
        XCTAssertGreaterThan(hops, 100, "the comparisons cover hops")
        XCTAssertGreaterThan(compared, 300)
        // Every kind of fast path was compared.
        XCTAssertTrue(plansSeen.contains { $0.classical == .fused && $0.eigensolver == .closedFormTwoByTwo })
        XCTAssertTrue(plansSeen.contains { $0.quantum == .fusedTwoState && $0.classical == .rk4 })
        XCTAssertTrue(plansSeen.contains { $0.quantum == .fusedScatteringStep })
        XCTAssertTrue(plansSeen.contains { $0.eigensolver == .jacobiWarmStart && $0.realProducts })
        XCTAssertTrue(plansSeen.contains { $0.classical == .fused && $0.eigensolver == .jacobiWarmStart })
        XCTAssertTrue(plansSeen.contains { $0.eigensolver == .warmStartTridiagonal && $0.realProducts })
    }

    /// Runs one batch step by step, recording every hop attempt and the outputs.
    private func run(
        _ algorithm: FewestSwitchesSurfaceHopping, model: any Model, grid: TimeGrid, seeds: [Int],
        psi0: [Complex<Double>], extras: [Output]
    ) throws -> (data: SimulationData, hops: [[HopEvent]]) {
        var batch = try SurfaceHoppingBatch(
            algorithm: algorithm, model: model, grid: grid, seeds: seeds,
            initialWavefunction: psi0)
        XCTAssertEqual(batch.plan, algorithm.forcedStepPlan)
        let outputs =
            algorithm.defaultOutputs(for: model) + extras + [.activeSurfacePopulations(states: model.numQuantumStates)]
        var collector = OutputCollector(
            outputs: outputs, grid: grid, rows: seeds.count, branches: algorithm.branchCount(for: model))
        var hops: [[HopEvent]] = []
        for step in 0...grid.totalSteps {
            if step % grid.stepsPerCollect == 0 {
                try collector.collect(
                    batch.collectState(time: Double(step) * grid.dtUpdate), index: step / grid.stepsPerCollect)
            }
            if step < grid.totalSteps {
                try batch.step(dt: grid.dtUpdate)
                if !batch.hopEvents.isEmpty { hops.append(batch.hopEvents) }
            }
        }
        return (collector.data(seeds: seeds), hops)
    }

    private func assertClose(
        _ a: SimulationData, _ b: SimulationData, _ label: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(a.observables.map(\.name), b.observables.map(\.name), label, file: file, line: line)
        for name in a.observables.map(\.name) {
            let worst = zip(a.mean(name)!, b.mean(name)!).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-10, "\(label): \(name)", file: file, line: line)
            let worstErrors =
                zip(a.standardError(name) ?? [], b.standardError(name) ?? []).map { abs($0 - $1) / max(1, abs($1)) }
                .max() ?? 0
            XCTAssertLessThanOrEqual(worstErrors, 1e-10, "\(label): \(name) standard errors", file: file, line: line)
        }
    }

    // MARK: The plan itself

    func testThePlanIsChosenOnceLoggedAndForceable() throws {
        let model = SpinBoson()
        let fastest = FewestSwitchesSurfaceHopping().stepPlan(for: model)!
        XCTAssertEqual(
            fastest,
            StepPlan(
                classical: .fused, eigensolver: .closedFormTwoByTwo, quantum: .fusedTwoState,
                realProducts: true))
        XCTAssertEqual(
            FewestSwitchesSurfaceHopping(gaugeFixing: .phaseOverlap).stepPlan(for: model)!.realProducts, false)
        XCTAssertEqual(
            FewestSwitchesSurfaceHopping().stepPlan(for: HolsteinLattice(N: 30))!.eigensolver, .warmStartTridiagonal)
        XCTAssertEqual(FewestSwitchesSurfaceHopping().stepPlan(for: FMOComplex())!.eigensolver, .batchedHouseholder)
        XCTAssertEqual(
            FewestSwitchesSurfaceHopping().stepPlan(for: HolsteinLattice(N: 3))!.eigensolver, .jacobiWarmStart)
        XCTAssertEqual(
            FewestSwitchesSurfaceHopping().stepPlan(for: HolsteinLattice(N: 300))!.eigensolver, .warmStartTridiagonal)
        XCTAssertEqual(
            FewestSwitchesSurfaceHopping().stepPlan(for: HolsteinLatticeReciprocalSpace(N: 30))!.eigensolver,
            .batchedHouseholder)
        XCTAssertEqual(
            MeanField().stepPlan(for: TullyProblemOne())!,
            StepPlan(
                classical: .fused, eigensolver: nil,
                quantum: .separate, realProducts: true))
        // Tully's problems fuse the whole step (their surfaces are built into the kernels);
        // a scattering model written in Swift, a gauge needing complex products or the RK4
        // integrator leave that plan out.
        let whole = StepPlan(
            classical: .fused, eigensolver: .closedFormTwoByTwo, quantum: .fusedScatteringStep,
            realProducts: true)
        for tully in [TullyProblemOne(), TullyProblemTwo(), TullyProblemThree()] as [any Model] {
            XCTAssertEqual(FewestSwitchesSurfaceHopping().stepPlan(for: tully)!, whole, tully.modelName)
            XCTAssertEqual(
                FewestSwitchesSurfaceHopping().applicablePlans(for: tully).filter {
                    $0.quantum == .fusedScatteringStep
                },
                [whole], tully.modelName)
        }
        for other in [SpinBoson(), SwiftTullyOne()] as [any Model] {
            XCTAssertFalse(
                FewestSwitchesSurfaceHopping().applicablePlans(for: other).contains {
                    $0.quantum == .fusedScatteringStep
                },
                other.modelName)
        }
        XCTAssertEqual(FewestSwitchesSurfaceHopping().stepPlan(for: SwiftTullyOne())!.quantum, .fusedTwoState)
        XCTAssertEqual(
            FewestSwitchesSurfaceHopping(gaugeFixing: .phaseOverlap).stepPlan(for: TullyProblemOne())!.quantum,
            .separate)
        XCTAssertTrue(whole.description.contains("whole step fused"), whole.description)

        // The run's log names the plan.
        var settings = SimulationSettings(tmax: 0.1, dtUpdate: 0.01, dtCollect: 0.05)
        settings.numTrajs = 4
        settings.batchSize = 2
        let simulation = Simulation(
            settings: settings, model: model, algorithm: FewestSwitchesSurfaceHopping(),
            initialWavefunction: [Complex(1), Complex(0)])
        let data = try serialDriver(simulation)
        XCTAssertTrue(data.log.contains("Step plan: \(fastest)."), data.log)
        XCTAssertTrue(data.log.contains("fused two-state"), data.log)

        // A forced plan that does not apply is a typed error naming it, not a wrong answer.
        var forced = simulation
        forced.algorithm = FewestSwitchesSurfaceHopping(
            stepPlan: StepPlan(
                classical: .rk4, eigensolver: .jacobiWarmStart, quantum: .separate, realProducts: true))
        XCTAssertThrowsError(try serialDriver(forced)) { error in
            guard case let QCLabError.invalidSetting(name, reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "step plan")
            XCTAssertTrue(reason.contains("SpinBoson"), reason)
        }
        XCTAssertThrowsError(try BatchEigensolver(states: 3, batchSize: 1, isReal: false, strategy: .jacobiWarmStart))
    }

    /// The closed-form harmonic RK4 step against QC Lab's four stages, on its own: several
    /// steps of baths with one coupling per coordinate (spin-boson), many (FMO) and a
    /// lattice, from thermal coordinates and a complex wavefunction.
    func testClosedFormHarmonicStepEqualsTheFourStages() throws {
        let models: [any DiagonalLinearHarmonicModel] = [
            SpinBoson(A: 12), FMOComplex(N: 3),
            HolsteinLattice(g: 1.2, N: 5, periodic: true),
        ]
        withEvery("model", in: models.map { ($0.modelName, $0) }, describe: \.0) { entry, label in
            let model = entry.1, n = model.numQuantumStates, seeds = Array(0..<6), dt = 0.05
            let z0 = model.initialClassicalCoordinates(seeds: seeds)
            var psi = ComplexBatch(components: n, batchSize: seeds.count)
            for i in psi.re.indices {
                psi.re[i] = sin(Double(i) + 1) / Double(n).squareRoot()
                psi.im[i] = cos(3 * Double(i)) / Double(n).squareRoot()
            }
            var closedForm = model.fusedClassicalStep(dt: dt, batchSize: seeds.count)
            XCTAssertTrue(closedForm is ClosedFormRK4Step, label)
            var rk4 = ClassicalRK4(coordinates: model.numClassicalCoordinates, batchSize: seeds.count)
            var zFused = z0, zStages = z0
            var hFused = ComplexBatch(components: n * n, batchSize: seeds.count), hStages = hFused
            for _ in 0..<20 {
                closedForm.advance(z: &zFused, psi: psi, hamiltonian: &hFused)
                rk4.step(model: model, z: &zStages, psi: psi, dt: dt)
                model.quantumHamiltonian(z: zStages, into: &hStages)
            }
            XCTAssertGreaterThan(zip(zStages.re, z0.re).map { abs($0 - $1) }.max()!, 1e-2, "\(label): z moved")
            for (a, b) in [(zFused, zStages), (hFused, hStages)] {
                let scale = max(1, (b.re + b.im).map(abs).max()!)
                let worst = zip(a.re + a.im, b.re + b.im).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(worst, 1e-12 * scale, label)
            }
        }
    }

    /// The gauge-field-force branch of the classical step runs: a model whose gauge-field
    /// force is a constant push moves exactly as the same model with that push in its
    /// classical force, and unlike the model without it; the fused step steps aside.
    func testTheGaugeFieldForceEntersTheClassicalStep() throws {
        let push = 0.004
        let gauged = GaugedSpinBoson(base: SpinBoson(A: 4), push: push, inClassicalForce: false)
        let pushed = GaugedSpinBoson(base: SpinBoson(A: 4), push: push, inClassicalForce: true)
        let algorithm = FewestSwitchesSurfaceHopping(useGaugeFieldForce: true)
        XCTAssertEqual(algorithm.stepPlan(for: gauged)!.classical, .rk4)
        XCTAssertFalse(algorithm.applicablePlans(for: gauged).contains { $0.classical == .fused })
        // Without a gauge-field force the setting changes nothing, as in QC Lab.
        XCTAssertEqual(algorithm.stepPlan(for: SpinBoson())!.classical, .fused)

        var settings = SimulationSettings(tmax: 3, dtUpdate: 0.01, dtCollect: 0.5)
        settings.numTrajs = 8
        settings.batchSize = 8
        let psi0: [Complex<Double>] = [Complex(1), Complex(0)]
        func run(_ model: any Model, _ algorithm: FewestSwitchesSurfaceHopping) throws -> SimulationData {
            var simulation = Simulation(
                settings: settings, model: model, algorithm: algorithm, initialWavefunction: psi0)
            simulation.outputs = [.positions(coordinates: model.numClassicalCoordinates)]
            return try serialDriver(simulation)
        }
        let withForce = try run(gauged, algorithm)
        let inClassical = try run(pushed, FewestSwitchesSurfaceHopping(stepPlan: .generic(diagonalizes: true)))
        let without = try run(gauged, FewestSwitchesSurfaceHopping(stepPlan: .generic(diagonalizes: true)))
        let q = withForce.mean("q")!, qPushed = inClassical.mean("q")!, qWithout = without.mean("q")!
        for (a, b) in zip(q, qPushed) { XCTAssertEqual(a, b, accuracy: 1e-10) }
        XCTAssertGreaterThan(zip(q, qWithout).map { abs($0 - $1) }.max()!, 1e-3, "the force moved the bath")
    }
}

extension ThreeStateCrossing {
    /// Started just before the crossing, so that a short run hops.
    static var crossingNow: ThreeStateCrossing {
        var model = ThreeStateCrossing()
        model.initPosition = -1.5
        model.initMomentum = 25
        return model
    }
}

/// The spin-boson model with a constant push on every coordinate, as a gauge-field force
/// or in the classical force.
struct GaugedSpinBoson: ModelWrapper, GaugeFieldForceModel {
    let base: any Model
    let push: Double
    let inClassicalForce: Bool

    var modelName: String { "GaugedSpinBoson" }
    var hamiltonianIsReal: Bool { true }
    var couplingGradientDependsOnZ: Bool { false }
    func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
        base.classicalForce(z: z, into: &force)
        if inClassicalForce { for i in force.re.indices { force.re[i] += push } }
    }
    func addGaugeFieldForce(z: ComplexBatch, activeSurface: [Int], to force: inout ComplexBatch) {
        precondition(activeSurface.count == z.batchSize)
        for i in force.re.indices { force.re[i] += push }
    }
}
