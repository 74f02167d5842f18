import CQCLabKernels
import Foundation
import Numerics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The mixing angle `θ`, the phase `φ` and their gradients in `(x, y)` at one point.
package struct MixingAngles: Sendable, Equatable {
    package var theta: Double, dThetaX: Double, dThetaY: Double
    package var phi: Double, dPhiX: Double, dPhiY: Double

    package init(theta: Double, dThetaX: Double, dThetaY: Double, phi: Double, dPhiX: Double, dPhiY: Double) {
        (self.theta, self.dThetaX, self.dThetaY) = (theta, dThetaX, dThetaY)
        (self.phi, self.dPhiX, self.dPhiY) = (phi, dPhiX, dPhiY)
    }
}

/// A particle in two dimensions `(x, y)` on two states with a complex avoided crossing.
///
/// `H = H_q + A [[-cos θ, sin θ e^{iφ}], [sin θ e^{-iφ}, cos θ]]`, adiabatic energies `∓A`, free
/// classical motion (`h_c_free`, weight `h = 1`), a wavepacket drawn from the Wigner distribution
/// of a coherent state, the Berry-curvature (gauge-field) force and the gauge-fixed rescaling
/// direction `∇θ / |∇θ|`. The models differ in `θ(x, y)` and `φ(x, y)`. Krotz & Tempelaar, Phys.
/// Rev. A 109, 032210 (2024).
package protocol ComplexAvoidedCrossing: GaugeFieldForceModel, HopRescalingDirectionModel {
    /// Magnitude of the adiabatic energies (`A`).
    var A: Double { get }
    /// Mass of both coordinates (`mass`).
    var mass: Double { get }
    /// Centre and mean momentum of the initial wavepacket (`init_position_x`, ...).
    var initialPosition: (x: Double, y: Double) { get }
    var initialMomentum: (x: Double, y: Double) { get }
    /// The constant two-level `H_q` (`two_level_00`, `two_level_11`, `two_level_01_re`,
    /// `two_level_01_im`; all zero by default).
    var twoLevel: TwoLevelHamiltonian { get }
    /// `θ`, `φ` and their gradients at the position `(x, y)`.
    func mixingAngles(x: Double, y: Double) -> MixingAngles
    /// The model's last batch of mixing angles (``MixingAngleMemo``).
    var angleMemo: MixingAngleMemo { get }
}

/// The mixing angles a crossing model computed last for a batch, with the positions they were
/// computed at.
///
/// A surface-hopping step takes the Hamiltonian at its end and the next step's first force at
/// the same positions: the second finds the angles here instead of computing them (the
/// exponentials and error functions of every row) again. They are a function of the positions
/// alone, so they are the same bits either way.
package final class MixingAngleMemo: @unchecked Sendable {
    // Guarded by `lock` (models are values that batches may share across threads).
    private let lock = NSLock()
    private var positions: [UInt64] = []
    private var columns: [Double] = []

    package init() {}

    /// The columns at `positions` (equal bit for bit): the memo's, or `compute()`'s, which
    /// then replace them.
    func columns(at positions: UnsafeBufferPointer<Double>, compute: () -> [Double]) -> [Double] {
        lock.lock()
        defer { lock.unlock() }
        if self.positions.count == positions.count
            && self.positions.withUnsafeBufferPointer({ bits in
                positions.indices.allSatisfy { bits[$0] == positions[$0].bitPattern }
            })
        {
            return columns
        }
        self.positions = positions.map(\.bitPattern)
        columns = compute()
        return columns
    }
}

/// QC Lab's `h_q_two_level`: `[[e00, c], [conj(c), e11]]` with `c = re + i im`.
package struct TwoLevelHamiltonian: Sendable, Equatable {
    package var e00 = 0.0, e11 = 0.0, couplingRe = 0.0, couplingIm = 0.0
    package init(e00: Double = 0, e11: Double = 0, couplingRe: Double = 0, couplingIm: Double = 0) {
        (self.e00, self.e11, self.couplingRe, self.couplingIm) = (e00, e11, couplingRe, couplingIm)
    }

    /// Reads the four constants, zero by default.
    package init(_ c: inout ModelConstants) throws {
        self.init(
            e00: try c.double("two_level_00", default: 0), e11: try c.double("two_level_11", default: 0),
            couplingRe: try c.double("two_level_01_re", default: 0),
            couplingIm: try c.double("two_level_01_im", default: 0))
    }
}

