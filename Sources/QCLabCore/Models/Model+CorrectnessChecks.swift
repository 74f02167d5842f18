/// Checks of the model flags that decide correctness, made once per batch in debug builds:
/// a flag that claims more than the model does would give a silently wrong answer (a real
/// eigensolver for a complex `H`; RK4 stages that reuse a force that changes with `z`), so
/// it is an error that names the model instead.
package enum ModelChecks {
    /// Whether batches check their model (debug builds).
    package static var enabled: Bool { _isDebugAssertConfiguration() }

    /// In debug builds, ``verify(_:z:hamiltonian:)``.
    package static func check(_ model: any Model, z: ComplexBatch, hamiltonian: ComplexBatch) throws {
        if enabled { try verify(model, z: z, hamiltonian: hamiltonian) }
    }

    /// Throws ``QCLabError/invalidConstant(model:name:reason:)`` naming the model when
    /// ``Model/hamiltonianIsReal`` is set but `hamiltonian` (its `H(z)`) has an imaginary
    /// part, or when ``Model/couplingGradientDependsOnZ`` is unset but the
    /// quantum-classical force changes when `z` moves.
    package static func verify(_ model: any Model, z: ComplexBatch, hamiltonian: ComplexBatch) throws {
        if model.hamiltonianIsReal, let index = hamiltonian.im.firstIndex(where: { $0 != 0 }) {
            let n = model.numQuantumStates, element = index / hamiltonian.batchSize
            throw QCLabError.invalidConstant(
                model: model.modelName, name: "hamiltonianIsReal",
                reason:
                    "is true, but H(z) has the imaginary part \(hamiltonian.im[index]) at (\(element / n), \(element % n)) of trajectory \(index % hamiltonian.batchSize)"
            )
        }
        if !model.couplingGradientDependsOnZ {
            // A few rows, a complex wavefunction spread over every state, and a shift of z
            // in both quadratures.
            let rows = Array(0..<min(z.batchSize, 4)), n = model.numQuantumStates
            let here = z.gathering(rows: rows)
            var moved = here
            for i in moved.re.indices {
                moved.re[i] += 0.37 + 0.05 * Double(i % 7)
                moved.im[i] -= 0.21
            }
            let psi = ComplexBatch(
                repeating: (0..<n).map { Complex(1 + Double($0), 0.5 * Double($0)).divided(by: Double(n)) },
                batchSize: rows.count)
            var a = ComplexBatch(components: model.numClassicalCoordinates, batchSize: rows.count), b = a
            model.quantumClassicalForce(z: here, wavefunction: psi, into: &a)
            model.quantumClassicalForce(z: moved, wavefunction: psi, into: &b)
            let scale = (a.re + a.im).map(abs).max() ?? 0
            let difference = zip(a.re + a.im, b.re + b.im).map { abs($0 - $1) }.max() ?? 0
            // Relative: a force of 1e-20 far from a crossing still changes by a large fraction.
            if difference > 1e-9 * scale {
                throw QCLabError.invalidConstant(
                    model: model.modelName, name: "couplingGradientDependsOnZ",
                    reason: "is false, but the quantum-classical force changes by \(difference) when z moves")
            }
        }
    }
}

extension Model {
    /// Default: `false`, always safe (the complex eigensolver and products).
    public var hamiltonianIsReal: Bool { false }
    /// Default: `true`, always safe (every RK4 stage recomputes the force).
    public var couplingGradientDependsOnZ: Bool { true }
}
