import Foundation
import QCLab

// The test target compiles this file too (Tests/QCLabTests/ThreeStateCrossing.swift is a
// symlink to it), so the example and the tests run one and the same model.
/// A user-defined model: a particle of mass `m` in one dimension scattering through a
/// crossing of three diabatic states, a three-state cousin of Tully's first problem.
///
///     V11(q) = -A tanh(B q)      V22(q) = 0      V33(q) = A tanh(B q)
///     V12(q) = V23(q) = C exp(-D q²)             V13 = 0
///
/// Far to the left state 0 lies lowest (at -A) and state 2 highest (at +A); all three
/// cross at q = 0, where the Gaussian couplings act. The classical part is a free
/// particle started at a definite position and momentum, as in QC Lab's Tully models.
///
/// It implements every requirement of ``QCLab/Model`` directly, using QC Lab's complex
/// coordinate `z = sqrt(m h / 2) q + i p / sqrt(2 m h)` with weight `h = 1`.
public struct ThreeStateCrossing: Model, JobRecordable {
    public var mass = 2000.0
    public var initPosition = -10.0
    public var initMomentum = 20.0
    public var A = 0.01, B = 1.6, C = 0.005, D = 1.0

    public init() {}

    public var modelName: String { "ThreeStateCrossing" }
    public var numQuantumStates: Int { 3 }
    public var numClassicalCoordinates: Int { 1 }
    public var classicalCoordinateMass: [Double] { [mass] }
    public var classicalCoordinateWeight: [Double] { [1.0] }
    public var hamiltonianIsReal: Bool { true }
    /// The coupling gradient `∂H/∂z*` depends on where the particle is.
    public var couplingGradientDependsOnZ: Bool { true }

    /// `q` from `Re z`, and the factor turning `∂/∂q` into `∂/∂z*`.
    var positionScale: Double { (2.0 / mass).squareRoot() }
    var gradientScale: Double { (0.5 / mass).squareRoot() }

    /// The diabatic potential matrix and its derivative in `q`, row-major 3 x 3.
    func potential(at q: Double) -> (value: [Double], slope: [Double]) {
        let t = tanh(B * q), sech2 = 1 - t * t
        let g = C * exp(-D * q * q), dg = -2 * D * q * g
        return (
            [
                -A * t, g, 0,
                g, 0, g,
                0, g, A * t,
            ],
            [
                -A * B * sech2, dg, 0,
                dg, 0, dg,
                0, dg, A * B * sech2,
            ]
        )
    }

    public func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch {
        var z = ComplexBatch(components: 1, batchSize: seeds.count)
        for t in seeds.indices {
            z[0, t] = Complex((0.5 * mass).squareRoot() * initPosition, (0.5 / mass).squareRoot() * initMomentum)
        }
        return z
    }

    public func quantumHamiltonian(z: ComplexBatch, into hamiltonian: inout ComplexBatch) {
        for t in 0..<z.batchSize {
            let v = potential(at: positionScale * z.re[t]).value
            for element in 0..<9 { hamiltonian[element, t] = Complex(v[element]) }
        }
    }

    /// `p² / 2m = (Im z)²`.
    public func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) {
        for t in 0..<z.batchSize { energy[t] = z.im[t] * z.im[t] }
    }

    /// `∂H_c/∂z* = i Im z`.
    public func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
        for t in 0..<z.batchSize { force[0, t] = Complex(0, z.im[t]) }
    }

    /// `<ψ|∂H_qc/∂z*|ψ>`, real because the potential is.
    public func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch)
    {
        for t in 0..<z.batchSize {
            let gradient = couplingGradient(z: [z[0, t]], left: psi.trajectory(t), right: psi.trajectory(t))
            force[0, t] = Complex(gradient[0].real)
        }
    }

    /// `Σ_ab conj(u_a) [∂H/∂z*]_ab v_b`.
    public func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>])
        -> [Complex<Double>]
    {
        let slope = potential(at: positionScale * z[0].real).slope
        var sum = Complex<Double>.zero
        for a in 0..<3 {
            for b in 0..<3 where slope[3 * a + b] != 0 {
                sum = sum + Complex(gradientScale * slope[3 * a + b]) * (u[a].conjugate * v[b])
            }
        }
        return [sum]
    }

    /// Takes a hop's energy from the momentum along `direction`.
    ///
    /// A hop to a surface `energyGap` higher takes that energy from the momentum along `direction`:
    /// QC Lab's `hop_free` (``FreeParticleHop``), `nil` (frustrated) when there is not enough
    /// kinetic energy. Without this method the model would get the default, QC Lab's numerical hop,
    /// which finds the same shift by a grid search.
    public func hopShift(z: [Complex<Double>], direction d: [Complex<Double>], energyGap: Double) -> [Complex<Double>]?
    {
        FreeParticleHop(weight: classicalCoordinateWeight).shift(z: z, direction: d, energyGap: energyGap)
    }
}
