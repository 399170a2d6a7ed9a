/// Many event patterns compiled into one structure, answering which of them an event matches.
///
/// Each record is parsed once (only the subtrees some pattern looks at are flattened) and
/// every leaf is looked up once per path: exact values and `equals-ignore-case` in hash
/// tables, `prefix`/`suffix` in byte tries, the other operators in a short per-path list.
/// Only the `$or` alternatives all of whose required fields were hit are then checked in full
/// (array consistency, `exists: false`). Identical conditions are shared between rules.
///
/// The answer is always the same as testing each pattern in turn with `EventPattern.matches`.
public struct RuleMatcher<Rule: Sendable>: Sendable {
    let rules: [Rule]
    let index: RuleIndex

    /// Compiles the rules; the order of the rules is the order of the answers.
    public init(_ rules: [(rule: Rule, pattern: EventPattern)]) {
        self.rules = rules.map(\.rule)
        index = RuleIndex(rules.map(\.pattern))
    }

    /// The number of rules.
    public var count: Int { rules.count }

    /// Parses the event (keeping numbers exact, skipping subtrees no rule looks at) and
    /// returns the rules it matches, in rule order.
    ///
    /// - Throws: `JSONParseError` when the event is not JSON.
    public func matchingRules(forEventText text: String) throws(JSONParseError) -> [Rule] {
        matchingRules(for: try FlattenedEvent(text: text, relevantPaths: index.filter))
    }

    /// The rules a Kafka record value (UTF-8 JSON) matches, in rule order.
    public func matchingRules(forEventBytes bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> [Rule] {
        matchingRules(for: try FlattenedEvent(utf8: bytes, relevantPaths: index.filter))
    }

    /// The rules the event matches, in rule order.
    public func matchingRules(for event: JSON) -> [Rule] {
        matchingRules(for: FlattenedEvent(json: event))
    }

    /// The rules the event matches, in rule order.
    public func matchingRules(for event: FlattenedEvent) -> [Rule] {
        index.matchingRuleIndices(for: event).map { rules[$0] }
    }

    /// The indices (in rule order) of the rules the event matches.
    public func matchingRuleIndices(for event: FlattenedEvent) -> [Int] {
        index.matchingRuleIndices(for: event)
    }
}

/// The compiled form of a list of patterns (not generic, so it is specialized once).
struct RuleIndex: Sendable {
    struct SubRule: Sendable {
        let rule: Int32
        let conditions: [Int32]
        /// Conditions that need a matching field (those that do not allow absence).
        let required: Int32
    }

    let conditionAllowsAbsent: [Bool]
    let conditionPath: [String]
    let subRules: [SubRule]
    /// For each condition, the sub-rules in which it is required.
    let subRulesRequiring: [[Int32]]
    /// Sub-rules made only of conditions that allow absence: checked for every event.
    let alwaysChecked: [Int32]
    let pathIndexes: [String: PathIndex]
    let filter: PathFilter

    init(_ patterns: [EventPattern]) {
        var conditionIDs: [Condition: Int32] = [:]
        var conditions: [Condition] = []
        var subRules: [SubRule] = []
        var requiring: [[Int32]] = []
        var always: [Int32] = []
        for (r, pattern) in patterns.enumerated() {
            for conjunction in pattern.subRules {
                var ids: [Int32] = []
                var required: Int32 = 0
                let s = Int32(subRules.count)
                for c in conjunction {
                    let id: Int32
                    if let known = conditionIDs[c] {
                        id = known
                    } else {
                        id = Int32(conditions.count)
                        conditionIDs[c] = id
                        conditions.append(c)
                        requiring.append([])
                    }
                    ids.append(id)
                    if !c.allowsAbsent {
                        required += 1
                        requiring[Int(id)].append(s)
                    }
                }
                subRules.append(SubRule(rule: Int32(r), conditions: ids, required: required))
                if required == 0 { always.append(s) }
            }
        }
        var indexes: [String: PathIndex] = [:]
        for (id, c) in conditions.enumerated() {
            let index = indexes[c.path] ?? PathIndex()
            indexes[c.path] = index
            for m in c.matchers { index.add(m, condition: Int32(id)) }
        }
        conditionAllowsAbsent = conditions.map(\.allowsAbsent)
        conditionPath = conditions.map(\.path)
        self.subRules = subRules
        self.subRulesRequiring = requiring
        self.alwaysChecked = always
        self.pathIndexes = indexes
        self.filter = PathFilter(paths: conditions.map(\.path))
    }