/// The constants every crossing has, with the defaults of model A (B and C override some).
package struct CrossingConstants {
    package var mass: Double, position: (x: Double, y: Double), momentum: (x: Double, y: Double)
    package var twoLevel: TwoLevelHamiltonian

    package init(_ c: inout ModelConstants, position: (Double, Double)) throws {
        mass = try c.double("mass", default: 1.0, .positive)
        self.position = (
            try c.double("init_position_x", default: position.0),
            try c.double("init_position_y", default: position.1)
        )
        momentum = (try c.double("init_momentum_x", default: 16.0), try c.double("init_momentum_y", default: 0.0))
        twoLevel = try TwoLevelHamiltonian(&c)
    }
}

/// `sin θ`, `cos θ` and `e^{iφ}` at one point.
private struct Trigonometry {
    var sinTheta: Double, cosTheta: Double, phase: Complex<Double>
}

extension ComplexAvoidedCrossing {
    package var numQuantumStates: Int { 2 }
    package var numClassicalCoordinates: Int { 2 }
    package var classicalCoordinateMass: [Double] { [mass, mass] }
    package var classicalCoordinateWeight: [Double] { [1.0, 1.0] }
    package var hamiltonianIsReal: Bool { false }
    package var couplingGradientDependsOnZ: Bool { true }

    /// `sqrt(2 / (m h))`, turning `Re z` into a position.
    private var positionScale: Double { (2.0 / mass).squareRoot() }
    /// `sqrt(1 / (2 m h))`, turning `∂/∂q` into `∂/∂z*`.
    private var gradientScale: Double { (0.5 / mass).squareRoot() }

    /// `sin θ`, `cos θ` and `e^{iφ}` at one point, computed once for both coordinates.
    private func trigonometry(_ a: MixingAngles) -> Trigonometry {
        Trigonometry(sinTheta: sin(a.theta), cosTheta: cos(a.theta), phase: Complex(cos(a.phi), sin(a.phi)))
    }

    /// The mixing angles of every trajectory of `z` and their sines and cosines, as ten columns
    /// of `batch` values in one buffer: θ, ∂xθ, ∂yθ, φ, ∂xφ, ∂yφ, sin θ, cos θ, sin φ, cos φ.
    ///
    /// The sines and cosines are taken in vector lanes (``VectorMath/sincos(_:)``, within about
    /// one ulp of the C library's): the batched forces and Hamiltonian read these instead of
    /// four libm calls per row.
    private func angleColumns(_ z: ComplexBatch) -> [Double] {
        let batch = z.batchSize, scale = positionScale
        return z.re.withUnsafeBufferPointer { re in
            angleMemo.columns(at: UnsafeBufferPointer(rebasing: re[..<(2 * batch)])) {
                [Double](unsafeUninitializedCapacity: 10 * batch) { buffer, initialized in
                    guard batch > 0, let p = buffer.baseAddress else { return }
                    for t in 0..<batch {
                        let a = mixingAngles(x: scale * re[t], y: scale * re[batch + t])
                        (p[t], p[batch + t], p[2 * batch + t]) = (a.theta, a.dThetaX, a.dThetaY)
                        (p[3 * batch + t], p[4 * batch + t], p[5 * batch + t]) = (a.phi, a.dPhiX, a.dPhiY)
                    }
                    qclab_sincos(Int64(batch), p, p + 6 * batch, p + 7 * batch)
                    qclab_sincos(Int64(batch), p + 3 * batch, p + 8 * batch, p + 9 * batch)
                    initialized = 10 * batch
                }
            }
        }
    }

    /// The matrix elements of `∂H/∂z*` for coordinate `c` (0 = x, 1 = y): `∂H00` (real,
    /// `∂H11 = -∂H00`) and `∂H01` (`∂H10 = conj`).
    private func gradient(
        _ a: MixingAngles, _ trig: Trigonometry,
        coordinate c: Int
    ) -> (diagonal: Double, offDiagonal: Complex<Double>) {
        let dTheta = c == 0 ? a.dThetaX : a.dThetaY, dPhi = c == 0 ? a.dPhiX : a.dPhiY
        let s = gradientScale
        let diagonal = s * ((A * trig.sinTheta) * dTheta)
        let offDiagonal = Complex(A * (trig.cosTheta * dTheta), A * (trig.sinTheta * dPhi)) * trig.phase
        return (diagonal, offDiagonal.multiplied(by: s))
    }

