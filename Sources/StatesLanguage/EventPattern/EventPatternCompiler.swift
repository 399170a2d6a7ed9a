/// One field of a pattern after `$or` expansion: the leaf path and the values it accepts.
///
/// The alternatives listed for one field are ORed. `{"exists": false}` among them is kept as
/// `allowsAbsent`: the condition then also holds when the event has no leaf at `path`.
struct Condition: Hashable, Sendable {
    let path: String
    let matchers: [ValueMatcher]
    let allowsAbsent: Bool

    func matches(_ leaf: EventLeaf, folded: inout String?) -> Bool {
        for m in matchers where m.matches(leaf, folded: &folded) { return true }
        return false
    }
}

/// Validates an event pattern and expands it into sub-rules (one per `$or` alternative).
///
/// The validator follows EventBridge (whose matcher is aws/event-ruler) and quotes its
/// reasons: `Unrecognized match type x`, `Empty arrays are not allowed`, ...
enum EventPatternCompiler {
    /// Sub-rules beyond this many (from nested `$or`s) make a pattern too complex.
    static let maximumSubRules = 10_000

    typealias PartialRule = [String: Condition]

    /// - Returns: the sub-rules; each holds its conditions sorted by path (UTF-16 order), one per path.
    static func compile(_ root: ExactJSON) throws(InvalidEventPatternError) -> [[Condition]] {
        guard case .object(let members) = root else {
            throw InvalidEventPatternError(reason: "Filter is not an object")
        }
        var partials: [PartialRule] = [[:]]
        try compileObject(members, prefix: "", into: &partials)
        var seen = Set<[Condition]>()
        var result: [[Condition]] = []
        for partial in partials {
            // Java's String order (UTF-16 code units): the order event-ruler walks a rule's keys.
            let conditions = partial.values.sorted { $0.path.utf16.lexicographicallyPrecedes($1.path.utf16) }
            if seen.insert(conditions).inserted { result.append(conditions) }
        }
        return result
    }

    /// Applies an object's members in document order to every partial rule.
    ///
    /// AWS behaviour: a field is set, not added: a later occurrence of the same path (a
    /// repeated key, or the same field inside a `$or` alternative) replaces the earlier one
    /// in that alternative, as event-ruler's compiler does.
    static func compileObject(
        _ members: [(key: String, value: ExactJSON)], prefix: String, into partials: inout [PartialRule]
    ) throws(InvalidEventPatternError) {
        if members.isEmpty {
            throw InvalidEventPatternError(reason: "Empty objects are not allowed", fieldPath: prefix.isEmpty ? nil : prefix)
        }
        for (key, value) in members {
            if key == "$or" {
                try compileOr(value, prefix: prefix, into: &partials)
                continue
            }
            let path = prefix.isEmpty ? key : prefix + "." + key
            switch value {
            case .object(let nested):
                try compileObject(nested, prefix: path, into: &partials)
            case .array(let elements):
                let condition = try compileMatchList(elements, path: path)
                for i in partials.indices { partials[i][path] = condition }
            default:
                throw InvalidEventPatternError(
                    reason: "Match value must be an array or an object, not \(value.kindName)", fieldPath: path)
            }
        }
    }

    static func compileOr(_ value: ExactJSON, prefix: String, into partials: inout [PartialRule])
        throws(InvalidEventPatternError)
    {
        let at = prefix.isEmpty ? "$or" : prefix + ".$or"
        guard case .array(let alternatives) = value, alternatives.count >= 2 else {
            throw InvalidEventPatternError(reason: "There must have at least 2 Objects in $or Array.", fieldPath: at)
        }
        var expanded: [PartialRule] = []
        for alternative in alternatives {
            guard case .object(let members) = alternative else {
                throw InvalidEventPatternError(reason: "Only JSON objects are allowed in a $or array", fieldPath: at)
            }
            var copy = partials
            try compileObject(members, prefix: prefix, into: &copy)
            expanded += copy
            if expanded.count > maximumSubRules {
                throw InvalidEventPatternError(
                    reason: "Rule is too complex: its $or alternatives expand to more than \(maximumSubRules) combinations",
                    fieldPath: at)
            }
        }
        partials = expanded
    }