    func matchingRuleIndices(for event: FlattenedEvent) -> [Int] {
        // 1. Each leaf against the operators of its path: which conditions it satisfies, as
        //    (condition, field) pairs.
        var pairs: [UInt64] = []
        let fields = event.fields
        for f in fields.indices {
            guard let index = pathIndexes[fields[f].path] else { continue }
            index.forEachCondition(matching: fields[f].value) { c in
                pairs.append(UInt64(UInt32(c)) << 32 | UInt64(UInt32(f)))
            }
        }
        if pairs.isEmpty && alwaysChecked.isEmpty { return [] }
        // Grouped by condition, fields in order, each pair once.
        pairs.sort()
        var fieldsOfHits: [Int32] = []
        fieldsOfHits.reserveCapacity(pairs.count)
        var hitConditions: [Int32] = []
        var ranges = [Range<Int32>](repeating: 0..<0, count: hitConditionsCapacity(pairs))
        var previous = UInt64.max
        for p in pairs where p != previous {
            previous = p
            let c = Int32(truncatingIfNeeded: p >> 32)
            if hitConditions.last != c {
                hitConditions.append(c)
                ranges[Int(c)] = Int32(fieldsOfHits.count)..<Int32(fieldsOfHits.count)
            }
            fieldsOfHits.append(Int32(truncatingIfNeeded: p & 0xFFFF_FFFF))
            ranges[Int(c)] = ranges[Int(c)].lowerBound..<Int32(fieldsOfHits.count)
        }
        // 2. Sub-rules whose required conditions were all hit, then the full check.
        var candidates = alwaysChecked
        if !hitConditions.isEmpty {
            var counts = [Int32](repeating: 0, count: subRules.count)
            for c in hitConditions {
                for s in subRulesRequiring[Int(c)] {
                    counts[Int(s)] += 1
                    if counts[Int(s)] == subRules[Int(s)].required { candidates.append(s) }
                }
            }
        }
        candidates.sort()
        var matched: [Int] = []
        var lastRule: Int32 = -1
        for s in candidates {
            let subRule = subRules[Int(s)]
            if subRule.rule == lastRule { continue }  // the rule already matched
            let ids = subRule.conditions
            let holds = EventPattern.holds(
                count: ids.count, allowsAbsent: { conditionAllowsAbsent[Int(ids[$0])] },
                path: { conditionPath[Int(ids[$0])] },
                candidates: { i in
                    let c = Int(ids[i])
                    guard c < ranges.count else { return [] }
                    let r = ranges[c]
                    return fieldsOfHits[Int(r.lowerBound)..<Int(r.upperBound)]
                }, in: event)
            if holds {
                matched.append(Int(subRule.rule))
                lastRule = subRule.rule
            }
        }
        return matched
    }

    /// Room for the ranges of every condition up to the highest one hit.
    private func hitConditionsCapacity(_ sortedPairs: [UInt64]) -> Int {
        guard let last = sortedPairs.last else { return 0 }
        return Int(last >> 32) + 1
    }
}

/// The operators of all conditions on one path.
///
/// A class so that looking it up per leaf retains one object rather than copying its tables;
/// `@unchecked Sendable` is safe because it is only mutated while `RuleIndex.init` builds it,
/// before the index is shared.
final class PathIndex: @unchecked Sendable {
    enum LeafKey: Hashable, Sendable {
        case string(ExactString)
        case number(DecimalNumber)
        case numberLiteral(String)
        case bool(Bool)
        case null
    }

