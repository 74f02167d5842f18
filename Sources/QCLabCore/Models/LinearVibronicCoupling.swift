/// A model defined by data: `N` states linearly coupled to `C` harmonic modes,
/// `H = h_q + Σ_k q_k K_k + Σ_k (p_k² / (2 m_k) + m_k ω_k² q_k² / 2)`.
///
/// QC Lab's harmonic convention: the weight of coordinate `k` is `h_k = ω_k`, so
/// `q_k = (z_k + z_k*) / sqrt(2 m_k ω_k)` and `∂H_qc/∂z*_k = K_k / sqrt(2 m_k ω_k)`, a constant.
/// `h_q` and every `K_k` are Hermitian `N x N` matrices, complex allowed. The classical part is
/// QC Lab's stock `h_c_harmonic`, `dh_c_dzc_harmonic`, `hop_harmonic` and
/// `init_classical_boltzmann_harmonic` (or `init_classical_wigner_harmonic`).
///
/// ``make(constants:initialDistribution:)`` picks the fast path: when every `K_k` is diagonal the
/// model is a ``DiagonalLinearVibronicCoupling`` (the spin-boson, FMO and Holstein kind, with
/// their fused RK4 step); otherwise ``LinearVibronicCoupling``, whose off-diagonal couplings
/// produce conical intersections.
package struct LinearVibronicCoupling: HarmonicBathModel {
    package var modelName: String { "LinearVibronicCoupling" }
    /// The constants as read from the job file.
    let data: LinearVibronicCouplingData
    package let bath: HarmonicBath
    /// The nonzero elements of every `∂H_qc/∂z*_k = K_k / sqrt(2 m_k ω_k)`, by mode.
    let gradientTerms: [[LinearVibronicCouplingData.Element]]
    package var numQuantumStates: Int { data.numStates }
    package var couplingGradientDependsOnZ: Bool { false }
    package let hamiltonianIsReal: Bool

    init(data: LinearVibronicCouplingData) {
        self.data = data
        hamiltonianIsReal = data.isReal
        bath = data.bath
        gradientTerms = (0..<data.numModes).map { k in
            let scale = 1.0 / (2.0 * data.masses[k] * data.frequencies[k]).squareRoot()
            return data.nonzeroElements(of: data.couplings[k]).map {
                .init(
                    row: $0.row, column: $0.column, value: Complex(scale * $0.value.real, scale * $0.value.imaginary))
            }
        }
    }

    /// The model for QC Lab-named constants: ``DiagonalLinearVibronicCoupling`` when every
    /// coupling matrix is diagonal, else ``LinearVibronicCoupling``.
    package static func make(
        constants: ModelConstants,
        initialDistribution: InitialClassicalDistribution? = nil
    ) throws -> any Model {
        let data = try LinearVibronicCouplingData(constants: constants, initialDistribution: initialDistribution)
        return data.couplingsAreDiagonal
            ? DiagonalLinearVibronicCoupling(data: data) : LinearVibronicCoupling(data: data)
    }

    /// `h_q + Σ_k q_k K_k` with `q_k = 2 Re z_k / sqrt(2 m_k ω_k)`, element by element.
    package func quantumHamiltonian(z: ComplexBatch, into hamiltonian: inout ComplexBatch) {
        hamiltonian.fill(repeating: data.hq)
        let batch = z.batchSize, n = data.numStates
        hamiltonian.withUnsafeMutableHandle(reading: z) { h, z in
            let (zre, hre, him) = (z.re!, h.re!, h.im!)
            for (k, terms) in gradientTerms.enumerated() {
                let col = k * batch
                for term in terms {
                    let row = (term.row * n + term.column) * batch
                    let (gre, gim) = (2.0 * term.value.real, 2.0 * term.value.imaginary)
                    for t in 0..<batch {
                        hre[row + t] += gre * zre[col + t]
                        him[row + t] += gim * zre[col + t]
                    }
                }
            }
        }
    }

    /// `<ψ|∂H_qc/∂z*_k|ψ> = Σ_ab conj(ψ_a) [K_k]_ab ψ_b / sqrt(2 m_k ω_k)`: real, as `K_k` is Hermitian.
    package func quantumClassicalForce(z: ComplexBatch, wavefunction psi: ComplexBatch, into force: inout ComplexBatch)
    {
        let batch = psi.batchSize
        force.withUnsafeMutableHandle(reading: psi) { force, psi in
            let (f, fim, re, im) = (force.re!, force.im!, psi.re!, psi.im!)
            f.update(repeating: 0, count: force.count)
            fim.update(repeating: 0, count: force.count)
            for (k, terms) in gradientTerms.enumerated() {
                let col = k * batch
                for term in terms {
                    let (a, b) = (term.row * batch, term.column * batch)
                    let (gre, gim) = (term.value.real, term.value.imaginary)
                    for t in 0..<batch {
                        // conj(ψ_a) g ψ_b, real and imaginary parts.
                        let (ur, ui, vr, vi) = (re[a + t], -im[a + t], re[b + t], im[b + t])
                        let (xr, xi) = (ur * gre - ui * gim, ur * gim + ui * gre)
                        f[col + t] += xr * vr - xi * vi
                        fim[col + t] += xr * vi + xi * vr
                    }
                }
            }
        }
    }

    /// `Σ_ab conj(u_a) [∂H_qc/∂z*_k]_ab v_b` for every mode.
    package func couplingGradient(z: [Complex<Double>], left u: [Complex<Double>], right v: [Complex<Double>])
        -> [Complex<Double>]
    {
        gradientTerms.map { terms in
            var sum = Complex<Double>.zero
            for term in terms { sum += (u[term.row].conjugate * term.value) * v[term.column] }
            return sum
        }
    }
}

