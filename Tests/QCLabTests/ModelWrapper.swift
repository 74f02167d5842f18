import QCLab

/// A test model made from another: every requirement is passed on to `base` unless the
/// wrapper states its own (a flag, a force, a capability), which is all such a model is for.
protocol ModelWrapper: Model {
    var base: any Model { get }
}

extension ModelWrapper {
    var numQuantumStates: Int { base.numQuantumStates }
    var numClassicalCoordinates: Int { base.numClassicalCoordinates }
    var classicalCoordinateMass: [Double] { base.classicalCoordinateMass }
    var classicalCoordinateWeight: [Double] { base.classicalCoordinateWeight }
    var hamiltonianIsReal: Bool { base.hamiltonianIsReal }
    var couplingGradientDependsOnZ: Bool { base.couplingGradientDependsOnZ }
    func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch { base.initialClassicalCoordinates(seeds: seeds) }
    func quantumHamiltonian(z: ComplexBatch, into hamiltonian: inout ComplexBatch) {
        base.quantumHamiltonian(z: z, into: &hamiltonian)
    }
    func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) { base.classicalEnergy(z: z, into: &energy) }
    func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) { base.classicalForce(z: z, into: &force) }
    func quantumClassicalForce(z: ComplexBatch, wavefunction: ComplexBatch, into force: inout ComplexBatch) {
        base.quantumClassicalForce(z: z, wavefunction: wavefunction, into: &force)
    }
    func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>]) -> [Complex<
        Double
    >] {
        base.couplingGradient(z: z, left: u, right: v)
    }
    func hopShift(z: [Complex<Double>], direction: [Complex<Double>], energyGap: Double) -> [Complex<Double>]? {
        base.hopShift(z: z, direction: direction, energyGap: energyGap)
    }
}
