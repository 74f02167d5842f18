import QCLabCore

extension SimulationData {
    /// What an output file holds, as `qclab info` prints it: trajectories and samples, the
    /// seeds (compactly, ``SeedList/describe(_:)``), the time grid, every output with its
    /// shape and type, whether error bars are present, and the size of the log.
    ///
    /// - Parameter datasetNames: the file's dataset names (``datasetNames(inFileAt:)``),
    ///   to list the standard errors it stores; `nil` for data that is not from a file.
    public func summary(datasetNames: [String]? = nil) -> String {
        var rows: [(String, String)] = []
        let samples = sampleCount == normFactor ? "" : ", \(sampleCount) independent samples"
        rows.append(("trajectories", "\(normFactor)\(samples)"))
        rows.append(("seeds", seeds.isEmpty ? "none" : "\(SeedList.describe(seeds))"))
        rows.append(("time grid", SimulationData.describeTimeGrid(times)))
        for (index, observable) in observables.enumerated() {
            let shape = "(" + observable.shape.map(String.init).joined(separator: ", ") + (observable.shape.count == 1 ? ",)" : ")")
            rows.append((index == 0 ? "outputs" : "", "\(observable.name) \(shape) \(observable.isComplex ? "complex" : "real")"))
        }
        if observables.isEmpty { rows.append(("outputs", "none")) }
        let errorBars: String
        if let reason = errorBarsUnavailable {
            errorBars = "no (\(reason))"
        } else if sampleCount < 2 {
            errorBars = "no (fewer than two samples)"
        } else {
            let names = observables.filter { $0.name != "t" }.map { $0.name + "_sem" }
            let stored = datasetNames.map { names.filter($0.contains) } ?? names
            errorBars = "yes, standard errors of the mean (\(stored.joined(separator: ", ")))"
        }
        rows.append(("error bars", errorBars))
        let lines = log.split(separator: "\n", omittingEmptySubsequences: true).count
        rows.append(("log", lines == 0 ? "empty" : "\(lines) line\(lines == 1 ? "" : "s")"))
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { label, value in
            let head = label.isEmpty ? String(repeating: " ", count: width + 2) : label + ":" + String(repeating: " ", count: width - label.count + 1)
            return head + value
        }.joined(separator: "\n")
    }
}
