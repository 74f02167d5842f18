import Foundation
import QCLab

/// The environment variables qclab reads for its own settings, each parsed strictly: a
/// value outside its stated range is refused with one line naming the variable, its value
/// and the range, never quietly replaced by the default or clamped.
enum EnvironmentSettings {
    /// The longest any of the time settings may be: a day.
    static let maximumSeconds = 86_400.0

    /// A number of seconds from `name` (plain decimal digits with an optional fraction: no
    /// sign, exponent, infinity or NaN), in (0, 86400], or in [0, 86400] when
    /// `zeroAllowed`; `fallback` when the variable is unset.
    static func seconds(
        _ name: String, default fallback: Double, zeroAllowed: Bool = false,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Double {
        guard let text = environment[name] else { return fallback }
        let range = (zeroAllowed ? "[0, " : "(0, ") + "\(Int(maximumSeconds))]"
        let expected = "a number of seconds in \(range) (digits with an optional fraction, such as 30 or 0.5)"
        let digits = text.utf8.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        guard (1...2).contains(digits.count),
            digits.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (48...57).contains($0) } }),
            let value = Double(text), value <= maximumSeconds, value > 0 || (zeroAllowed && value == 0)
        else {
            throw QCLabError.invalidEnvironment(variable: name, value: text, expected: expected)
        }
        return value
    }
}