/// ``LinearVibronicCoupling`` with every `K_k` diagonal: QC Lab's diagonal linear coupling
/// `γ_nk = [K_k]_nn / sqrt(2 m_k ω_k)`, with the fused RK4 step of the spin-boson, FMO and
/// Holstein models.
struct DiagonalLinearVibronicCoupling: DiagonalLinearHarmonicModel {
    package var modelName: String { "LinearVibronicCoupling" }
    let data: LinearVibronicCouplingData
    package let bath: HarmonicBath
    package let coupling: DiagonalLinearCoupling
    package var constantHamiltonian: [Complex<Double>] { data.hq }
    package var numQuantumStates: Int { data.numStates }

    init(data: LinearVibronicCouplingData) {
        precondition(data.couplingsAreDiagonal, "the couplings must be diagonal")
        self.data = data
        bath = data.bath
        let gamma = (0..<data.numStates).map { n in
            (0..<data.numModes).map { k in
                data.couplings[k][n * data.numStates + n].real
                    * (1.0 / (2.0 * data.masses[k] * data.frequencies[k]).squareRoot())
            }
        }
        coupling = DiagonalLinearCoupling(gamma: gamma)
    }
}

/// The constants of a linear vibronic coupling model, checked: shapes, Hermitian matrices,
/// positive frequencies and masses.
struct LinearVibronicCouplingData: Sendable, Equatable {
    /// One matrix element.
    struct Element: Sendable, Equatable {
        var row: Int, column: Int, value: Complex<Double>
    }

    /// `h_q`, row-major `N x N`.
    package let hq: [Complex<Double>]
    /// `ω_k` (`frequencies`), `m_k` (`masses`).
    package let frequencies: [Double], masses: [Double]
    /// `K_k` (`couplings`), each row-major `N x N`.
    package let couplings: [[Complex<Double>]]
    package let kBT: Double
    package let distribution: InitialClassicalDistribution
    package var numStates: Int { Int(Double(hq.count).squareRoot()) }
    package var numModes: Int { frequencies.count }

    /// The default: a two-state, two-mode conical intersection, a tuning mode with
    /// `K_0 = diag(0.5, -0.5)` and a coupling mode with complex `K_1`.
    static let defaults: [String: ParameterValue] = [
        "h_q": .array([.array([.number(0.2), .number(0)]), .array([.number(0), .number(-0.2)])]),
        "frequencies": .array([.number(1.0), .number(0.5)]),
        "couplings": .array([
            .array([.array([.number(0.5), .number(0)]), .array([.number(0), .number(-0.5)])]),
            .array([
                .array([.number(0), .array([.number(0.2), .number(0.1)])]),
                .array([.array([.number(0.2), .number(-0.1)]), .number(0)]),
            ]),
        ]),
    ]