    /// The values listed for one field.
    static func compileMatchList(_ elements: [ExactJSON], path: String) throws(InvalidEventPatternError) -> Condition {
        if elements.isEmpty {
            throw InvalidEventPatternError(reason: "Empty arrays are not allowed", fieldPath: path)
        }
        var matchers: [ValueMatcher] = []
        var allowsAbsent = false
        func add(_ m: ValueMatcher) {
            if !matchers.contains(m) { matchers.append(m) }
        }
        for element in elements {
            switch element {
            case .string(let s): add(.exactString(ExactString(s)))
            // AWS behaviour: a number that is not exactly a double matches its own literal only.
            case .number(let n, let literal): add(n.isExactDouble ? .exactNumber(n) : .exactNumberLiteral(literal))
            case .bool(let b): add(.exactBool(b))
            case .null: add(.exactNull)
            case .array:
                throw InvalidEventPatternError(
                    reason: "Match value must be String, number, true, false, or null", fieldPath: path)
            case .object(let members):
                do {
                    switch try compileMatchExpression(members) {
                    case .some(let m): add(m)
                    case .none: allowsAbsent = true
                    }
                } catch {
                    var e = error
                    e.fieldPath = path
                    throw e
                }
            }
        }
        return Condition(path: path, matchers: matchers, allowsAbsent: allowsAbsent)
    }

    /// One `{"operator": argument}` object; `nil` for `{"exists": false}`.
    static func compileMatchExpression(_ members: [(key: String, value: ExactJSON)]) throws(InvalidEventPatternError)
        -> ValueMatcher?
    {
        guard let (op, argument) = members.first else {
            throw InvalidEventPatternError(reason: "Empty objects are not allowed")
        }
        guard members.count == 1 else {
            throw InvalidEventPatternError(reason: "Only one key allowed in match expression")
        }
        switch op {
        case "exactly":
            guard case .string(let s) = argument else { throw reason("exactly match pattern must be a string") }
            return .exactString(ExactString(s))
        case "prefix", "suffix":
            let isPrefix = op == "prefix"
            switch argument {
            case .string(let s):
                return isPrefix ? .prefix(ExactString(s)) : .suffix(ExactString(s))
            case .object(let inner):
                let folded = try equalsIgnoreCaseArgument(inner, of: op)
                return isPrefix ? .prefixIgnoreCase(folded) : .suffixIgnoreCase(folded)
            default:
                throw reason("\(op) match pattern must be a string")
            }
        case "equals-ignore-case":
            guard case .string(let s) = argument else { throw reason("equals-ignore-case match pattern must be a string") }
            return .equalsIgnoreCase(ExactString(CaseFolding.fold(s)))
        case "wildcard":
            guard case .string(let s) = argument else { throw reason("wildcard match pattern must be a string") }
            return .wildcard(try Wildcard(s))
        case "anything-but":
            return .anythingBut(try compileAnythingBut(argument))
        case "numeric":
            return .numeric(try compileNumeric(argument))
        case "exists":
            guard case .bool(let b) = argument else {
                throw reason("exists match pattern must be either true or false.")
            }
            return b ? .exists : nil
        case "cidr":
            guard case .string(let s) = argument else { throw reason("cidr match pattern must be a string") }
            return .cidr(try IPRange(cidr: s))
        default:
            throw reason("Unrecognized match type \(op)")
        }
    }

    /// `{"equals-ignore-case": "..."}` inside `prefix` or `suffix`.
    static func equalsIgnoreCaseArgument(_ inner: [(key: String, value: ExactJSON)], of op: String)
        throws(InvalidEventPatternError) -> ExactString
    {
        guard let (key, value) = inner.first else { throw reason("Empty objects are not allowed") }
        guard inner.count == 1 else { throw reason("Only one key allowed in match expression") }
        guard key == "equals-ignore-case" else { throw reason("Unsupported \(op) pattern: \(key)") }
        guard case .string(let s) = value else { throw reason("equals-ignore-case match pattern must be a string") }
        return ExactString(CaseFolding.fold(s))
    }

