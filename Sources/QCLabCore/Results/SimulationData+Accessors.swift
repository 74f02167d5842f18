import Numerics

/// A value with its error bar: the mean over trajectories and the standard error of that
/// mean (zero when the data holds no error bars, as QC Lab's files do not).
public struct Estimate: Sendable, Equatable, CustomStringConvertible {
    public var value: Double
    public var standardError: Double

    public init(value: Double, standardError: Double) {
        self.value = value
        self.standardError = standardError
    }

    public var description: String { "\(value) ± \(standardError)" }
}

/// Typed access to what people read from a run, shaped as QC Lab's `data_dict` (matrices
/// as `[t][i][j]` complex values), without index arithmetic on the flat, interleaved arrays
/// of ``SimulationData/mean(_:)``.
extension SimulationData {
    /// The number of quantum states: `N` of `dm_db`'s shape `(T, N, N)`, nil without it.
    public var stateCount: Int? {
        guard let dm = observable("dm_db"), dm.isComplex, dm.shape.count == 3, dm.shape[1] == dm.shape[2] else {
            return nil
        }
        return dm.shape[1]
    }

    /// The diabatic populations, `populations[k][n]` = Re `dm_db[k, n, n]` at the `k`-th
    /// collect time: QC Lab's `np.real(np.einsum("tii->ti", data_dict["dm_db"]))`.
    public var populations: [[Double]]? {
        guard let n = stateCount, let mean = mean("dm_db") else { return nil }
        return times.indices.map { k in (0..<n).map { mean[2 * ((k * n + $0) * n + $0)] } }
    }

    /// The population of state `state` at every collect time, with its error bar.
    public func population(ofState state: Int) -> [Estimate]? {
        guard let n = stateCount, (0..<n).contains(state) else { return nil }
        return estimates("dm_db", element: state * n + state)
    }

    /// Element `(row, column)` of the diabatic density matrix at every collect time.
    public func densityMatrixElement(_ row: Int, _ column: Int) -> [Complex<Double>]? {
        guard let n = stateCount, (0..<n).contains(row), (0..<n).contains(column), let mean = mean("dm_db") else {
            return nil
        }
        return times.indices.map { k in
            let i = 2 * ((k * n + row) * n + column)
            return Complex(mean[i], mean[i + 1])
        }
    }

    /// The diabatic density matrix at the `timeIndex`-th collect time, `[row][column]`.
    public func densityMatrix(atTimeIndex timeIndex: Int) -> [[Complex<Double>]]? {
        guard let n = stateCount, times.indices.contains(timeIndex), let mean = mean("dm_db") else { return nil }
        return (0..<n).map { row in
            (0..<n).map { column in
                let i = 2 * ((timeIndex * n + row) * n + column)
                return Complex(mean[i], mean[i + 1])
            }
        }
    }

    /// The diabatic density matrix at every collect time, `dm_db[t][i][j]`.
    ///
    /// Averaged over trajectories: QC Lab's `data.data_dict["dm_db"][t, i, j]`. Nil without
    /// `dm_db`.
    public var dm_db: [[[Complex<Double>]]]? { matrices("dm_db") }

    /// An output of shape `(T, N, M)` shaped as `[t][i][j]`, complex.
    ///
    /// A real output's imaginary parts are zero. It gives the means, or with `standardErrors` their
    /// standard errors (real and imaginary parts apart, as `Complex(error of re, error of im)`).
    /// Nil for an unknown output or another shape. ``mean(_:)`` has the same numbers flat and
    /// interleaved.
    public func matrices(_ name: String, standardErrors: Bool = false) -> [[[Complex<Double>]]]? {
        guard let output = observable(name), output.shape.count == 3,
            let flat = standardErrors ? standardError(name) : mean(name)
        else { return nil }
        let (rows, columns) = (output.shape[1], output.shape[2])
        let stride = output.isComplex ? 2 : 1
        return (0..<output.shape[0]).map { t in
            (0..<rows).map { i in
                (0..<columns).map { j in
                    let index = stride * ((t * rows + i) * columns + j)
                    return Complex(flat[index], output.isComplex ? flat[index + 1] : 0)
                }
            }
        }
    }

    /// A real output of shape `(T, N)` shaped as `[t][k]`.
    ///
    /// Such as `q` and `p` (coordinate `k`) or `adiabatic_populations` (state `k`); its means, or
    /// with `standardErrors` their standard errors. Nil for an unknown or complex output or another
    /// shape.
    public func vectors(_ name: String, standardErrors: Bool = false) -> [[Double]]? {
        guard let output = observable(name), output.shape.count == 2, !output.isComplex,
            let flat = standardErrors ? standardError(name) : mean(name)
        else { return nil }
        let width = output.shape[1]
        return (0..<output.shape[0]).map { t in Array(flat[(t * width)..<((t + 1) * width)]) }
    }

    /// Output `name` at every collect time with its error bar.
    ///
    /// It gives element `element` of the values after the time axis (row-major; 0 for an output of
    /// shape `(T,)`), the real part for a complex output. Nil for an unknown output or element. For
    /// instance `data.estimates("quantum_energy")`, or `data.estimates("q", element: 3)` for
    /// coordinate 3 of `q` when it was collected.
    public func estimates(_ name: String, element: Int = 0) -> [Estimate]? {
        guard let output = observable(name), !output.shape.isEmpty, let mean = mean(name),
            let error = standardError(name)
        else { return nil }
        let width = output.shape.dropFirst().reduce(1, *), stride = output.isComplex ? 2 : 1
        guard (0..<width).contains(element) else { return nil }
        return (0..<output.shape[0]).map { k in
            let i = stride * (k * width + element)
            return Estimate(value: mean[i], standardError: error[i])
        }
    }

    /// Whether `other` holds the same results to the bit.
    ///
    /// It compares seeds, trajectory and sample counts, and every output's sums and spreads. The
    /// log (which names the driver and task count) is not compared, so serial, forked and MPI runs
    /// of one job compare equal here; `==` compares the log as well.
    public func hasSameResults(as other: SimulationData) -> Bool {
        seeds == other.seeds && normFactor == other.normFactor && sampleCount == other.sampleCount
            && observables == other.observables
    }
}
