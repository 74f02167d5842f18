/// A value given for a model constant or an algorithm setting in a job file.
public enum ParameterValue: Sendable, Equatable {
    case number(Double)
    case bool(Bool)
    case string(String)
}

/// The constants given to a model, read with type and range checks; reading all of them
/// through ``finish()`` rejects any name the model does not know (a typo is an error).
public struct ModelConstants: Sendable {
    public let model: String
    private let values: [String: ParameterValue]
    private var used: Set<String> = []

    public init(model: String, _ values: [String: ParameterValue] = [:]) {
        self.model = model
        self.values = values
    }

    /// The range a numeric constant must lie in.
    public enum Range: Sendable {
        case any, positive, nonNegative
    }

    /// A real constant, `default` when absent.
    public mutating func double(_ name: String, default value: Double, _ range: Range = .any) throws -> Double {
        used.insert(name)
        guard let given = values[name] else { return value }
        guard case let .number(number) = given, number.isFinite else {
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be a finite number")
        }
        switch range {
        case .positive where !(number > 0):
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be positive, got \(number)")
        case .nonNegative where !(number >= 0):
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be non-negative, got \(number)")
        default: return number
        }
    }

    /// A whole-number constant of at least `minimum`, `default` when absent.
    public mutating func int(_ name: String, default value: Int, minimum: Int) throws -> Int {
        used.insert(name)
        guard let given = values[name] else { return value }
        guard case let .number(number) = given, number.isFinite, number == number.rounded(), abs(number) < 1e9 else {
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be a whole number")
        }
        guard Int(number) >= minimum else {
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be at least \(minimum), got \(Int(number))")
        }
        return Int(number)
    }

    /// A true/false constant, `default` when absent.
    public mutating func bool(_ name: String, default value: Bool) throws -> Bool {
        used.insert(name)
        guard let given = values[name] else { return value }
        guard case let .bool(flag) = given else {
            throw QCLabError.invalidConstant(model: model, name: name, reason: "must be true or false")
        }
        return flag
    }

    /// Throws for the first constant that was given but never read.
    public func finish() throws {
        if let unknown = values.keys.sorted().first(where: { !used.contains($0) }) {
            throw QCLabError.unknownName(kind: "\(model) constant", name: unknown, known: used.sorted())
        }
    }
}