    static func compileAnythingBut(_ argument: ExactJSON) throws(InvalidEventPatternError) -> AnythingBut {
        switch argument {
        case .string(let s):
            return .strings([ExactString(s)])
        case .number(let n, let literal):
            return .numbers([try comparable(n, literal)])
        case .array(let list):
            if list.isEmpty { throw reason("Empty arrays are not allowed") }
            var strings = Set<ExactString>()
            var numbers = Set<DecimalNumber>()
            for item in list {
                switch item {
                case .string(let s): strings.insert(ExactString(s))
                case .number(let n, let literal): numbers.insert(try comparable(n, literal))
                default: throw reason("Inside anything but list, start|null|boolean is not supported.")
                }
            }
            if !strings.isEmpty, !numbers.isEmpty {
                throw reason(
                    "Inside anything but list, either all values are number or string, mixed type is not supported")
            }
            return strings.isEmpty ? .numbers(numbers) : .strings(strings)
        case .object(let inner):
            guard let (key, value) = inner.first else { throw reason("Empty objects are not allowed") }
            guard inner.count == 1 else { throw reason("Only one key allowed in match expression") }
            switch key {
            case "prefix", "suffix":
                let list = try nonEmptyStrings(value, message: "prefix/suffix match pattern must be a string")
                return key == "prefix" ? .prefixes(list) : .suffixes(list)
            case "equals-ignore-case":
                switch value {
                case .string(let s): return .equalsIgnoreCase([ExactString(CaseFolding.fold(s))])
                case .array(let items):
                    if items.isEmpty { throw reason("Empty arrays are not allowed") }
                    var set = Set<ExactString>()
                    for item in items {
                        guard case .string(let s) = item else {
                            throw reason("Inside anything-but/ignore-case list, number|start|null|boolean is not supported.")
                        }
                        set.insert(ExactString(CaseFolding.fold(s)))
                    }
                    return .equalsIgnoreCase(set)
                default:
                    throw reason("equals-ignore-case match pattern must be a string")
                }
            case "wildcard":
                var patterns: [String] = []
                switch value {
                case .string(let s): patterns = [s]
                case .array(let items) where !items.isEmpty:
                    for item in items {
                        guard case .string(let s) = item else { throw reason("wildcard match pattern must be a string") }
                        patterns.append(s)
                    }
                default: throw reason("wildcard match pattern must be a string")
                }
                var wildcards: [Wildcard] = []
                for p in patterns { wildcards.append(try Wildcard(p)) }
                return .wildcards(wildcards)
            default:
                throw reason("Unsupported anything-but pattern: \(key)")
            }
        default:
            throw reason("Value of anything-but must be an array or single string/number value.")
        }
    }

    /// A string or a non-empty list of strings, none of them empty (anything-but prefix/suffix).
    static func nonEmptyStrings(_ value: ExactJSON, message: String) throws(InvalidEventPatternError) -> [ExactString] {
        switch value {
        case .string(let s):
            if s.isEmpty { throw reason("Null prefix/suffix not allowed") }
            return [ExactString(s)]
        case .array(let items) where !items.isEmpty:
            var out: [ExactString] = []
            for item in items {
                guard case .string(let s) = item, !s.isEmpty else { throw reason(message) }
                out.append(ExactString(s))
            }
            return out
        default:
            throw reason(message)
        }
    }

    /// `["=", n]`, `["<", n]`, `[">=", a, "<", b]`, ...
    ///
    /// AWS behaviour: a range is a lower bound followed by an upper bound, never the other way
    /// round, and its bounds must be exactly doubles (`comparable`).
    static func compileNumeric(_ argument: ExactJSON) throws(InvalidEventPatternError) -> NumericRange {
        guard case .array(let items) = argument, !items.isEmpty else {
            throw reason("Value of numeric must be an array.")
        }
        var range = NumericRange()
        var i = 0
        func operand(_ name: String) throws(InvalidEventPatternError) -> DecimalNumber {
            guard i + 1 < items.count, case .number(let n, let literal) = items[i + 1] else {
                throw reason("Value of \(name) must be numeric")
            }
            i += 2
            return try comparable(n, literal)
        }
        guard case .string(let first) = items[0] else { throw reason("Invalid member in numeric expression") }
        switch first {
        case "=":
            let n = try operand("equals")
            range = NumericRange(lower: n, lowerInclusive: true, upper: n, upperInclusive: true)
        case "<", "<=":
            range.upper = try operand(first)
            range.upperInclusive = first == "<="
        case ">", ">=":
            range.lower = try operand(first)
            range.lowerInclusive = first == ">="
            if i < items.count {
                guard case .string(let second) = items[i] else { throw reason("Invalid member in numeric expression") }
                switch second {
                case "<", "<=":
                    range.upper = try operand(second)
                    range.upperInclusive = second == "<="
                case "=", ">", ">=":
                    throw reason("Bad value in numeric range: \(second)")
                default:
                    throw reason("Unrecognized numeric range operator: \(second)")
                }
                if let lower = range.lower, let upper = range.upper, !(lower < upper) {
                    throw reason("Bottom must be less than top")
                }
            }
        default:
            throw reason("Unrecognized numeric range operator: \(first)")
        }
        if i < items.count { throw reason("Too many elements in numeric expression") }
        return range
    }

    /// A number a `numeric` or `anything-but` condition compares with.
    ///
    /// AWS behaviour: it must be exactly a double, as its shortest decimal spelling
    /// (event-ruler's `ComparableNumber.generate`): no overflow, no underflow to zero, no more
    /// digits than a double holds.
    static func comparable(_ n: DecimalNumber, _ literal: String) throws(InvalidEventPatternError) -> DecimalNumber {
        guard n.isExactDouble else { throw reason("Cannot compare number : \(literal)") }
        return n
    }

    static func reason(_ text: String) -> InvalidEventPatternError {
        InvalidEventPatternError(reason: text)
    }
}
