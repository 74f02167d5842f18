/// A strict JSON reader for job files (RFC 8259): errors say where (line and column) and
/// what went wrong, and a key given twice in one object is an error rather than a silent
/// override, just as an unknown key is.
package enum StrictJSON {
    /// Deepest nesting accepted; job files nest three or four levels.
    package static let maximumDepth = 256

    /// Parses `bytes` as one JSON value, throwing ``QCLabError/malformedJob(_:)`` with
    /// `"not valid JSON at line L, column C: reason"` (prefixed by `source` when given).
    package static func parse(_ bytes: [UInt8], source: String? = nil) throws -> JSONValue {
        var reader = Reader(bytes: bytes)
        do {
            if let bad = reader.firstInvalidUTF8Offset() {
                throw Failure(offset: bad, reason: "the file is not UTF-8 text")
            }
            reader.skipByteOrderMark()
            reader.skipWhitespace()
            guard !reader.atEnd else { throw Failure(offset: reader.offset, reason: "the file is empty") }
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.atEnd else {
                throw Failure(
                    offset: reader.offset,
                    reason: "unexpected \(reader.describeCurrent()) after the end of the JSON value")
            }
            return value
        } catch let failure as Failure {
            let (line, column) = reader.position(of: failure.offset)
            let prefix = source.map { "'\($0)' is not valid JSON" } ?? "not valid JSON"
            throw QCLabError.malformedJob("\(prefix) at line \(line), column \(column): \(failure.reason)")
        }
    }

    private struct Failure: Error {
        let offset: Int
        let reason: String
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset >= bytes.count }
        var current: UInt8? { atEnd ? nil : bytes[offset] }

        /// Line and column (both from 1; columns count characters) of byte `target`.
        func position(of target: Int) -> (Int, Int) {
            var line = 1, column = 1
            for index in 0..<min(target, bytes.count) {
                if bytes[index] == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else if bytes[index] & 0xC0 != 0x80 {
                    column += 1
                }
            }
            return (line, column)
        }

        /// The offset of the first byte that is not valid UTF-8, or nil.
        func firstInvalidUTF8Offset() -> Int? {
            var parser = Unicode.UTF8.ForwardParser()
            var iterator = bytes.makeIterator()
            var position = 0
            while true {
                switch parser.parseScalar(from: &iterator) {
                case let .valid(encoded): position += encoded.count
                case .emptyInput: return nil
                case .error: return position
                }
            }
        }

        /// The current character, quoted, for messages.
        func describeCurrent() -> String {
            guard let byte = current else { return "end of file" }
            if byte >= 0x20 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }

        func unexpected(_ expectation: String) -> Failure {
            if atEnd {
                return Failure(
                    offset: offset, reason: "unexpected end of file (is it truncated?); expected \(expectation)")
            }
            return Failure(offset: offset, reason: "unexpected \(describeCurrent()); expected \(expectation)")
        }

        mutating func skipByteOrderMark() {
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { offset = 3 }
        }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < StrictJSON.maximumDepth else {
                throw Failure(offset: offset, reason: "nested more than \(StrictJSON.maximumDepth) levels deep")
            }
            switch current {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case let byte? where byte == UInt8(ascii: "-") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")):
                return .number(try number())
            default: throw unexpected("a value (object, array, string, number, true, false or null)")
            }
        }

        mutating func literal(_ word: String) throws {
            let start = offset
            for expected in word.utf8 {
                guard current == expected else {
                    let found = String(
                        decoding: bytes[start..<min(bytes.count, start + word.utf8.count)], as: UTF8.self)
                    throw Failure(
                        offset: start, reason: "unexpected '\(found)'; expected a value (did you mean \(word)?)")
                }
                offset += 1
            }
        }

        mutating func object(depth: Int) throws -> JSONValue {
            offset += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") { offset += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw unexpected("a key in double quotes") }
                let keyOffset = offset
                let key = try string()
                guard members[key] == nil else {
                    throw Failure(offset: keyOffset, reason: "key '\(key)' appears twice in the same object")
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw unexpected("':' after key '\(key)'") }
                offset += 1
                skipWhitespace()
                members[key] = try value(depth: depth + 1)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "}"): offset += 1; return .object(members)
                default: throw unexpected("',' or '}' after the value of '\(key)'")
                }
            }
        }

        mutating func array(depth: Int) throws -> JSONValue {
            offset += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { offset += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth + 1))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"): offset += 1; return .array(items)
                default: throw unexpected("',' or ']' in an array")
                }
            }
        }

        mutating func number() throws -> Double {
            let start = offset
            func digits() -> Int {
                let from = offset
                while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
                return offset - from
            }
            if current == UInt8(ascii: "-") { offset += 1 }
            if current == UInt8(ascii: "0") {
                offset += 1
                if let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                    throw Failure(offset: start, reason: "a number must not start with 0")
                }
            } else if digits() == 0 {
                throw unexpected("a digit")
            }
            if current == UInt8(ascii: ".") {
                offset += 1
                guard digits() > 0 else { throw unexpected("a digit after the decimal point") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                offset += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
                guard digits() > 0 else { throw unexpected("a digit in the exponent") }
            }
            let text = String(decoding: bytes[start..<offset], as: UTF8.self)
            guard let value = Double(text), value.isFinite else {
                throw Failure(offset: start, reason: "the number \(text) is out of range")
            }
            return value
        }

        mutating func string() throws -> String {
            let quote = offset
            offset += 1
            var scalars = String.UnicodeScalarView()
            var segmentStart = offset
            func flush(_ end: Int) {
                scalars.append(contentsOf: String(decoding: bytes[segmentStart..<end], as: UTF8.self).unicodeScalars)
            }
            while true {
                guard let byte = current else {
                    throw Failure(
                        offset: quote, reason: "a string that starts here never ends (is the file truncated?)")
                }
                switch byte {
                case UInt8(ascii: "\""):
                    flush(offset)
                    offset += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush(offset)
                    scalars.append(try escape())
                    segmentStart = offset
                case 0x00..<0x20:
                    throw Failure(
                        offset: offset,
                        reason: "a line break or control character inside a string (missing closing quote?)")
                default:
                    offset += 1
                }
            }
        }

        /// Reads the escape sequence at `offset` (a backslash) and returns its character.
        mutating func escape() throws -> Unicode.Scalar {
            let start = offset
            offset += 1
            guard let byte = current else { throw unexpected("an escape sequence") }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let high = try hexQuad(start)
                if (0xD800..<0xDC00).contains(high) {
                    guard current == UInt8(ascii: "\\"), offset + 1 < bytes.count,
                        bytes[offset + 1] == UInt8(ascii: "u")
                    else {
                        throw Failure(offset: start, reason: "an unpaired UTF-16 surrogate escape")
                    }
                    offset += 2
                    let low = try hexQuad(start)
                    guard (0xDC00..<0xE000).contains(low),
                        let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                    else {
                        throw Failure(offset: start, reason: "an unpaired UTF-16 surrogate escape")
                    }
                    return scalar
                }
                guard let scalar = Unicode.Scalar(high) else {
                    throw Failure(offset: start, reason: "an unpaired UTF-16 surrogate escape")
                }
                return scalar
            default:
                throw Failure(
                    offset: start, reason: "unknown escape sequence '\\\(Character(Unicode.Scalar(byte)))' in a string"
                )
            }
        }

        mutating func hexQuad(_ escapeStart: Int) throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current, let digit = Character(Unicode.Scalar(byte)).hexDigitValue else {
                    throw Failure(offset: escapeStart, reason: "'\\u' must be followed by four hexadecimal digits")
                }
                value = value << 4 | UInt32(digit)
                offset += 1
            }
            return value
        }
    }
}