    var exact: [LeafKey: [Int32]] = [:]
    var equalsIgnoreCase: [ExactString: [Int32]] = [:]
    var prefixes = ByteTrie()
    var suffixes = ByteTrie()
    var prefixesIgnoringCase = ByteTrie()
    var suffixesIgnoringCase = ByteTrie()
    var others: [(matcher: ValueMatcher, condition: Int32)] = []
    var needsFolding = false

    func add(_ m: ValueMatcher, condition c: Int32) {
        switch m {
        case .exactString(let s): exact[.string(s), default: []].append(c)
        case .exactNumber(let n): exact[.number(n), default: []].append(c)
        case .exactNumberLiteral(let s): exact[.numberLiteral(s), default: []].append(c)
        case .exactBool(let b): exact[.bool(b), default: []].append(c)
        case .exactNull: exact[.null, default: []].append(c)
        case .equalsIgnoreCase(let s):
            equalsIgnoreCase[s, default: []].append(c)
            needsFolding = true
        case .prefix(let s): prefixes.insert(Array(s.value.utf8), c)
        case .suffix(let s): suffixes.insert(Array(s.value.utf8.reversed()), c)
        case .prefixIgnoreCase(let s):
            prefixesIgnoringCase.insert(Array(s.value.utf8), c)
            needsFolding = true
        case .suffixIgnoreCase(let s):
            suffixesIgnoringCase.insert(Array(s.value.utf8.reversed()), c)
            needsFolding = true
        default:
            others.append((m, c))
        }
    }

    /// Calls `body` with every condition (possibly more than once) that `leaf` satisfies.
    func forEachCondition(matching leaf: EventLeaf, _ body: (Int32) -> Void) {
        let key: LeafKey
        switch leaf {
        case .string(let s): key = .string(ExactString(s))
        case .number(let n): key = .number(n)
        case .numberLiteral(let s): key = .numberLiteral(s)
        case .bool(let b): key = .bool(b)
        case .null: key = .null
        }
        if let list = exact[key] { list.forEach(body) }
        var folded: String?
        if case .string(let s) = leaf {
            if !prefixes.isEmpty { prefixes.walk(s.utf8, body) }
            if !suffixes.isEmpty { suffixes.walk(s.utf8.reversed(), body) }
            if needsFolding {
                let f = CaseFolding.fold(s)
                folded = f
                if let list = equalsIgnoreCase[ExactString(f)] { list.forEach(body) }
                if !prefixesIgnoringCase.isEmpty { prefixesIgnoringCase.walk(f.utf8, body) }
                if !suffixesIgnoringCase.isEmpty { suffixesIgnoringCase.walk(f.utf8.reversed(), body) }
            }
        }
        for (m, c) in others where m.matches(leaf, folded: &folded) { body(c) }
    }
}

/// A trie over bytes whose nodes carry condition ids: walking a value visits every stored
/// key that is a prefix of it.
struct ByteTrie: Sendable {
    struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var values: [Int32] = []
    }

    var nodes: [Node] = [Node()]
    var isEmpty = true

    mutating func insert(_ key: [UInt8], _ value: Int32) {
        isEmpty = false
        var n = 0
        for b in key {
            if let next = nodes[n].children[b] {
                n = Int(next)
            } else {
                nodes.append(Node())
                let next = nodes.count - 1
                nodes[n].children[b] = Int32(next)
                n = next
            }
        }
        nodes[n].values.append(value)
    }

    func walk<S: Sequence>(_ bytes: S, _ body: (Int32) -> Void) where S.Element == UInt8 {
        var n = 0
        nodes[0].values.forEach(body)
        for b in bytes {
            guard let next = nodes[n].children[b] else { return }
            n = Int(next)
            nodes[n].values.forEach(body)
        }
    }
}
