#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The state of one batch of MSMASH trajectories and QC Lab 1.3.0's update recipe for it:
/// an RK4 step on the active surfaces, the exact propagator for the wavefunctions, a new
/// gauge-fixed adiabatic basis (an ``AdiabaticFrame``, as in FSSH), then the hop
/// resolution of the rows whose most populated surface changed — replayed from the step's
/// start on those rows only.
package struct MSMASHBatch: TrajectoryBatch {
    package let model: any Model
    package let settings: MultiStateMappingApproachToSurfaceHopping
    package let rows: Int
    package let states: Int
    package let alpha: Double
    package private(set) var z: ComplexBatch
    package private(set) var wfDb: ComplexBatch
    package private(set) var activeSurface: [Int]
    /// Per row, the hop decisions taken along a rescaling direction that cancelled down to
    /// rounding (see ``MSMASHRows``): there the outcome is decided by the last bits of the
    /// arithmetic, in QC Lab as here.
    package private(set) var roundingDecidedHops: [Int]
    private var hamiltonian: ComplexBatch
    /// The eigenpairs of `H(z)` and the step start's eigenvectors.
    ///
    /// Its products are complex (no real shortcut), as QC Lab's MSMASH forms them.
    private var frame: AdiabaticFrame
    /// The trajectory solves of the batch's eigensolver, and those LAPACK redid (the frames of
    /// replayed rows aside).
    package var eigensolverCounts: EigensolverCounts { frame.eigensolverCounts }
    private var activeWavefunction: ComplexBatch
    private var classical: ClassicalRK4
    /// The model's fused classical step (RK4 and the new `H(z)` in one pass), when it has
    /// one and no gauge-field force is asked for; chosen once per batch.
    private let fusedModel: (any FusedClassicalDynamics)?
    private var fusedStep: (any FusedClassicalStep)?

    package init(
        algorithm: MultiStateMappingApproachToSurfaceHopping, model: any Model, seeds: [Int],
        initialWavefunction: [Complex<Double>]
    ) throws {
        let n = model.numQuantumStates, rows = seeds.count
        guard initialWavefunction.count == n else {
            throw QCLabError.invalidInitialState(
                "wf_db has \(initialWavefunction.count) entries, the model \(n) states")
        }
        self.model = model
        settings = algorithm
        self.rows = rows
        states = n
        alpha = MultiStateMappingApproachToSurfaceHopping.estimatorAlpha(states: n)
        z = model.initialClassicalCoordinates(seeds: seeds)
        if let sampler = model as? any MSMASHWavefunctionSampling {
            wfDb = sampler.sampleMSMASHWavefunction(initial: initialWavefunction, seeds: seeds)
        } else {
            wfDb = MultiStateMappingApproachToSurfaceHopping.focusedWavefunctions(
                initial: initialWavefunction, seeds: seeds)
        }
        hamiltonian = ComplexBatch(components: n * n, batchSize: rows)
        frame = try AdiabaticFrame(
            states: n, rows: rows, isReal: model.hamiltonianIsReal, strategy: nil, realEigenvectors: false,
            structure: .of(model))
        classical = ClassicalRK4(coordinates: model.numClassicalCoordinates, batchSize: rows)
        fusedModel =
            algorithm.useGaugeFieldForce && model is any GaugeFieldForceModel
            ? nil : fusedClassicalDynamics(of: model)
        fusedStep = nil
        model.quantumHamiltonian(z: z, into: &hamiltonian)
        try frame.diagonalizeAtStart(hamiltonian, z: z, model: model)
        activeSurface = MSMASHRows.dominantSurfaces(wfDb, frame.eigenvectors)
        roundingDecidedHops = [Int](repeating: 0, count: rows)
        activeWavefunction = wfDb
        frame.activeEigenvectors(activeSurface, into: &activeWavefunction)
    }

    /// The MASH density matrix of every row, the `dm_db` output at this point.
    package func densityMatrix(into rho: inout ComplexBatch) {
        guard case let .perTrajectory(compute) = Output.mappingDensityMatrix(states: states).kind else { return }
        try? compute(collectState(time: 0), &rho)
    }

    /// The state outputs see at a collect point.
    package func collectState(time: Double) -> CollectState {
        CollectState(
            model: model, time: time, z: z, wfDb: wfDb, hamiltonian: hamiltonian, activeSurface: activeSurface)
    }

    /// One update step (QC Lab's MSMASH update recipe).
    package mutating func step(dt: Double) throws {
        let zStart = z, wfStart = wfDb, activeStart = activeSurface
        frame.beginStep()
        if let fusedModel {
            if fusedStep?.dt != dt { fusedStep = fusedModel.fusedClassicalStep(dt: dt, batchSize: rows) }
            fusedStep!.advance(z: &z, psi: activeWavefunction, hamiltonian: &hamiltonian)
        } else if settings.useGaugeFieldForce, let gauged = model as? any GaugeFieldForceModel {
            let surfaces = activeSurface, psi = activeWavefunction
            classical.step(model: model, z: &z, psi: psi, dt: dt) { point, force in
                gauged.quantumClassicalForce(
                    z: point, wavefunction: psi, activeSurface: surfaces, withGaugeFieldInto: &force)
            }
        } else {
            classical.step(model: model, z: &z, psi: activeWavefunction, dt: dt)
        }
        // QC Lab's MSMASH propagator (each row's own time, phases through libm) with the
        // eigenpairs of the step's start.
        MSMASHRows.propagate(
            &wfDb, eigenvalues: frame.eigenvalues, eigenvectors: frame.previousEigenvectors,
            dt: [Double](repeating: dt, count: rows))
        if fusedModel == nil { model.quantumHamiltonian(z: z, into: &hamiltonian) }
        try frame.diagonalize(hamiltonian)
        frame.fixGauge(settings.gaugeFixing, z: z, model: model)
        try resolveHops(zStart: zStart, wfStart: wfStart, activeStart: activeStart, dt: dt)
        frame.activeEigenvectors(activeSurface, into: &activeWavefunction)
    }

    /// QC Lab's `update_resolve_hops_msmash`: the rows whose most populated surface is no
    /// longer their active one are replayed from the step's start, hop by hop.
    private mutating func resolveHops(zStart: ComplexBatch, wfStart: ComplexBatch, activeStart: [Int], dt: Double)
        throws
    {
        let dominant = MSMASHRows.dominantSurfaces(wfDb, frame.eigenvectors)
        let crossers = (0..<rows).filter { dominant[$0] != activeStart[$0] }
        guard !crossers.isEmpty else { return }
        var hop = MSMASHRows(
            model: model, settings: settings,
            z: zStart.gathering(rows: crossers), wfDb: wfStart.gathering(rows: crossers),
            active: crossers.map { activeStart[$0] }, dt: dt)
        try hop.resolve()
        z.scatter(rows: crossers, from: hop.z)
        wfDb.scatter(rows: crossers, from: hop.wfDb)
        for (i, row) in crossers.enumerated() {
            activeSurface[row] = hop.active[i]
            roundingDecidedHops[row] += hop.roundingDecided[i]
        }
        // The crossers' adiabatic basis at their post-hop z, gauge-fixed against the step's start.
        var h = ComplexBatch(components: states * states, batchSize: crossers.count)
        model.quantumHamiltonian(z: hop.z, into: &h)
        var crossed = try frame.subset(rows: crossers)
        try crossed.diagonalize(h)
        crossed.fixGauge(settings.gaugeFixing, z: hop.z, model: model)
        hamiltonian.scatter(rows: crossers, from: h)
        frame.update(rows: crossers, from: crossed)
    }
}