    /// `Σ_ab conj(u_a) [∂H/∂z*]_ab v_b` for both coordinates, summed in QC Lab's element
    /// order (00, 01, 10, 11).
    private func sandwich(
        _ a: MixingAngles, _ trig: Trigonometry, _ u: (Complex<Double>, Complex<Double>),
        _ v: (Complex<Double>, Complex<Double>)
    ) -> (Complex<Double>, Complex<Double>) {
        func element(_ c: Int) -> Complex<Double> {
            let (g0, g1) = gradient(a, trig, coordinate: c)
            var sum = Complex<Double>.zero
            sum += (u.0.conjugate * Complex(g0)) * v.0
            sum += (u.0.conjugate * g1) * v.1
            sum += (u.1.conjugate * g1.conjugate) * v.0
            sum += (u.1.conjugate * Complex(-g0)) * v.1
            return sum
        }
        return (element(0), element(1))
    }

    /// QC Lab's `init_classical_wigner_coherent_state` for the wavepacket
    /// `exp(i q·p₀) exp(-|q - q₀|²)`, a coherent state of `ω = 2/m`: per seed, `q` then `p`
    /// drawn from NumPy's legacy normal around its centre.
    package func initialClassicalCoordinates(seeds: [Int]) -> ComplexBatch {
        let m = mass, w = 2.0 / m
        let centre = [initialPosition.x, initialPosition.y], momentum = [initialMomentum.x, initialMomentum.y]
        // The displacement a = sqrt(m ω / 2) q₀ + i p₀ / sqrt(2 m ω), then back to q and p.
        let aRe = centre.map { (0.5 * m * w).squareRoot() * $0 }
        let aIm = momentum.map { $0 * (1.0 / (2.0 * m * w).squareRoot()) }
        let stdQ = (0.5 / (w * m)).squareRoot(), stdP = (0.5 * m * w).squareRoot()
        let muQ = aRe.map { (2.0 / (m * w)).squareRoot() * $0 }, muP = aIm.map { (2.0 * m * w).squareRoot() * $0 }
        let zq = (0.5 * m).squareRoot(), zp = (0.5 / m).squareRoot()
        var z = ComplexBatch(components: 2, batchSize: seeds.count)
        for (t, seed) in seeds.enumerated() {
            var random = LegacyRandomState(seed: seed)
            let q = (0..<2).map { muQ[$0] + stdQ * random.nextGaussian() }
            let p = (0..<2).map { muP[$0] + stdP * random.nextGaussian() }
            for c in 0..<2 { z[c, t] = Complex(zq * q[c], zp * p[c]) }
        }
        return z
    }

    package func quantumHamiltonian(z: ComplexBatch, into h: inout ComplexBatch) {
        let batch = z.batchSize, q = twoLevel, angles = angleColumns(z)
        for t in 0..<batch {
            let sinTheta = angles[6 * batch + t], cosTheta = angles[7 * batch + t]
            let phase = Complex(angles[9 * batch + t], angles[8 * batch + t])
            let offDiagonal = A * sinTheta
            let re = offDiagonal * phase.rawStorage.x, im = offDiagonal * phase.rawStorage.y
            h.re[t] = q.e00 + (-A) * cosTheta; h.im[t] = 0
            h.re[batch + t] = q.couplingRe + re; h.im[batch + t] = q.couplingIm + im
            h.re[2 * batch + t] = q.couplingRe + re; h.im[2 * batch + t] = -q.couplingIm + -im
            h.re[3 * batch + t] = q.e11 + A * cosTheta; h.im[3 * batch + t] = 0
        }
    }

    package func classicalEnergy(z: ComplexBatch, into energy: inout [Double]) {
        let momentumScale = (2.0 * mass).squareRoot()
        for t in 0..<z.batchSize {
            let px = momentumScale * z.im[t], py = momentumScale * z.im[z.batchSize + t]
            energy[t] = px * px / (2.0 * mass) + py * py / (2.0 * mass)
        }
    }

