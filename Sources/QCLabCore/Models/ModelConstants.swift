/// A value given for a model constant or an algorithm setting in a job file.
public enum ParameterValue: Sendable, Equatable {
    case number(Double)
    case bool(Bool)
    case string(String)
    /// A list: a vector, a matrix (a list of rows) or a complex number `[re, im]`.
    case array([ParameterValue])

    /// The value as an error message quotes it: a number or flag as itself, a string in quotes.
    package var messageDescription: String {
        switch self {
        case let .number(x): return "\(x)"
        case let .bool(b): return "\(b)"
        case let .string(text): return "the string \"\(text)\""
        case .array: return "a list"
        }
    }
}

/// The constants given to a model, read with type and range checks; reading all of them
/// through ``finish()`` rejects any name the model does not know (a typo is an error).
package struct ModelConstants: Sendable {
    package let model: String
    private let values: [String: ParameterValue]
    private var used: Set<String> = []

    package init(model: String, _ values: [String: ParameterValue] = [:]) {
        self.model = model
        self.values = values
    }

    /// The range a real constant must lie in.
    package enum AllowedRange: Sendable {
        case any, positive, nonNegative
    }

    /// A real constant, `default` when absent.
    package mutating func double(_ name: String, default value: Double, _ range: AllowedRange = .any) throws -> Double
    {
        used.insert(name)
        ConstantRecorder.current?.add(
            ConstantDescription(name: name, kind: .real(range), defaultValue: .number(value)))
        guard let given = values[name] else { return value }
        guard case let .number(number) = given, number.isFinite else {
            throw QCLabError.invalidConstant(
                model: model, name: name,
                reason: "must be a finite number, got \(given.messageDescription)")
        }
        switch range {
        case .positive where !(number > 0):
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be positive, got \(number)")
        case .nonNegative where !(number >= 0):
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be non-negative, got \(number)")
        default: return number
        }
    }

    /// A whole-number constant in `minimum...maximum`, `default` when absent.
    ///
    /// The maximum keeps a typo such as `1e8` lattice sites from trying to allocate terabytes.
    package mutating func int(_ name: String, default value: Int, minimum: Int, maximum: Int = 10_000_000) throws
        -> Int
    {
        used.insert(name)
        ConstantRecorder.current?.add(
            ConstantDescription(
                name: name, kind: .whole(minimum: minimum, maximum: maximum),
                defaultValue: .number(Double(value))))
        guard let given = values[name] else { return value }
        guard case let .number(number) = given, number.isFinite, number == number.rounded() else {
            throw QCLabError.invalidConstant(
                model: model, name: name,
                reason: "must be a whole number, got \(given.messageDescription)")
        }
        guard number >= Double(minimum) else {
            throw QCLabError.invalidConstant(
                model: model, name: name,
                reason: "must be at least \(minimum), got \(given.messageDescription)")
        }
        guard number <= Double(maximum) else {
            throw QCLabError.invalidConstant(
                model: model, name: name,
                reason: "must be at most \(maximum), got \(given.messageDescription)")
        }
        return Int(number)
    }

    /// A true/false constant, `default` when absent.
    package mutating func bool(_ name: String, default value: Bool) throws -> Bool {
        used.insert(name)
        ConstantRecorder.current?.add(ConstantDescription(name: name, kind: .flag, defaultValue: .bool(value)))
        guard let given = values[name] else { return value }
        guard case let .bool(flag) = given else {
            throw QCLabError.invalidConstant(
                model: model, name: name,
                reason: "must be true or false, got \(given.messageDescription)")
        }
        return flag
    }

    /// One of `choices`, `default` when absent.
    public mutating func choice(_ name: String, default value: String, _ choices: [String]) throws -> String {
        used.insert(name)
        ConstantRecorder.current?.add(
            ConstantDescription(
                name: name, kind: .structured(choices.map { "\"\($0)\"" }.joined(separator: " or ")),
                defaultValue: .string(value)))
        guard let given = values[name] else { return value }
        guard case let .string(text) = given, choices.contains(text) else {
            throw QCLabError.invalidConstant(
                model: model, name: name,
                reason: "must be " + choices.map { "\"\($0)\"" }.joined(separator: " or ")
                    + ", got \(given.messageDescription)")
        }
        return text
    }

    /// A constant given as a list (a vector, a matrix, a list of matrices), `default` when absent.
    ///
    /// `allowed` describes it for ``ModelRegistry/describe(_:)``. The model checks its shape and
    /// elements and names a bad one (``LinearVibronicCoupling`` names `couplings[1][0][1]`).
    public mutating func list(_ name: String, default value: ParameterValue, allowed: String) throws -> ParameterValue
    {
        used.insert(name)
        ConstantRecorder.current?.add(ConstantDescription(name: name, kind: .structured(allowed), defaultValue: value))
        guard let given = values[name] else { return value }
        guard case .array = given else {
            throw QCLabError.invalidConstant(
                model: model, name: name, reason: "must be a list (\(allowed)), got \(given.messageDescription)")
        }
        return given
    }

    /// Whether the job gives constant `name`.
    public func has(_ name: String) -> Bool { values[name] != nil }

    /// Throws for the first constant that was given but never read.
    package func finish() throws {
        if let unknown = values.keys.sorted().first(where: { !used.contains($0) }) {
            throw QCLabError.unknownName(kind: "\(model) constant", name: unknown, known: used.sorted())
        }
    }
}
