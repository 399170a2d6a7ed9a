/// A JSONPath filter, the `...` of `[?(...)]`, with Jayway's operators and comparisons.
///
/// Operands are relative paths (`@.price`), absolute paths (`$.limit`), and literals:
/// strings in single or double quotes, numbers, `true`, `false`, `null`, JSON arrays and
/// objects, and regular expressions `/.../flags`. A path alone tests that the path exists.
indirect enum FilterExpression: Sendable {
    case or(FilterExpression, FilterExpression)
    case and(FilterExpression, FilterExpression)
    case not(FilterExpression)
    case exists(JSONPath)
    case relation(FilterOperand, FilterOperator, FilterOperand)
}

enum FilterOperand: Sendable {
    case path(JSONPath)
    case literal(FilterValue)
}

/// Jayway's relational operators.
enum FilterOperator: String, Sendable, CaseIterable {
    case typeSafeEqual = "==="
    case typeSafeNotEqual = "!=="
    case equal = "=="
    case notEqual = "!="
    case lessThanOrEqual = "<="
    case greaterThanOrEqual = ">="
    case lessThan = "<"
    case greaterThan = ">"
    case regexMatch = "=~"
    case `in` = "in"
    case notIn = "nin"
    case subsetOf = "subsetof"
    case anyOf = "anyof"
    case noneOf = "noneof"
    case size = "size"
    case empty = "empty"
    case contains = "contains"
    case exists = "exists"
}

/// A value inside a filter, as Jayway's `ValueNode` sees it.
enum FilterValue: Sendable {
    /// A path that found nothing.
    case undefined
    case null
    case bool(Bool)
    /// `.int`, `.double` or `.decimal`.
    case number(JSON)
    case string(String)
    /// An array or an object.
    case json(JSON)
    case regex(FilterRegex)

    init(_ json: JSON) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int, .double, .decimal: self = .number(json)
        case .string(let s): self = .string(s)
        case .array, .object: self = .json(json)
        }
    }

    /// The number as a string, as Jayway's `NumberNode.asStringNode` prints it.
    static func numberText(_ n: JSON) -> String {
        switch n {
        case .int(let i): String(i)
        case .double(let d): JSONNumberFormat.javaString(d)
        case .decimal(let n): n.literal
        default: ""
        }
    }

    /// The string as a number, as Jayway's `StringNode.asNumberNode` parses it.
    static func parseNumber(_ s: String) -> JSON? {
        guard !s.isEmpty, let json = try? JSON.parse(s), json.isNumber, s.first != " ", s.last != " " else { return nil }
        return json
    }

    var elements: [JSON]? {
        if case .json(.array(let a)) = self { return a }
        return nil
    }

    var asJSON: JSON? {
        switch self {
        case .undefined, .regex: nil
        case .null: .null
        case .bool(let b): .bool(b)
        case .number(let n): n
        case .string(let s): .string(s)
        case .json(let j): j
        }
    }
}

// MARK: - Evaluation

extension FilterExpression {
    /// Whether `current` (the node `@` stands for) passes the filter; `root` is `$`.
    func matches(_ current: JSON, root: JSON) -> Bool {
        switch self {
        case .or(let a, let b): return a.matches(current, root: root) || b.matches(current, root: root)
        case .and(let a, let b): return a.matches(current, root: root) && b.matches(current, root: root)
        case .not(let e): return !e.matches(current, root: root)
        case .exists(let path): return Self.exists(path, current: current, root: root)
        case .relation(let l, let op, let r):
            if op == .exists {
                guard case .path(let path) = l, case .literal(.bool(let expected)) = r else { return false }
                return Self.exists(path, current: current, root: root) == expected
            }
            return Self.evaluate(op, value(of: l, current: current, root: root), value(of: r, current: current, root: root))
        }
    }

    private static func exists(_ path: JSONPath, current: JSON, root: JSON) -> Bool {
        guard let result = path.evaluate(root, current: current) else { return false }
        if !path.isDefinite, case .array(let a) = result { return !a.isEmpty }
        return true
    }

    private func value(of operand: FilterOperand, current: JSON, root: JSON) -> FilterValue {
        switch operand {
        case .literal(let v): return v
        case .path(let path):
            guard let result = path.evaluate(root, current: current) else { return .undefined }
            return FilterValue(result)
        }
    }