    package init(
        hq: [Complex<Double>], frequencies: [Double], masses: [Double], couplings: [[Complex<Double>]], kBT: Double,
        distribution: InitialClassicalDistribution
    ) {
        (self.hq, self.frequencies, self.masses, self.couplings) = (hq, frequencies, masses, couplings)
        (self.kBT, self.distribution) = (kBT, distribution)
    }

    /// Reads and checks QC Lab-named constants (`h_q`, `frequencies`, `masses`, `couplings`,
    /// `kBT`, `init_classical`); `initialDistribution` is the job's `model.init_classical`.
    package init(constants: ModelConstants, initialDistribution: InitialClassicalDistribution? = nil) throws {
        var c = constants
        let model = c.model
        func fail(_ name: String, _ reason: String) -> QCLabError {
            QCLabError.invalidConstant(model: model, name: name, reason: reason)
        }
        let hqValue = try c.list("h_q", default: Self.defaults["h_q"]!, allowed: "N×N Hermitian matrix")
        let hq = try Self.matrix(hqValue, name: "h_q", size: nil, fail)
        let n = hq.size
        let frequencyValue = try c.list("frequencies", default: Self.defaults["frequencies"]!, allowed: "C reals > 0")
        let frequencies = try Self.positives(frequencyValue, name: "frequencies", count: nil, fail)
        let count = frequencies.count
        let massValue = try c.list(
            "masses", default: .array(Array(repeating: .number(1), count: count)),
            allowed: "C reals > 0 (default all 1)")
        let masses = try Self.positives(massValue, name: "masses", count: count, fail)
        let couplingValue = try c.list(
            "couplings", default: Self.defaults["couplings"]!,
            allowed: "C Hermitian N×N matrices")
        guard case let .array(matrices) = couplingValue, matrices.count == count else {
            throw fail(
                "couplings",
                "must be a list of \(count) matrices, one per frequency, got \(Self.length(couplingValue))")
        }
        let couplings = try matrices.enumerated().map { k, value in
            try Self.matrix(value, name: "couplings[\(k)]", size: n, fail).elements
        }
        let kBT = try c.double("kBT", default: 1.0, .nonNegative)
        let given = try c.choice("init_classical", default: "boltzmann", ["boltzmann", "wigner"])
        let named: InitialClassicalDistribution = given == "wigner" ? .wignerHarmonic : .boltzmannHarmonic
        var distribution = named
        if let initialDistribution {
            guard initialDistribution == .boltzmannHarmonic || initialDistribution == .wignerHarmonic else {
                throw fail("init_classical", "must be boltzmann_harmonic or wigner_harmonic for a harmonic bath")
            }
            if constants.has("init_classical"), initialDistribution != named {
                throw fail(
                    "init_classical", "is \"\(given)\" but model.init_classical is \(initialDistribution.rawValue)")
            }
            distribution = initialDistribution
        }
        try c.finish()
        self.init(
            hq: hq.elements, frequencies: frequencies, masses: masses, couplings: couplings, kBT: kBT,
            distribution: distribution)
    }

    /// The harmonic bath: weights `h = ω`.
    var bath: HarmonicBath {
        HarmonicBath(frequency: frequencies, mass: masses, weight: frequencies, kBT: kBT, distribution: distribution)
    }

    /// Whether every `K_k` is diagonal (then real, being Hermitian).
    package var couplingsAreDiagonal: Bool {
        couplings.allSatisfy { matrix in nonzeroElements(of: matrix).allSatisfy { $0.row == $0.column } }
    }

    /// Whether `h_q` and every `K_k` are real.
    package var isReal: Bool { ([hq] + couplings).allSatisfy { $0.allSatisfy { $0.imaginary == 0 } } }

    /// The nonzero elements of a row-major `N x N` matrix, in row-major order.
    func nonzeroElements(of matrix: [Complex<Double>]) -> [Element] {
        let n = numStates
        return matrix.indices.compactMap { i in
            matrix[i] == .zero ? nil : Element(row: i / n, column: i % n, value: matrix[i])
        }
    }

