/// The built-in outputs: QC Lab's defaults of mean field and surface hopping, and the
/// extras a job file can name in its `"outputs"` list (``OutputRegistry``).
extension Output {
    /// `t`: the collect time.
    public static let time = Output(name: "t") { $0.time }

    /// `classical_energy`: `H_c(z)` of every trajectory (QC Lab's `h_c`), times its
    /// estimator weight when the state has weights.
    public static let classicalEnergy = Output(name: "classical_energy", shape: []) { state, values in
        state.model.classicalEnergy(z: state.z, into: &values.re)
        state.applyWeights(to: &values.re)
    }

    /// `dm_db` of mean field: `ψ ψ†` (QC Lab's `update_dm_db_wf`).
    public static func meanFieldDensityMatrix(states n: Int) -> Output {
        Output(name: "dm_db", shape: [n, n], isComplex: true) { state, values in
            ComplexBatchAlgebra.densityMatrix(state.wfDb, into: &values)
        }
    }

    /// `dm_db` of MSMASH, from the MASH estimator.
    ///
    /// The estimator is `α_N ψ ψ† + (1 - α_N)/N`, with `α_N = (N - 1)/(H_N - 1)` (QC Lab's
    /// `update_dm_db_msmash`; Runeson & Manolopoulos, J. Chem. Phys. 159, 094115 (2023)).
    public static func mappingDensityMatrix(states n: Int) -> Output {
        let alpha = MultiStateMappingApproachToSurfaceHopping.estimatorAlpha(states: n)
        let diagonal = (1.0 - alpha) / Double(n)
        return Output(name: "dm_db", shape: [n, n], isComplex: true) { state, values in
            let rows = state.rows, psi = state.wfDb
            for a in 0..<n {
                for b in 0..<n {
                    for t in 0..<rows {
                        // The raw parts: `real` and `imaginary` check finiteness on every read.
                        let (re, im) = (psi[a, t] * psi[b, t].conjugate).rawStorage
                        values[a * n + b, t] = Complex(alpha * re + (a == b ? diagonal : 0), alpha * im)
                    }
                }
            }
        }
    }

    /// `quantum_energy` of mean field: `<ψ|H|ψ>` (QC Lab's `update_quantum_energy_wf`).
    public static let meanFieldQuantumEnergy = Output(name: "quantum_energy", shape: []) { state, values in
        var scratch = state.wfDb
        ComplexBatchAlgebra.expectation(state.wfDb, state.hamiltonian, into: &values.re, scratch: &scratch)
    }

    /// `dm_db` of surface hopping: the adiabatic density matrix with the active surfaces as
    /// populations and the wavefunction's coherences, in the diabatic basis, weighted per
    /// branch in deterministic mode (QC Lab's `update_dm_db_fssh`).
    public static func surfaceHoppingDensityMatrix(states n: Int) -> Output {
        var output = Output(name: "dm_db", shape: [n, n], isComplex: true, requirement: .activeSurfaces) {
            state, values in
            let frame = try state.requireFrame("dm_db")
            SurfaceHoppingKernels.diabaticDensityMatrix(
                eigenvectors: frame.eigenvectors, realEigenvectors: frame.realEigenvectors, wfAdb: state.wfAdb!,
                wfDb: state.wfDb, activeSurface: state.activeSurface!, weights: state.weights, into: &values,
                workspace: frame.workspace)
        }
        // Both paths of the kernel compute the lower triangle and mirror it.
        output.isHermitianMatrix = true
        return output
    }

    /// `quantum_energy` of surface hopping: the active surface's energy, weighted per
    /// branch in deterministic mode (QC Lab's `update_quantum_energy_act_surf`).
    public static let activeSurfaceEnergy = Output(
        name: "quantum_energy", shape: [],
        requirement: .activeSurfaces
    ) { state, values in
        guard let active = state.activeWavefunction else { throw state.missing("quantum_energy", "active surfaces") }
        var scratch = active
        ComplexBatchAlgebra.expectation(active, state.hamiltonian, into: &values.re, scratch: &scratch)
        state.applyWeights(to: &values.re)
    }

    /// `q`: the position of every classical coordinate, QC Lab's
    /// `functions.z_to_q(z, m, h) = sqrt(2 / (m h)) Re z`; a plain average over the rows,
    /// as a collect task appended to QC Lab's recipe gives.
    public static func positions(coordinates: Int) -> Output {
        Output(name: "q", shape: [coordinates]) { state, values in
            let m = state.model.classicalCoordinateMass, h = state.model.classicalCoordinateWeight
            for c in 0..<coordinates {
                let scale = (2.0 / (m[c] * h[c])).squareRoot(), o = c * state.rows
                for t in 0..<state.rows { values.re[o + t] = scale * state.z.re[o + t] }
            }
        }
    }