    static func evaluate(_ op: FilterOperator, _ left: FilterValue, _ right: FilterValue) -> Bool {
        switch op {
        case .equal: return equals(left, right)
        case .notEqual: return !equals(left, right)
        case .typeSafeEqual: return sameKind(left, right) && equals(left, right)
        case .typeSafeNotEqual: return !(sameKind(left, right) && equals(left, right))
        case .lessThan: return compare(left, right).map { $0 < 0 } ?? false
        case .lessThanOrEqual: return compare(left, right).map { $0 <= 0 } ?? false
        case .greaterThan: return compare(left, right).map { $0 > 0 } ?? false
        case .greaterThanOrEqual: return compare(left, right).map { $0 >= 0 } ?? false
        case .regexMatch: return regexMatches(left, right)
        case .in:
            guard let list = right.elements else { return false }
            return list.contains { equals(left, FilterValue($0)) }
        case .notIn:
            guard let list = right.elements else { return true }
            return !list.contains { equals(left, FilterValue($0)) }
        case .subsetOf:
            guard let l = left.elements, let r = right.elements else { return false }
            return l.allSatisfy { e in r.contains { equals(FilterValue(e), FilterValue($0)) } }
        case .anyOf:
            guard let l = left.elements, let r = right.elements else { return false }
            return l.contains { e in r.contains { equals(FilterValue(e), FilterValue($0)) } }
        case .noneOf:
            guard let l = left.elements, let r = right.elements else { return false }
            return !l.contains { e in r.contains { equals(FilterValue(e), FilterValue($0)) } }
        case .size:
            // Jayway compares with the number's `intValue()`.
            guard case .number(let n) = right, let d = n.doubleValue, let expected = Int64(exactly: d.rounded(.towardZero)) else {
                return false
            }
            switch left {
            case .string(let s): return Int64(s.utf16.count) == expected
            case .json(.array(let a)): return Int64(a.count) == expected
            case .json(.object(let o)): return Int64(o.count) == expected
            default: return false
            }
        case .empty:
            guard case .bool(let expected) = right else { return false }
            switch left {
            case .string(let s): return s.isEmpty == expected
            case .json(.array(let a)): return a.isEmpty == expected
            case .json(.object(let o)): return o.isEmpty == expected
            default: return false
            }
        case .contains:
            switch left {
            case .string(let s):
                guard case .string(let needle) = right else { return false }
                return needle.isEmpty || s.contains(needle)
            case .json(.array(let a)):
                return a.contains { equals(FilterValue($0), right) }
            default: return false
            }
        case .exists:
            return false
        }
    }

    /// Jayway's `ValueNode.equals`: numbers by value; a number and a string compare after
    /// converting the right side to the left side's kind.
    static func equals(_ left: FilterValue, _ right: FilterValue) -> Bool {
        switch (left, right) {
        case (.undefined, _), (_, .undefined): return false
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.number(let a), .string(let b)):
            guard let n = FilterValue.parseNumber(b) else { return false }
            return a == n
        case (.string(let a), .number(let b)): return a == FilterValue.numberText(b)
        case (.string(let a), .string(let b)): return a == b
        case (.json(let a), .json(let b)): return a == b
        case (.regex(let a), .regex(let b)): return a.pattern == b.pattern && a.flags == b.flags
        default: return false
        }
    }

    private static func sameKind(_ a: FilterValue, _ b: FilterValue) -> Bool {
        switch (a, b) {
        case (.null, .null), (.bool, .bool), (.number, .number), (.string, .string), (.json, .json), (.regex, .regex): true
        default: false
        }
    }

    /// Ordering between two numbers or two strings (Java's `compareTo`); nil otherwise.
    private static func compare(_ left: FilterValue, _ right: FilterValue) -> Int? {
        switch (left, right) {
        case (.number(let a), .number(let b)):
            // A number no double holds compares exactly, never through a rounded double.
            if a.isDecimal || b.isDecimal, let x = a.decimalValue, let y = b.decimalValue { return DecimalNumber.compare(x, y) }
            guard let x = a.doubleValue, let y = b.doubleValue else { return nil }
            if case .int(let i) = a, case .int(let j) = b { return i < j ? -1 : (i == j ? 0 : 1) }
            return x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let a), .string(let b)):
            return Java.compare(a, b)
        default:
            return nil
        }
    }

    private static func regexMatches(_ left: FilterValue, _ right: FilterValue) -> Bool {
        let regex: FilterRegex, input: FilterValue
        switch (left, right) {
        case (.regex, .regex): return false
        case (.regex(let r), let other): regex = r; input = other
        case (let other, .regex(let r)): regex = r; input = other
        default: return false
        }
        let text: String
        switch input {
        case .string(let s): text = s
        case .number(let n): text = FilterValue.numberText(n)
        case .bool(let b): text = b ? "true" : "false"
        default: text = ""
        }
        return regex.wholeMatches(text)
    }
}

/// A `/pattern/flags` literal, compiled on first use and kept.
///
/// Jayway matches with Java's `Matcher.matches()`: the whole string must match. Flags `i`,
/// `m`, `s` and `x` are honoured.
final class FilterRegex: @unchecked Sendable {
    // @unchecked: `compiled` is only read or written under `lock`, and matching runs under it
    // too, since the standard library's `Regex` is not `Sendable`.
    let pattern: String
    let flags: String
    private let lock = PthreadLock()
    private var compiled: Regex<AnyRegexOutput>?
    private var failed = false

    init(pattern: String, flags: String) {
        self.pattern = pattern
        self.flags = flags
    }

    func wholeMatches(_ text: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if compiled == nil && !failed {
            let inline = String(flags.filter { "imsx".contains($0) })
            compiled = try? Regex(inline.isEmpty ? pattern : "(?\(inline))" + pattern)
            failed = compiled == nil
        }
        guard let compiled else { return false }
        return (try? compiled.wholeMatch(in: text)) != nil
    }
}
