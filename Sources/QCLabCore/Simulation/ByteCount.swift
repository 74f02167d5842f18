import Foundation

/// Byte counts in words, for messages: `512 B`, `3.2 GiB`, `1.0e+06 TiB`.
package enum ByteCount {
    package static func describe(_ bytes: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = bytes, unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        if unit == 0 { return "\(Int(value)) B" }
        return (value < 1e5 ? String(format: "%.1f", value) : String(format: "%.1e", value)) + " " + units[unit]
    }
}
