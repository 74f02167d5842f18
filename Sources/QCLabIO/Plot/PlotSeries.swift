import QCLabCore
import QCLabSystem
import Foundation

/// What `qclab plot` draws against time.
package enum PlotQuantity: Sendable, Equatable {
    /// The diabatic populations: the real diagonal of `dm_db`.
    case populations
    /// `quantum_energy`, `classical_energy` and their sum, each as its change since
    /// t = 0 (the parts differ in scale by orders of magnitude).
    case energies
    /// Any output by its dataset name (`q`, `p`, `quantum_energy`, a user output...):
    /// one series per element after the time axis, the real part of a complex output.
    case output(String)

    /// `populations`, `energies`, or an output's name.
    package init(name: String) {
        switch name {
        case "populations", "dm_db": self = .populations
        case "energies", "energy": self = .energies
        default: self = .output(name)
        }
    }

    /// A short name, for file names and messages.
    package var name: String {
        switch self {
        case .populations: return "populations"
        case .energies: return "energies"
        case let .output(name): return name
        }
    }
}

/// The units a built-in model works in, for axis labels.
///
/// QC Lab's harmonic models (spin-boson, Holstein) are in reduced units; the FMO complex
/// is in units of k_B T at 300 K (time in ħ/k_B T = 25.46 fs); the Tully problems are in
/// atomic units (hartree, ħ/E_h = 0.02419 fs).
package struct ModelUnits: Sendable, Equatable {
    package var time: String?
    package var energy: String?

    package static func of(model: String) -> ModelUnits {
        switch model {
        case "FMOComplex": return ModelUnits(time: "ħ/kBT at 300 K = 25.46 fs", energy: "kBT at 300 K = 208.5 cm⁻¹")
        case "TullyProblemOne", "TullyProblemTwo", "TullyProblemThree":
            return ModelUnits(time: "a.u.; 1 a.u. = 0.02419 fs", energy: "hartree")
        default: return ModelUnits(time: nil, energy: nil)
        }
    }
}