    /// `h_c_free`'s force `∂H_c/∂z* = i h Im z`.
    package func classicalForce(z: ComplexBatch, into force: inout ComplexBatch) {
        for i in z.re.indices {
            force.re[i] = 0
            force.im[i] = z.im[i]
        }
    }

    package func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch)
    {
        sandwichForce(angleColumns(z), wavefunction: psi, into: &force)
    }

    /// Both forces from one evaluation of the mixing angles and their sines and cosines.
    package func quantumClassicalForce(
        z: ComplexBatch, wavefunction psi: ComplexBatch, activeSurface: [Int],
        withGaugeFieldInto force: inout ComplexBatch
    ) {
        let angles = angleColumns(z)
        sandwichForce(angles, wavefunction: psi, into: &force)
        addGaugeFieldForce(angles, z: z, activeSurface: activeSurface, to: &force)
    }

    /// `<ψ|∂H/∂z*|ψ>` of every row, from the rows' ``angleColumns(_:)``, in one C pass with this
    /// file's arithmetic (`sandwich`'s terms, in its order).
    private func sandwichForce(_ angles: [Double], wavefunction psi: ComplexBatch, into force: inout ComplexBatch) {
        let batch = psi.batchSize
        guard batch > 0 else { return }
        precondition(angles.count == 10 * batch && force.batchSize == batch, "batches of different sizes")
        force.withUnsafeMutableHandle(reading: psi) { force, psi in
            qclab_crossing_force(Int64(batch), A, gradientScale, angles, psi.re!, psi.im!, force.re!, force.im!)
        }
    }

    package func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>])
        -> [Complex<Double>]
    {
        let s = positionScale, a = mixingAngles(x: s * z[0].real, y: s * z[1].real)
        let (x, y) = sandwich(a, trigonometry(a), (u[0], u[1]), (v[0], v[1]))
        return [x, y]
    }

    /// QC Lab's `hop_free` in two dimensions (``FreeParticleHop``, `h = 1`).
    package func hopShift(z: [Complex<Double>], direction d: [Complex<Double>], energyGap: Double) -> [Complex<
        Double
    >]? {
        FreeParticleHop(weight: [1.0, 1.0]).shift(z: z, direction: d, energyGap: energyGap)
    }

    /// The Berry-curvature force on adiabatic state `s`: `Ω_0 = -Ω_1 = ½ sin θ (∂xθ ∂yφ - ∂yθ ∂xφ)`,
    /// `F = Ω (v_y, -v_x)`, added as `-F / sqrt(2 m h)` (so that `dp/dt = F`).
    package func addGaugeFieldForce(z: ComplexBatch, activeSurface: [Int], to force: inout ComplexBatch) {
        addGaugeFieldForce(angleColumns(z), z: z, activeSurface: activeSurface, to: &force)
    }

    /// The gauge-field force from the rows' ``angleColumns(_:)``, in one C pass.
    private func addGaugeFieldForce(
        _ angles: [Double], z: ComplexBatch, activeSurface: [Int], to force: inout ComplexBatch
    ) {
        let batch = z.batchSize
        guard batch > 0 else { return }
        precondition(
            angles.count == 10 * batch && activeSurface.count >= batch && force.batchSize == batch,
            "batches of different sizes")
        force.withUnsafeMutableHandle(reading: z) { force, z in
            activeSurface.withUnsafeBufferPointer { active in
                active.withMemoryRebound(to: Int64.self) { active in
                    qclab_crossing_add_gauge_force(
                        Int64(batch), gradientScale, (2.0 * mass).squareRoot(), mass, angles, z.im!,
                        active.baseAddress, force.re!)
                }
            }
        }
    }

    /// The gauge-fixed (`D_min`) direction `∇θ / |∇θ|` in `z*` space, zero where `∇θ = 0`.
    package func hopRescalingDirection(z: [Complex<Double>], from: Int, to: Int) -> [Complex<Double>] {
        let p = positionScale, a = mixingAngles(x: p * z[0].real, y: p * z[1].real)
        let norm = (a.dThetaX * a.dThetaX + a.dThetaY * a.dThetaY).squareRoot()
        guard norm != 0 else { return [Complex(0), Complex(0)] }
        return [Complex(gradientScale * (a.dThetaX / norm)), Complex(gradientScale * (a.dThetaY / norm))]
    }
}