    /// The constants as a job file writes them; an element with a zero imaginary part as a number.
    package var jobConstants: [String: ParameterValue] {
        func element(_ x: Complex<Double>) -> ParameterValue {
            x.imaginary == 0 ? .number(x.real) : .array([.number(x.real), .number(x.imaginary)])
        }
        func matrix(_ m: [Complex<Double>]) -> ParameterValue {
            let n = numStates
            return .array((0..<n).map { a in .array((0..<n).map { b in element(m[a * n + b]) }) })
        }
        return [
            "h_q": matrix(hq), "frequencies": .array(frequencies.map(ParameterValue.number)),
            "masses": .array(masses.map(ParameterValue.number)), "couplings": .array(couplings.map(matrix)),
            "kBT": .number(kBT), "init_classical": .string(distribution == .wignerHarmonic ? "wigner" : "boltzmann"),
        ]
    }

    // MARK: Reading lists

    private static func length(_ value: ParameterValue) -> String {
        if case let .array(items) = value { return "\(items.count)" }
        return value.messageDescription
    }

    /// A list of `count` (any number ≥ 1 when `nil`) positive finite reals.
    private static func positives(
        _ value: ParameterValue, name: String, count: Int?,
        _ fail: (String, String) -> QCLabError
    ) throws -> [Double] {
        guard case let .array(items) = value, !items.isEmpty else {
            throw fail(name, "must be a non-empty list of numbers")
        }
        if let count, items.count != count {
            throw fail(name, "must have \(count) entries, one per frequency, got \(items.count)")
        }
        return try items.enumerated().map { i, item in
            guard case let .number(x) = item, x.isFinite else {
                throw fail("\(name)[\(i)]", "must be a finite number, got \(item.messageDescription)")
            }
            guard x > 0 else { throw fail("\(name)[\(i)]", "must be positive, got \(x)") }
            return x
        }
    }

    /// A Hermitian matrix, a list of `size` rows of `size` elements (any size ≥ 1 when `nil`).
    private static func matrix(
        _ value: ParameterValue, name: String, size: Int?,
        _ fail: (String, String) -> QCLabError
    ) throws -> (size: Int, elements: [Complex<Double>]) {
        guard case let .array(rows) = value, !rows.isEmpty else {
            throw fail(name, "must be a matrix, a non-empty list of rows")
        }
        let n = size ?? rows.count
        guard rows.count == n else {
            throw fail(name, "must have \(n) rows (N×N, N = \(n) states), got \(rows.count)")
        }
        var elements: [Complex<Double>] = []
        for (a, row) in rows.enumerated() {
            guard case let .array(entries) = row, entries.count == n else {
                throw fail(
                    "\(name)[\(a)]", "must be a row of \(n) elements (N×N, N = \(n) states), got \(length(row))")
            }
            for (b, entry) in entries.enumerated() {
                if case let .number(x) = entry, x.isFinite {
                    elements.append(Complex(x))
                } else if case let .array(pair) = entry, pair.count == 2, case let .number(re) = pair[0],
                    case let .number(im) = pair[1], re.isFinite, im.isFinite
                {
                    elements.append(Complex(re, im))
                } else {
                    throw fail(
                        "\(name)[\(a)][\(b)]",
                        "must be a finite number or an [re, im] pair, got \(entry.messageDescription)")
                }
            }
        }
        for a in 0..<n {
            for b in a..<n where elements[a * n + b] != elements[b * n + a].conjugate {
                let (x, y) = (elements[a * n + b], elements[b * n + a])
                if a == b {
                    throw fail(
                        "\(name)[\(a)][\(a)]",
                        "must be real (the matrix must be Hermitian), got [\(x.real), \(x.imaginary)]")
                }
                throw fail(
                    "\(name)[\(a)][\(b)]",
                    "must be the complex conjugate of \(name)[\(b)][\(a)] (the matrix must be Hermitian), "
                        + "got [\(x.real), \(x.imaginary)] and [\(y.real), \(y.imaginary)]")
            }
        }
        return (n, elements)
    }
}

extension LinearVibronicCoupling: JobDescribableModel {
    /// `h_q`, `frequencies`, `masses`, `couplings`, `kBT` and `init_classical`, as a job file writes them.
    package var jobConstants: [String: ParameterValue] { data.jobConstants }
}

extension DiagonalLinearVibronicCoupling: JobDescribableModel {
    package var jobConstants: [String: ParameterValue] { data.jobConstants }
}
