import Foundation
import QCLab

/// The few lines `qclab run` prints when it is done: what was written, and a table of
/// the populations at five times.
///
/// Up to ``maximumColumns`` states are all shown; with more, the most populated ones (by
/// their largest population over the run), in state order, and a line says which.
enum Summary {
    static let maximumColumns = 8

    static func describe(_ data: SimulationData, path: String) -> String {
        let times = data.times
        let header =
            "wrote \(path): \(data.normFactor) trajectories (seeds \(SeedList.describe(data.seeds))), \(times.count) time points"
        guard let shape = data.observable("dm_db")?.shape, shape.count == 3, shape[0] == times.count, !times.isEmpty
        else {
            return header
        }
        let n = shape[1]
        // The populations alone (the real diagonal), not every element's mean.
        let diagonal = (0..<times.count).flatMap { k in (0..<n).map { state in 2 * ((k * n + state) * n + state) } }
        guard let populations = data.mean("dm_db", elements: diagonal) else { return header }
        func population(_ k: Int, _ state: Int) -> Double { populations[k * n + state] }
        var lines = [header]
        var states = Array(0..<n)
        if n > maximumColumns {
            let peak = (0..<n).map { state in times.indices.map { population($0, state) }.max() ?? 0 }
            states = Array(
                states.sorted { peak[$0] > peak[$1] || (peak[$0] == peak[$1] && $0 < $1) }.prefix(maximumColumns)
            ).sorted()
            lines.append(
                "populations of the \(maximumColumns) most populated of \(n) states (`qclab plot` shows all):")
        }
        let picks = Array(Set([0, times.count / 4, times.count / 2, 3 * times.count / 4, times.count - 1])).sorted()
        let rows =
            [["t"] + states.map { "P\($0)" }]
            + picks.map { k in [number(times[k], "%g")] + states.map { number(population(k, $0), "%.4f") } }
        lines += table(rows)
        return lines.joined(separator: "\n")
    }

    /// `value` formatted, with a negative zero ("-0.0000") shown as zero.
    static func number(_ value: Double, _ format: String) -> String {
        let text = String(format: format, value)
        if text.hasPrefix("-"), let parsed = Double(text), parsed == 0 { return String(text.dropFirst()) }
        return text
    }

    /// Rows as aligned columns, two spaces apart: the first left-aligned, the others
    /// right-aligned (numbers) or left-aligned too; no trailing spaces.
    static func table(_ rows: [[String]], rightAligned: Bool = true) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 || !rightAligned ? cell + padding : padding + cell
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
    }
}
