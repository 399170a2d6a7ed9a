/// A validated, compiled EventBridge event pattern.
///
/// Supports the whole pattern language: exact values (strings, numbers, `true`, `false`,
/// `null`), `prefix`, `suffix` (both also with `equals-ignore-case`), `equals-ignore-case`,
/// `wildcard`, `anything-but` (a value, a list, `prefix`, `suffix`, `wildcard`,
/// `equals-ignore-case`), `numeric` (`=`, `<`, `<=`, `>`, `>=`, ranges), `exists`, `cidr`,
/// `exactly`, `$or` at any level, nested fields and arrays.
///
/// Semantics (those of EventBridge, whose matcher is aws/event-ruler):
/// - fields are ANDed, the values listed for one field are ORed; fields the pattern does not
///   mention are ignored;
/// - an array in the event matches when any element does; when several fields of a pattern
///   live inside objects of one event array, one element must satisfy all of them (array
///   consistency);
/// - numbers compare as exact decimals (`300` equals `3.0e2`), never through a `Double`;
/// - `exists` looks at leaf values only; `anything-but` never matches a missing field.
///
/// ```swift
/// let pattern = try EventPattern(text: #"{"detail": {"state": [{"anything-but": "initializing"}]}}"#)
/// pattern.matches(try FlattenedEvent(text: #"{"detail": {"state": "running"}}"#))  // true
/// ```
public struct EventPattern: Sendable {
    /// One conjunction of conditions per `$or` alternative; the pattern matches when any holds.
    let subRules: [[Condition]]

    /// Parses and validates a pattern from its JSON text, keeping numbers exact.
    ///
    /// - Throws: `InvalidEventPatternError` with EventBridge's reason; for malformed JSON the
    ///   reason is the parser's message and location, as EventBridge reports it.
    public init(text: String) throws(InvalidEventPatternError) {
        let root: ExactJSON
        do {
            root = try ExactJSON.parse(text)
        } catch {
            throw InvalidEventPatternError(reason: error.jacksonMessage(source: text))
        }
        try self.init(exact: root)
    }

    /// Validates a pattern given as a `JSON` value.
    ///
    /// - Note: a `.double` stands for the shortest decimal that round-trips to it; to compare
    ///   numbers with more digits than a double holds, use `init(text:)`.
    public init(json: JSON) throws(InvalidEventPatternError) {
        try self.init(exact: ExactJSON(json))
    }

    init(exact: ExactJSON) throws(InvalidEventPatternError) {
        subRules = try EventPatternCompiler.compile(exact)
        filter = PathFilter(paths: subRules.flatMap { $0.map(\.path) })
    }

    /// The paths the pattern looks at: the rest of an event is skipped when it is parsed.
    let filter: PathFilter

    /// Whether the event matches.
    public func matches(_ event: FlattenedEvent) -> Bool {
        for rule in subRules {
            var candidates: [[Int32]] = []
            candidates.reserveCapacity(rule.count)
            for condition in rule {
                var fields: [Int32] = []
                for i in event.fieldsByPath[condition.path] ?? [] {
                    var folded: String?
                    if condition.matches(event.fields[Int(i)].value, folded: &folded) { fields.append(i) }
                }
                candidates.append(fields)
            }
            let holds = Self.holds(
                count: rule.count, allowsAbsent: { rule[$0].allowsAbsent }, path: { rule[$0].path },
                candidates: { candidates[$0][...] }, in: event)
            if holds {
                return true
            }
        }
        return false
    }

    /// Whether the event matches; a `.double` compares as its shortest decimal spelling.
    public func matches(_ event: JSON) -> Bool {
        matches(FlattenedEvent(json: event))
    }

    /// Parses the event text (keeping numbers exact) and tells whether it matches.
    ///
    /// - Throws: `JSONParseError` when the event is not JSON.
    public func matches(eventText: String) throws(JSONParseError) -> Bool {
        matches(try FlattenedEvent(text: eventText, relevantPaths: filter))
    }