/// The series of one quantity in a result, with the words around them: what
/// ``TimeSeriesPlot`` and ``HeatMapPlot`` draw.
package struct PlotSeries: Sendable {
    package var times: [Double]
    /// `values[series][time]`.
    package var values: [[Double]]
    /// `[series][time]`, or nil when the data holds no error bars.
    package var standardErrors: [[Double]]?
    package var names: [String]
    package var title: String
    package var subtitle: String
    package var timeLabel: String
    package var valueLabel: String

    package init(data: SimulationData, quantity: PlotQuantity) throws {
        guard !data.isEmpty else {
            throw QCLabError.unusableData("nothing to plot: the data holds no trajectories")
        }
        let (model, algorithm) = Self.modelAndAlgorithm(log: data.log)
        let units = ModelUnits.of(model: model ?? "")
        var values: [[Double]] = [], errors: [[Double]] = [], names: [String] = []
        // Whether the data holds error bars for what is drawn (bands of zero width, at t = 0
        // say, are error bars all the same).
        var hasErrors = false
        let noun: String
        switch quantity {
        case .populations:
            guard let dm = data.observable("dm_db"), dm.shape.count == 3, dm.shape[1] == dm.shape[2], dm.isComplex,
                let mean = data.mean("dm_db")
            else {
                throw QCLabError.unusableData("nothing to plot: no diabatic density matrix 'dm_db' of shape (T, N, N)")
            }
            // Data without error bars (QC Lab's files) has no bands.
            hasErrors = data.standardError("dm_db") != nil
            let error = data.standardError("dm_db") ?? [Double](repeating: 0, count: mean.count)
            let count = dm.shape[0], n = dm.shape[1]
            for state in 0..<n {
                values.append((0..<count).map { mean[2 * (($0 * n + state) * n + state)] })
                errors.append((0..<count).map { error[2 * (($0 * n + state) * n + state)] })
                names.append("state \(state)")
            }
            noun = "Diabatic populations"
            valueLabel = "population"
        case .energies:
            // The parts differ in scale by orders of magnitude (a bath of hundreds of modes
            // against a few states), so each is drawn as its change since t = 0: the energy
            // flowing between quantum and classical, and the total's drift. The standard
            // error of a change is not in the data (the values at two times are correlated),
            // so there are no bands; each part alone, by its name, has them.
            let parts = ["quantum_energy", "classical_energy"]
            guard parts.allSatisfy({ data.observable($0)?.shape.count == 1 }) else {
                throw QCLabError.unusableData(
                    "nothing to plot: no 'quantum_energy' and 'classical_energy' in the data "
                        + "(outputs: \(Self.outputNames(data)))")
            }
            let quantum = data.mean("quantum_energy")!, classical = data.mean("classical_energy")!
            let total = zip(quantum, classical).map(+)
            for series in [quantum, classical, total] {
                let start = series.first ?? 0
                values.append(series.map { $0 - start })
                errors.append(Array(repeating: 0, count: series.count))
            }
            names = ["quantum", "classical", "total"]
            noun = "Energy exchange"
            valueLabel = "E(t) − E(0)" + (units.energy.map { " (\($0))" } ?? "")
        case let .output(name):
            guard let output = data.observable(name), name != "t", !output.shape.isEmpty,
                let mean = data.mean(name)
            else {
                throw QCLabError.unknownName(
                    kind: "output to plot", name: name,
                    known: ["populations", "energies"]
                        + Self.outputNames(data).split(separator: ",")
                        .map { $0.trimmingCharacters(in: .whitespaces) })
            }
            hasErrors = data.standardError(name) != nil
            let error = data.standardError(name) ?? [Double](repeating: 0, count: mean.count)
            let count = output.shape[0], width = output.shape.dropFirst().reduce(1, *)
            let stride = output.isComplex ? 2 : 1
            for element in 0..<width {
                values.append((0..<count).map { mean[stride * ($0 * width + element)] })
                errors.append((0..<count).map { error[stride * ($0 * width + element)] })
                names.append(
                    width == 1 ? name : "\(name)[\(Self.index(element, shape: Array(output.shape.dropFirst())))]")
            }
            noun = name
            valueLabel =
                (output.isComplex ? "Re " : "") + name
                + (name.hasSuffix("energy") ? (units.energy.map { " (\($0))" } ?? "") : "")
        }
        let count = values.first?.count ?? 0
        guard count >= 2 else {
            throw QCLabError.unusableData(
                "nothing to plot against time: the data holds \(count == 1 ? "one time point" : "no time points")"
                    + " (a run needs tmax of at least one dt_collect for two)")
        }
        times = data.times.count == count ? data.times : (0..<count).map(Double.init)
        timeLabel = "time" + (units.time.map { " (\($0))" } ?? "")
        self.values = values
        self.names = names
        standardErrors = hasErrors ? errors : nil
        let what = [
            model,
            algorithm.map {
                [
                    "FewestSwitchesSurfaceHopping": "FSSH", "MeanField": "mean field",
                    "MultiStateMappingApproachToSurfaceHopping": "MSMASH",
                ][$0] ?? $0
            },
        ]
        .compactMap { $0 }.joined(separator: ", ")
        title = what.isEmpty ? noun : "\(noun): \(what)"
        subtitle =
            Self.sampleCount(data)
            + (hasErrors
                ? "; shaded bands: ±1 standard error of the mean"
                : quantity == .energies
                    ? "; changes since t = 0, without error bands (plot quantum_energy alone for those)"
                    : "; no error bars in this data")
    }

    /// "200 trajectories", or for deterministic surface hopping, whose branches are not
    /// independent, "8 independent samples (32 branches)".
    package static func sampleCount(_ data: SimulationData) -> String {
        if data.sampleCount > 0 && data.sampleCount != data.normFactor {
            return
                "\(data.sampleCount) independent sample\(data.sampleCount == 1 ? "" : "s") (\(data.normFactor) branches)"
        }
        return "\(data.normFactor) trajector\(data.normFactor == 1 ? "y" : "ies")"
    }

    /// The model and algorithm named by our drivers' first log line
    /// ("QCLab for Swift: MeanField on SpinBoson, serial driver, 1 task(s).").
    package static func modelAndAlgorithm(log: String) -> (model: String?, algorithm: String?) {
        let marker = "QCLab for Swift: "
        guard let line = log.split(separator: "\n").first(where: { $0.hasPrefix(marker) }),
            let what = line.dropFirst(marker.count).split(separator: ",").first
        else { return (nil, nil) }
        let parts = what.components(separatedBy: " on ")
        guard parts.count == 2 else { return (nil, String(what)) }
        return (parts[1], parts[0])
    }

    package static func outputNames(_ data: SimulationData) -> String {
        data.observables.map(\.name).filter { $0 != "t" }.joined(separator: ", ")
    }

    package static func index(_ flat: Int, shape: [Int]) -> String {
        var rest = flat, parts: [Int] = []
        for size in shape.reversed() {
            parts.append(rest % size)
            rest /= size
        }
        return parts.reversed().map(String.init).joined(separator: ",")
    }
}

/// Colour ramps for many series and for heat maps.
package enum ColourScale {
    /// Viridis (matplotlib's perceptually uniform map), from dark violet (0) to yellow (1).
    package static let viridis: [(Double, Double, Double)] = [
        (68, 1, 84), (72, 40, 120), (62, 74, 137), (49, 104, 142), (38, 130, 142),
        (31, 158, 137), (53, 183, 121), (109, 205, 89), (180, 222, 44), (253, 231, 37),
    ]

    /// A colour of viridis at `x` in [0, 1].
    package static func viridis(_ x: Double) -> String { interpolate(viridis, x) }

    /// For lines on white: viridis from dark violet to green, then to a dark orange-brown
    /// instead of the yellow end, which is faint on white.
    package static func lineRamp(_ x: Double) -> String {
        interpolate([(68, 1, 84), (59, 82, 139), (33, 145, 140), (60, 160, 70), (190, 110, 20)], x)
    }

    package static func interpolate(_ stops: [(Double, Double, Double)], _ x: Double) -> String {
        let position = min(1, max(0, x.isFinite ? x : 0)) * Double(stops.count - 1)
        let i = min(Int(position), stops.count - 2), f = position - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func mix(_ u: Double, _ v: Double) -> Int { Int((u + (v - u) * f).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}