/// A sub-batch of MSMASH rows being replayed through a step with hops: the array-level
/// pieces of QC Lab's hop loop (an RK4 step over per-row times, the crossing bisection, the
/// per-row hop or frustrated reversal), on those rows only.
package struct MSMASHRows {
    package let model: any Model
    package let settings: MultiStateMappingApproachToSurfaceHopping
    package var z: ComplexBatch
    package var wfDb: ComplexBatch
    package var active: [Int]
    package var dt: [Double]
    /// Per row, the hop decisions whose rescaling direction cancelled to rounding.
    ///
    /// For two states and a model's own direction that is the same for both orders of a pair (the
    /// crossings' `∇θ/|∇θ|`), Runeson's sum `Re(d c_m* c_n) - Re(d c_n* c_m)` vanishes identically,
    /// and whether the hop rescales depends on whether its rounding residue is exactly zero.
    package private(set) var roundingDecided: [Int]
    private var done: [Bool]

    package init(
        model: any Model, settings: MultiStateMappingApproachToSurfaceHopping, z: ComplexBatch, wfDb: ComplexBatch,
        active: [Int], dt: Double
    ) {
        (self.model, self.settings, self.z, self.wfDb, self.active) = (model, settings, z, wfDb, active)
        self.dt = [Double](repeating: dt, count: active.count)
        done = [Bool](repeating: false, count: active.count)
        roundingDecided = [Int](repeating: 0, count: active.count)
    }

    private var states: Int { model.numQuantumStates }

    /// The step of one sub-batch from a state, with the forces and propagator of its start.
    package struct Start {
        package var rows: [Int]
        package var z: ComplexBatch, wfDb: ComplexBatch
        package var eigenvalues: [Double], eigenvectors: ComplexBatch
        package var force: ComplexBatch
        package var active: [Int]
    }

    /// The result of a step: position, wavefunction and the new gauge-fixed basis.
    package struct Stepped {
        package var z: ComplexBatch, wfDb: ComplexBatch
        package var eigenvalues: [Double], eigenvectors: ComplexBatch
        package var wfAdb: ComplexBatch
    }

    /// QC Lab's hop loop: up to `msmash_max_hops` passes, each stepping the unfinished rows,
    /// bisecting the crossing time of those whose surface is overtaken, hopping there (or
    /// reversing), and carrying the rest of the step into the next pass.
    package mutating func resolve() throws {
        let maxHops = settings.maxHops
        guard maxHops >= 1 else { return }
        for attempt in 1...maxHops {
            let live = done.indices.filter { !done[$0] }
            if live.isEmpty { break }
            let start = try startOf(rows: live, z: z.gathering(rows: live), wfDb: wfDb.gathering(rows: live))
            let full = try rk4Step(start, dt: live.map { dt[$0] })
            let dominant = Self.dominantSurfaces(full.wfDb, full.eigenvectors)
            var crossingLocal: [Int] = []
            for (i, row) in live.enumerated() {
                if dominant[i] == active[row] {
                    z.setTrajectory(row, full.z.trajectory(i))
                    wfDb.setTrajectory(row, full.wfDb.trajectory(i))
                    done[row] = true
                } else {
                    crossingLocal.append(i)
                }
            }
            var crossing: [Int] = crossingLocal.map { live[$0] }
            if !crossing.isEmpty {
                let sub = start.restricted(to: crossingLocal)
                // Bisect the time at which the active surface is overtaken.
                var lower = [Double](repeating: 0, count: crossing.count), upper = crossing.map { dt[$0] }
                var mid = try rk4Step(sub, dt: upper)
                for _ in 0..<settings.numBisections {
                    let tMid = (0..<crossing.count).map { 0.5 * (lower[$0] + upper[$0]) }
                    mid = try rk4Step(sub, dt: tMid)
                    for i in crossing.indices {
                        let gap = populationGap(mid.wfAdb, row: i, active: sub.active[i])
                        if gap > 0 { lower[i] = tMid[i] } else { upper[i] = tMid[i] }
                    }
                }
                let destination = crossing.indices.map { runnerUp(mid.wfAdb, row: $0, active: sub.active[$0]) }
                var tCross = [Double](repeating: 0, count: crossing.count)
                for i in crossing.indices {
                    let accepted = hopOrReverse(
                        z: mid.z.trajectory(i), wfAdb: mid.wfAdb.trajectory(i), from: sub.active[i],
                        to: destination[i], stepped: mid, row: i
                    ).accepted
                    tCross[i] = accepted ? upper[i] : lower[i]
                }
                let crossed = try rk4Step(sub, dt: tCross)
                for (i, row) in crossing.enumerated() {
                    let (zNew, accepted, degenerate) = hopOrReverse(
                        z: crossed.z.trajectory(i), wfAdb: crossed.wfAdb.trajectory(i),
                        from: active[row], to: destination[i], stepped: crossed, row: i)
                    if degenerate { roundingDecided[row] += 1 }
                    z.setTrajectory(row, zNew)
                    wfDb.setTrajectory(row, crossed.wfDb.trajectory(i))
                    if accepted { active[row] = destination[i] }
                    dt[row] -= tCross[i]
                }
            }
            if attempt == maxHops && !crossing.isEmpty {
                // The last pass: finish the step on the current surfaces and take one more hop if due.
                let last = try rk4Step(
                    try startOf(
                        rows: crossing, z: z.gathering(rows: crossing),
                        wfDb: wfDb.gathering(rows: crossing)),
                    dt: crossing.map { dt[$0] })
                let dominantLast = Self.dominantSurfaces(last.wfDb, last.eigenvectors)
                for (i, row) in crossing.enumerated() {
                    z.setTrajectory(row, last.z.trajectory(i))
                    wfDb.setTrajectory(row, last.wfDb.trajectory(i))
                    guard dominantLast[i] != active[row] else { continue }
                    let (zNew, accepted, degenerate) = hopOrReverse(
                        z: last.z.trajectory(i), wfAdb: last.wfAdb.trajectory(i),
                        from: active[row], to: dominantLast[i], stepped: last, row: i)
                    if degenerate { roundingDecided[row] += 1 }
                    z.setTrajectory(row, zNew)
                    if accepted { active[row] = dominantLast[i] }
                }
                crossing.removeAll()
            }
        }
    }

    /// The basis (not gauge-fixed) and the active-surface force at the start of a sub-step.
    private func startOf(rows: [Int], z: ComplexBatch, wfDb: ComplexBatch) throws -> Start {
        var h = ComplexBatch(components: states * states, batchSize: rows.count)
        model.quantumHamiltonian(z: z, into: &h)
        let frame = try eigenframe(h, z: z, gaugeFixedAgainst: nil)
        let (values, vectors) = (frame.eigenvalues, frame.eigenvectors)
        let surfaces = rows.map { active[$0] }
        return Start(
            rows: rows, z: z, wfDb: wfDb, eigenvalues: values, eigenvectors: vectors,
            force: activeForce(z: z, eigenvectors: vectors, active: surfaces), active: surfaces)
    }

    /// `<ψ_a|∂H_qc/∂z*|ψ_a>` on each row's active adiabatic state, plus the gauge-field force
    /// when asked for (QC Lab's `update_quantum_classical_force` on `act_surf_wf`).
    private func activeForce(z: ComplexBatch, eigenvectors: ComplexBatch, active: [Int]) -> ComplexBatch {
        var psi = ComplexBatch(components: states, batchSize: active.count)
        SurfaceHoppingKernels.gatherActive(eigenvectors, activeSurface: active, into: &psi)
        var force = ComplexBatch(components: model.numClassicalCoordinates, batchSize: active.count)
        if settings.useGaugeFieldForce, let gauged = model as? any GaugeFieldForceModel {
            gauged.quantumClassicalForce(z: z, wavefunction: psi, activeSurface: active, withGaugeFieldInto: &force)
        } else {
            model.quantumClassicalForce(z: z, wavefunction: psi, into: &force)
        }
        return force
    }

    /// QC Lab's `_rk4_step_msmash`: RK4 for `z` over each row's own `dt` on the fixed active
    /// surface (the start's force in `k1`), the exact propagator for `ψ` in the start's basis,
    /// then the new basis, gauge-fixed against the start's.
    private func rk4Step(_ s: Start, dt: [Double]) throws -> Stepped {
        let count = s.active.count, coordinates = model.numClassicalCoordinates
        var classicalForce = ComplexBatch(components: coordinates, batchSize: count)
        func slope(_ point: ComplexBatch, _ quantum: ComplexBatch) -> ComplexBatch {
            model.classicalForce(z: point, into: &classicalForce)
            var k = point
            for i in k.re.indices {
                let re = classicalForce.re[i] + quantum.re[i], im = classicalForce.im[i] + quantum.im[i]
                k.re[i] = im
                k.im[i] = -re
            }
            return k
        }
        func advance(_ k: ComplexBatch, _ factor: Double) -> ComplexBatch {
            var out = s.z
            for c in 0..<coordinates {
                for t in 0..<count {
                    let i = c * count + t, d = dt[t]
                    out.re[i] = s.z.re[i] + k.re[i] * d / factor
                    out.im[i] = s.z.im[i] + k.im[i] * d / factor
                }
            }
            return out
        }
        let k1 = slope(s.z, s.force)
        let z2 = advance(k1, 2)
        let k2 = slope(z2, activeForce(z: z2, eigenvectors: s.eigenvectors, active: s.active))
        let z3 = advance(k2, 2)
        let k3 = slope(z3, activeForce(z: z3, eigenvectors: s.eigenvectors, active: s.active))
        let z4 = advance(k3, 1)
        let k4 = slope(z4, activeForce(z: z4, eigenvectors: s.eigenvectors, active: s.active))
        var zNew = s.z
        for c in 0..<coordinates {
            for t in 0..<count {
                let i = c * count + t, sixth = dt[t] / 6.0
                zNew.re[i] = s.z.re[i] + sixth * (k1.re[i] + 2.0 * k2.re[i] + 2.0 * k3.re[i] + k4.re[i])
                zNew.im[i] = s.z.im[i] + sixth * (k1.im[i] + 2.0 * k2.im[i] + 2.0 * k3.im[i] + k4.im[i])
            }
        }
        var wf = s.wfDb
        Self.propagate(&wf, eigenvalues: s.eigenvalues, eigenvectors: s.eigenvectors, dt: dt)
        var h = ComplexBatch(components: states * states, batchSize: count)
        model.quantumHamiltonian(z: zNew, into: &h)
        let frame = try eigenframe(h, z: zNew, gaugeFixedAgainst: s.eigenvectors)
        let (values, vectors) = (frame.eigenvalues, frame.eigenvectors)
        var wfAdb = wf
        ComplexBatchAlgebra.multiplyAdjoint(vectors, wf, into: &wfAdb)
        return Stepped(z: zNew, wfDb: wf, eigenvalues: values, eigenvectors: vectors, wfAdb: wfAdb)
    }

    /// The active surface's population minus the largest other one.
    private func populationGap(_ wfAdb: ComplexBatch, row t: Int, active a: Int) -> Double {
        var other = -Double.infinity
        for k in 0..<states where k != a { other = max(other, wfAdb[k, t].lengthSquared) }
        return wfAdb[a, t].lengthSquared - other
    }

    /// The most populated surface other than the active one (`runner_up_surface`).
    private func runnerUp(_ wfAdb: ComplexBatch, row t: Int, active a: Int) -> Int {
        var best = -1, bestPopulation = -Double.infinity
        for k in 0..<states where k != a {
            let p = wfAdb[k, t].lengthSquared
            if best < 0 || p > bestPopulation { (best, bestPopulation) = (k, p) }
        }
        return best
    }

    /// Resolves a hop of one row at a point of `stepped` (QC Lab's `_resolve_crossing_msmash`).
    ///
    /// It rescales along Runeson's direction `Σ_k Re(d_{kn} c_k* c_n) - Σ_k Re(d_{km} c_k* c_m)`
    /// (Eq. E2) to conserve energy, or, when that fails, reverses the momentum along the same
    /// direction built from the derivative couplings (if `reverse_frustrated_hops`).
    private func hopOrReverse(
        z zRow: [Complex<Double>], wfAdb c: [Complex<Double>], from n: Int, to m: Int, stepped: Stepped,
        row t: Int
    ) -> (z: [Complex<Double>], accepted: Bool, degenerate: Bool) {
        let count = stepped.z.batchSize
        let e = (0..<states).map { stepped.eigenvalues[$0 * count + t] }
        let v = (0..<states).map { k in (0..<states).map { stepped.eigenvectors[$0 * states + k, t] } }
        let coordinates = model.numClassicalCoordinates
        var direction = [Complex<Double>](repeating: Complex(0), count: coordinates)
        var terms = 0.0
        for k in 0..<states {
            if k != n {
                let pair = model.hopDirection(
                    z: zRow, initial: v[k], final: v[n], from: k, to: n, energyGap: e[n] - e[k])
                for x in 0..<coordinates {
                    let term = (pair[x] * c[k].conjugate * c[n]).real
                    direction[x] = Complex(direction[x].real + term)
                    terms += abs(term)
                }
            }
            if k != m {
                let pair = model.hopDirection(
                    z: zRow, initial: v[k], final: v[m], from: k, to: m, energyGap: e[m] - e[k])
                for x in 0..<coordinates {
                    let term = (pair[x] * c[k].conjugate * c[m]).real
                    direction[x] = Complex(direction[x].real - term)
                    terms += abs(term)
                }
            }
        }
        let length = direction.reduce(0.0) { $0 + abs($1.real) }
        let degenerate = terms > 0 && length <= 1e-12 * terms
        if let shift = model.hopShift(z: zRow, direction: direction, energyGap: e[m] - e[n]) {
            return (zip(zRow, shift).map { $0 + $1 }, true, degenerate)
        }
        guard settings.reverseFrustratedHops else { return (zRow, false, degenerate) }
        let mass = model.classicalCoordinateMass, weight = model.classicalCoordinateWeight
        var along = [Double](repeating: 0, count: coordinates)
        for k in 0..<states {
            for (target, sign) in [(n, 1.0), (m, -1.0)] where k != target {
                let d = model.couplingGradient(z: zRow, left: v[k], right: v[target]).map {
                    $0.divided(by: e[target] - e[k])
                }
                for x in 0..<coordinates {
                    let dq = (d[x] + d[x]).multiplied(by: (0.5 * mass[x] * weight[x]).squareRoot())
                    along[x] += sign * (dq * c[k].conjugate * c[target]).real
                }
            }
        }
        let direction2 = (0..<coordinates).map { along[$0] / mass[$0].squareRoot() }
        let momentum = (0..<coordinates).map {
            (2.0 * mass[$0] * weight[$0]).squareRoot() * zRow[$0].imaginary / mass[$0].squareRoot()
        }
        var parallel = momentum
        if coordinates > 1 {
            var dot = 0.0, norm = 0.0
            for x in 0..<coordinates { dot += momentum[x] * direction2[x]; norm += direction2[x] * direction2[x] }
            parallel = direction2.map { dot / norm * $0 }
        }
        let reversed = (0..<coordinates).map { x in
            Complex<Double>(
                zRow[x].real,
                (0.5 / (mass[x] * weight[x])).squareRoot()
                    * (((momentum[x] - parallel[x]) + -parallel[x]) * mass[x].squareRoot()))
        }
        return (reversed, false, degenerate)
    }

    // MARK: Shared row-level pieces

    /// The most populated adiabatic state of every row (the first on a tie, as `argmax`).
    package static func dominantSurfaces(_ wfDb: ComplexBatch, _ eigenvectors: ComplexBatch) -> [Int] {
        var wfAdb = wfDb
        ComplexBatchAlgebra.multiplyAdjoint(eigenvectors, wfDb, into: &wfAdb)
        return (0..<wfDb.batchSize).map { t in
            var best = 0
            for k in 1..<max(wfDb.components, 1) where wfAdb[k, t].lengthSquared > wfAdb[best, t].lengthSquared {
                best = k
            }
            return best
        }
    }

    /// The eigenpairs of a sub-batch's `h` in a frame of its own (its rows change from call
    /// to call, so its solver is sized for them and starts cold, like every fresh frame),
    /// gauge-fixed by the settings' `gauge_fixing` against `previous` when given.
    private func eigenframe(_ h: ComplexBatch, z: ComplexBatch, gaugeFixedAgainst previous: ComplexBatch?) throws
        -> AdiabaticFrame
    {
        var frame = try AdiabaticFrame(
            states: states, rows: h.batchSize, isReal: model.hamiltonianIsReal,
            strategy: nil, realEigenvectors: false)
        try frame.diagonalize(h)
        if let previous {
            frame.gaugeFixingAgainst(previous)
            frame.fixGauge(settings.gaugeFixing, z: z, model: model)
        }
        return frame
    }

    /// `ψ ← V exp(-i E dt) V† ψ` with each row's own `dt` (`propagate_wf_db_adiabatic`).
    package static func propagate(
        _ wf: inout ComplexBatch, eigenvalues: [Double], eigenvectors: ComplexBatch, dt: [Double]
    ) {
        var adiabatic = wf
        ComplexBatchAlgebra.multiplyAdjoint(eigenvectors, wf, into: &adiabatic)
        let batch = wf.batchSize
        for k in 0..<wf.components {
            for t in 0..<batch {
                let angle = -eigenvalues[k * batch + t] * dt[t]
                adiabatic[k, t] = adiabatic[k, t] * Complex(cos(angle), sin(angle))
            }
        }
        ComplexBatchAlgebra.multiply(eigenvectors, adiabatic, into: &wf)
    }
}

extension MSMASHRows.Start {
    /// The same start on the sub-batch rows `local` (indices into this one).
    package func restricted(to local: [Int]) -> MSMASHRows.Start {
        MSMASHRows.Start(
            rows: local.map { rows[$0] }, z: z.gathering(rows: local), wfDb: wfDb.gathering(rows: local),
            eigenvalues: eigenvalues.gathering(rows: local, batch: active.count),
            eigenvectors: eigenvectors.gathering(rows: local), force: force.gathering(rows: local),
            active: local.map { active[$0] })
    }
}

extension Array where Element == Double {
    /// The rows `rows` of a struct-of-arrays vector of `batch` rows per component.
    package func gathering(rows: [Int], batch: Int) -> [Double] {
        let components = count / batch
        return (0..<components).flatMap { c in rows.map { self[c * batch + $0] } }
    }
}