    // MARK: Deciding one sub-rule

    /// The most steps tried for one sub-rule before giving up (no match). Only events with many
    /// array elements that each satisfy part of a pattern come near it.
    static let searchBudget = 100_000

    /// Whether a conjunction of conditions holds in `event`.
    ///
    /// The conditions are taken in path order (the order of the compiled sub-rule). Each takes
    /// one leaf that satisfies it and sits in the same elements as the leaves taken so far,
    /// wherever they share an array; a condition allowing absence may instead hold when no
    /// leaf of its path sits in those elements.
    ///
    /// AWS behaviour: absence is judged against the leaves taken for the paths *before* it in
    /// sorted order, as event-ruler's array-consistent finder walks the pattern's keys in order:
    /// `{"d": {"a": [{"exists": false}], "b": [1]}}` does not match `{"d": [{"a": 0}, {"b": 1}]}`,
    /// while `{"d": {"a": [1], "b": [{"exists": false}]}}` matches `{"d": [{"a": 1}, {"b": 0}]}`.
    ///
    /// - Parameters:
    ///   - count: the number of conditions.
    ///   - allowsAbsent: whether the i-th condition also holds when its path has no leaf.
    ///   - path: the i-th condition's path.
    ///   - candidates: for the i-th condition, the fields (indices into `event.fields`, in
    ///     order) whose value satisfies one of its value matchers.
    @inline(__always)
    static func holds(
        count: Int, allowsAbsent: (Int) -> Bool, path: (Int) -> String, candidates: (Int) -> ArraySlice<Int32>,
        in event: FlattenedEvent
    ) -> Bool {
        var needsSearch = false
        for i in 0..<count {
            let fields = candidates(i)
            if fields.isEmpty {
                if !allowsAbsent(i) { return false }
                if event.hasArrays {
                    needsSearch = true
                } else if event.fieldsByPath[path(i)] != nil {
                    return false  // without arrays, absence means no leaf at all
                }
            } else if event.hasArrays && !event.fields[Int(fields.first!)].membership.isEmpty {
                needsSearch = true
            }
        }
        // Without arrays every choice is consistent and each condition was decided above.
        if !needsSearch { return true }
        // Depth-first over the conditions in order, one level per condition, on a stack of
        // its own: a pattern can have thousands of fields.
        struct Level {
            var i: Int
            var membership: [FlattenedEvent.ArrayStep]
            var next = 0
            var previous: [FlattenedEvent.ArrayStep]?
        }
        var budget = searchBudget
        var levels: [Level] = []
        // the level to enter next; nil: resume the innermost level (its last choice failed)
        var entering: (i: Int, membership: [FlattenedEvent.ArrayStep])? = (0, [])
        while true {
            if let (i, membership) = entering {
                entering = nil
                budget -= 1
                if budget < 0 { return false }
                if i == count { return true }
                levels.append(Level(i: i, membership: membership))
            }
            guard var level = levels.popLast() else { return false }
            let fields = candidates(level.i)
            while level.next < fields.count {
                let m = event.fields[Int(fields[fields.startIndex + level.next])].membership
                level.next += 1
                // Leaves in the same elements are interchangeable (several values in one element).
                if m == level.previous { continue }
                level.previous = m
                guard FlattenedEvent.isConsistent(m, level.membership) else { continue }
                entering = (level.i + 1, FlattenedEvent.merge(level.membership, m))
                break
            }
            if entering != nil {
                levels.append(level)
                continue
            }
            if allowsAbsent(level.i) {
                let present = (event.fieldsByPath[path(level.i)] ?? []).contains {
                    FlattenedEvent.isConsistent(event.fields[Int($0)].membership, level.membership)
                }
                // absent here: the next condition decides for this level
                if !present { entering = (level.i + 1, level.membership) }
            }
            // otherwise this level fails and the one before it takes its next choice
        }
    }
}
