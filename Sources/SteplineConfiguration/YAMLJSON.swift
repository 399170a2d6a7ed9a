import StatesLanguage
import Yams

/// YAML nodes as JSON text, keeping plain numbers exactly as written (an event pattern's
/// `{"numeric": [">", 0.1000000000000000055]}` must not go through a double) and mapping
/// keys in document order.
enum YAMLJSON {
    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// A YAML error without the text of the document: where, and what the parser expected.
    ///
    /// Yams' own description quotes the offending line, which may hold a password
    /// (`sasl.password: "..."`); the line and column are enough to find it.
    static func describe(_ error: any Error) -> String {
        guard let e = error as? YamlError else { return "the document cannot be read" }
        func at(_ mark: Mark, _ stage: String, _ context: YamlError.Context?, _ problem: String) -> String {
            let context = context.map { "\($0.text) (line \($0.mark.line), column \($0.mark.column)): " } ?? ""
            return "line \(mark.line), column \(mark.column): \(stage): \(context)\(problem)"
        }
        switch e {
        case .scanner(let context, let problem, let mark, _): return at(mark, "scanner", context, problem)
        case .parser(let context, let problem, let mark, _): return at(mark, "parser", context, problem)
        case .composer(let context, let problem, let mark, _): return at(mark, "composer", context, problem)
        case .reader(let problem, let offset, _, let yaml):
            // `offset` counts characters from the start of the document.
            guard let offset else { return "reader: \(problem)" }
            let line = yaml.prefix(offset).reduce(1) { $1.isNewline ? $0 + 1 : $0 }
            return "line \(line): reader: \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "line \(context.mark.line), column \(context.mark.column): duplicated keys \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", "))"
        default:
            return "\(e)"
        }
    }

    static func text(_ node: Node, key: String) throws -> String {
        var out = ""
        try write(node, key: key, to: &out)
        return out
    }

    static func json(_ node: Node, key: String) throws -> JSON {
        let t = try text(node, key: key)
        do { return try JSON.parse(t) } catch { throw Invalid(description: "\(key): \(error)") }
    }

    private static func write(_ node: Node, key: String, to out: inout String) throws {
        switch node {
        case .mapping(let m):
            out += "{"
            for (i, pair) in m.enumerated() {
                guard case .scalar(let k) = pair.key else { throw Invalid(description: "\(key): mapping keys must be strings") }
                if i > 0 { out += "," }
                out += JSON.string(k.string).serialized()
                out += ":"
                try write(pair.value, key: "\(key).\(k.string)", to: &out)
            }
            out += "}"
        case .sequence(let s):
            out += "["
            for (i, item) in s.enumerated() {
                if i > 0 { out += "," }
                try write(item, key: "\(key)[\(i)]", to: &out)
            }
            out += "]"
        case .scalar(let s):
            out += scalar(s, node: node)
        case .alias:
            throw Invalid(description: "\(key): YAML aliases are not supported here")
        }
    }

    private static func scalar(_ s: Node.Scalar, node: Node) -> String {
        guard s.style == .plain || s.style == .any else { return JSON.string(s.string).serialized() }
        let text = s.string
        if isJSONNumber(text) { return text }
        switch text {
        case "", "~", "null", "Null", "NULL": return "null"
        case "true", "True", "TRUE": return "true"
        case "false", "False", "FALSE": return "false"
        default: break
        }
        if let i = node.int { return String(i) }
        if let d = node.float, d.isFinite { return JSON.double(d).serialized() }
        return JSON.string(text).serialized()
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    static func isJSONNumber(_ text: String) -> Bool {
        var b = Array(text.utf8)[...]
        func digits() -> Int {
            var n = 0
            while let c = b.first, c >= 0x30, c <= 0x39 { b = b.dropFirst(); n += 1 }
            return n
        }
        if b.first == UInt8(ascii: "-") { b = b.dropFirst() }
        if b.first == UInt8(ascii: "0") { b = b.dropFirst() } else if digits() == 0 { return false }
        if b.first == UInt8(ascii: ".") {
            b = b.dropFirst()
            if digits() == 0 { return false }
        }
        if b.first == UInt8(ascii: "e") || b.first == UInt8(ascii: "E") {
            b = b.dropFirst()
            if b.first == UInt8(ascii: "+") || b.first == UInt8(ascii: "-") { b = b.dropFirst() }
            if digits() == 0 { return false }
        }
        return b.isEmpty
    }
}
