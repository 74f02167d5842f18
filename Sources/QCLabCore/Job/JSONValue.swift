/// A parsed JSON value that keeps `true` apart from `1`, for strict job-file checks.
public enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// A short name of the value's type, for error messages.
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// As a model constant or algorithm setting.
    package var parameter: ParameterValue? {
        switch self {
        case let .number(x): return .number(x)
        case let .bool(b): return .bool(b)
        case let .string(s): return .string(s)
        case let .array(items):
            var list: [ParameterValue] = []
            for item in items {
                guard let value = item.parameter else { return nil }
                list.append(value)
            }
            return .array(list)
        default: return nil
        }
    }
}