    /// `p`: the momentum of every classical coordinate, QC Lab's
    /// `functions.z_to_p(z, m, h) = sqrt(2 m h) Im z`; a plain average over the rows.
    public static func momenta(coordinates: Int) -> Output {
        Output(name: "p", shape: [coordinates]) { state, values in
            let m = state.model.classicalCoordinateMass, h = state.model.classicalCoordinateWeight
            for c in 0..<coordinates {
                let scale = (2.0 * m[c] * h[c]).squareRoot(), o = c * state.rows
                for t in 0..<state.rows { values.re[o + t] = scale * state.z.im[o + t] }
            }
        }
    }

    /// `adiabatic_populations`: `|<k|ψ>|²` for every adiabatic state `k` of `H(z)`.
    ///
    /// States are in ascending energies, weighted per branch in deterministic surface hopping. Mean
    /// field diagonalizes `H` at each collect point for it.
    public static func adiabaticPopulations(states n: Int) -> Output {
        Output(name: "adiabatic_populations", shape: [n]) { state, values in
            var wfAdb: ComplexBatch
            if let given = state.wfAdb {
                wfAdb = given
            } else {
                var frame = try AdiabaticFrame(
                    states: n, rows: state.rows, isReal: state.model.hamiltonianIsReal,
                    strategy: .lapack)
                try frame.diagonalize(state.hamiltonian)
                wfAdb = state.wfDb
                frame.toAdiabatic(state.wfDb, into: &wfAdb)
            }
            for i in 0..<n * state.rows { values.re[i] = wfAdb.re[i] * wfAdb.re[i] + wfAdb.im[i] * wfAdb.im[i] }
            state.applyWeights(to: &values.re, components: n)
        }
    }

    /// `active_surface_populations`: the fraction of trajectories on each adiabatic surface
    /// (weighted per branch in deterministic mode); surface hopping only.
    public static func activeSurfacePopulations(states n: Int) -> Output {
        Output(name: "active_surface_populations", shape: [n], requirement: .activeSurfaces) { state, values in
            guard let active = state.activeSurface else {
                throw state.missing("active_surface_populations", "active surfaces")
            }
            for i in values.re.indices { values.re[i] = 0 }
            for t in 0..<state.rows { values.re[active[t] * state.rows + t] = state.weights?[t] ?? 1 }
        }
    }
}

extension CollectState {
    /// Multiplies each row's values (`components` of them) by its weight, when there are weights.
    package func applyWeights(to values: inout [Double], components: Int = 1) {
        guard let weights else { return }
        for c in 0..<components {
            for t in 0..<rows { values[c * rows + t] *= weights[t] }
        }
    }

    package func missing(_ output: String, _ what: String) -> QCLabError {
        QCLabError.invalidSetting("outputs", "'\(output)' needs \(what), which this algorithm does not keep")
    }

    package func requireFrame(_ output: String) throws -> AdiabaticFrame {
        guard let frame, wfAdb != nil, activeSurface != nil else { throw missing(output, "an adiabatic frame") }
        return frame
    }
}

/// The outputs a job file can name in its `"outputs"` list, beside the algorithm's own,
/// and any a program registers.
public enum OutputRegistry {
    /// Makes the output for a model.
    public typealias Factory = @Sendable (any Model) -> Output

    private static let registry = Registry<Factory>(
        kind: "output",
        [
            ("q", { .positions(coordinates: $0.numClassicalCoordinates) }),
            ("p", { .momenta(coordinates: $0.numClassicalCoordinates) }),
            ("adiabatic_populations", { .adiabaticPopulations(states: $0.numQuantumStates) }),
            ("active_surface_populations", { .activeSurfacePopulations(states: $0.numQuantumStates) }),
        ])

    /// The names a job file may use, built-in first.
    public static var names: [String] { registry.names }

    /// The outputs the library provides (whatever a program registers).
    public static var builtInNames: [String] { registry.builtInNames }

    /// Registers an output under `name`, so that job files can name it; replaces an
    /// earlier registration of that name.
    public static func register(_ name: String, _ factory: @escaping Factory) { registry.register(name, factory) }

    /// The output called `name` for `model`.
    public static func make(_ name: String, model: any Model) throws -> Output {
        try registry.lookup(name).factory(model)
    }
}
