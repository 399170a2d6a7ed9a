/// A JavaScript regular expression (the syntax JSONata's `/.../` literals use), compiled
/// to a small tree and run by a backtracking matcher over UTF-16 code units, so that match
/// positions are JavaScript string indices.
///
/// An own engine rather than Swift's `Regex`: JavaScript's syntax and semantics differ from
/// it in places (`\d`, `\w`, `\s` classes, empty-iteration rules, `$` in multiline mode),
/// and the matcher must stop when the evaluation budget runs out — catastrophic
/// backtracking is a way to hang the daemon.
final class JSONataRegex: @unchecked Sendable {
    // @unchecked: immutable after init; the tree is only read.
    let source: String
    let ignoreCase: Bool
    let multiline: Bool
    let program: Program
    let groupCount: Int

    indirect enum RNode {
        case char(UInt16)
        case any
        case set(CharSet)
        case lineStart, lineEnd
        case wordBoundary(Bool)
        case group(Int?, RNode)
        case seq([RNode])
        case alt([RNode])
        case loop(RNode, min: Int, max: Int, greedy: Bool)
        case backref(Int)
        case look(ahead: Bool, negate: Bool, RNode)
    }

    struct CharSet {
        var ranges: [(UInt16, UInt16)] = []
        var negated = false

        func contains(_ c: UInt16, ignoreCase: Bool) -> Bool {
            var hit = ranges.contains { c >= $0.0 && c <= $0.1 }
            if !hit && ignoreCase {
                let l = JSONataRegex.lower(c), u = JSONataRegex.upper(c)
                hit = ranges.contains { (l >= $0.0 && l <= $0.1) || (u >= $0.0 && u <= $0.1) }
            }
            return hit != negated
        }
    }

    struct Match {
        var start: Int
        var end: Int
        var groups: [Range<Int>?]
    }

    /// Backtracking steps one search (`firstMatch`) may take before it fails with `U1001`.
    ///
    /// A pattern such as `/^(a+)+$/` backtracks exponentially on a string it does not
    /// match; this stops it after about a tenth of a second in a release build. The steps
    /// are also charged to the evaluation's step budget (`JSONataOptions.maxSteps`).
    static let maximumSteps = 1_000_000
    /// How deep groups, alternatives and look-arounds may nest in a pattern.
    static let maximumNesting = 200

    init(pattern: String, flags: String) throws(JSONataError) {
        source = pattern
        ignoreCase = flags.contains("i")
        multiline = flags.contains("m")
        var p = RegexParser(Array(pattern.utf16))
        let root: RNode
        do {
            root = try p.parseAlternation()
            if p.i < p.s.count { throw JSONataError(code: "S0302", message: "Invalid regular expression: unmatched ')' in /\(pattern)/") }
        } catch let e as JSONataError {
            throw e
        } catch is RegexParser.TooDeep {
            throw JSONataError(code: "U1001", message:
                "Stack overflow error: the regular expression nests groups deeper than \(JSONataRegex.maximumNesting) levels")
        } catch {
            throw JSONataError(code: "S0302", message: "Invalid regular expression /\(pattern)/")
        }
        groupCount = p.groups
        program = Program(root)
    }

    // MARK: - Case folding

    static func lower(_ c: UInt16) -> UInt16 {
        if c >= 0x41 && c <= 0x5A { return c + 32 }
        if c < 0x80 { return c }
        guard let s = Unicode.Scalar(UInt32(c)) else { return c }
        let m = s.properties.lowercaseMapping.utf16
        return m.count == 1 ? m.first! : c
    }

    static func upper(_ c: UInt16) -> UInt16 {
        if c >= 0x61 && c <= 0x7A { return c - 32 }
        if c < 0x80 { return c }
        guard let s = Unicode.Scalar(UInt32(c)) else { return c }
        let m = s.properties.uppercaseMapping.utf16
        return m.count == 1 ? m.first! : c
    }

    // MARK: - Matching

    /// The leftmost match at or after `from`.
    func firstMatch(in s: [UInt16], from: Int, evaluator: Evaluator?) throws -> Match? {
        guard from <= s.count else { return nil }
        let m = Matcher(regex: self, s: s, evaluator: evaluator)
        var start = max(0, from)
        while start <= s.count {
            m.reset()
            if let end = try m.run(0, start, until: nil) {
                return Match(start: start, end: end, groups: Array(m.captures.dropFirst()))
            }
            start += 1
        }
        return nil
    }

    /// One instruction of the compiled pattern (see `Program`).
    enum Instruction {
        case char(UInt16)
        case any
        case set(Int)
        case lineStart, lineEnd
        case wordBoundary(Bool)
        /// Go on at the first address; when that fails, at the second.
        case split(Int, Int)
        case jump(Int)
        /// Register := position (a group's start).
        case groupStart(register: Int)
        /// Capture `group` from the register's position to here.
        case groupEnd(group: Int, register: Int)
        case loopInit(Int)
        case loopTest(Int)
        /// Register := position (the start of an iteration), then the loop's body.
        case loopEnter(register: Int)
        case loopEnd(Int)
        /// A quantified single-unit node (`a*`, `\d{2,4}`, `[^,]+?`): index into `runs`.
        case run(Int)
        case backref(Int)
        /// A look-around: its sub-program starts at `start`; on success go on at `resume`.
        /// A look-behind's sub-pattern matches `width` units (a range; nil: unbounded), so
        /// only the starts that far back are tried.
        case look(ahead: Bool, negate: Bool, start: Int, resume: Int, width: (min: Int, max: Int?))
        /// The end of the pattern or of a look-around's sub-program.
        case succeed
    }

    /// A single-unit node: a code unit, `.` or a class.
    enum Unit {
        case char(UInt16)
        case any
        case set(CharSet)
    }

    /// A loop over a body of more than one unit: its registers and bounds.
    struct Loop {
        var counter: Int
        var start: Int
        var min: Int
        var max: Int
        var greedy: Bool
        var top: Int
        var enter: Int
        var exit: Int
    }

    struct Run {
        var unit: Unit
        var min: Int
        var max: Int
        var greedy: Bool
    }

    /// The pattern compiled for a backtracking machine with an explicit stack, so that
    /// neither the pattern's shape nor the length of the string deepens the native stack
    /// (only nested look-arounds recurse, as deep as the pattern nests them).
    struct Program {
        var instructions: [Instruction] = []
        var sets: [CharSet] = []
        var loops: [Loop] = []
        var runs: [Run] = []
        var registers = 0

        init(_ root: RNode) {
            emit(root)
            instructions.append(.succeed)
        }

        private mutating func register() -> Int {
            registers += 1
            return registers - 1
        }

        private static func unit(_ n: RNode) -> Unit? {
            switch n {
            case .char(let c): return .char(c)
            case .any: return .any
            case .set(let cs): return .set(cs)
            default: return nil
            }
        }

        private mutating func emit(_ n: RNode) {
            switch n {
            case .char(let c): instructions.append(.char(c))
            case .any: instructions.append(.any)
            case .set(let cs):
                sets.append(cs)
                instructions.append(.set(sets.count - 1))
            case .lineStart: instructions.append(.lineStart)
            case .lineEnd: instructions.append(.lineEnd)
            case .wordBoundary(let yes): instructions.append(.wordBoundary(yes))
            case .group(nil, let inner): emit(inner)
            case .group(let index?, let inner):
                let r = register()
                instructions.append(.groupStart(register: r))
                emit(inner)
                instructions.append(.groupEnd(group: index, register: r))
            case .seq(let parts):
                for p in parts { emit(p) }
            case .alt(let options):
                var exits: [Int] = []
                for (k, option) in options.enumerated() {
                    if k == options.count - 1 {
                        emit(option)
                    } else {
                        let split = instructions.count
                        instructions.append(.succeed)
                        emit(option)
                        exits.append(instructions.count)
                        instructions.append(.succeed)
                        instructions[split] = .split(split + 1, instructions.count)
                    }
                }
                for e in exits { instructions[e] = .jump(instructions.count) }
            case .loop(let inner, let min, let max, let greedy):
                if let unit = Program.unit(inner) {
                    runs.append(Run(unit: unit, min: min, max: max, greedy: greedy))
                    instructions.append(.run(runs.count - 1))
                    return
                }
                let counter = register(), start = register()
                instructions.append(.loopInit(counter))
                let top = instructions.count
                instructions.append(.succeed)
                let enter = instructions.count
                instructions.append(.loopEnter(register: start))
                emit(inner)
                let end = instructions.count
                instructions.append(.succeed)
                let loop = loops.count
                loops.append(Loop(counter: counter, start: start, min: min, max: max, greedy: greedy,
                                  top: top, enter: enter, exit: instructions.count))
                instructions[top] = .loopTest(loop)
                instructions[end] = .loopEnd(loop)
            case .backref(let index): instructions.append(.backref(index))
            case .look(let ahead, let negate, let inner):
                let at = instructions.count
                instructions.append(.succeed)
                emit(inner)
                instructions.append(.succeed)
                instructions[at] = .look(ahead: ahead, negate: negate, start: at + 1, resume: instructions.count,
                                         width: Program.width(inner))
            }
        }

        /// How many units `n` can match: at least `min`, at most `max` (nil: no bound).
        static func width(_ n: RNode) -> (min: Int, max: Int?) {
            func add(_ a: Int?, _ b: Int?) -> Int? {
                guard let a, let b else { return nil }
                let (r, overflow) = a.addingReportingOverflow(b)
                return overflow ? nil : r
            }
            func times(_ a: Int?, _ b: Int) -> Int? {
                guard let a, b != Int.max else { return a == 0 ? 0 : nil }
                let (r, overflow) = a.multipliedReportingOverflow(by: b)
                return overflow ? nil : r
            }
            switch n {
            case .char, .any, .set: return (1, 1)
            case .lineStart, .lineEnd, .wordBoundary, .look: return (0, 0)
            case .backref: return (0, nil)
            case .group(_, let inner): return width(inner)
            case .seq(let parts):
                var w: (min: Int, max: Int?) = (0, 0)
                for p in parts {
                    let pw = width(p)
                    w = (add(w.min, pw.min) ?? Int.max, add(w.max, pw.max))
                }
                return w
            case .alt(let options):
                var w: (min: Int, max: Int?) = (Int.max, 0)
                for o in options {
                    let ow = width(o)
                    w.min = Swift.min(w.min, ow.min)
                    if let m = w.max, let om = ow.max { w.max = Swift.max(m, om) } else { w.max = nil }
                }
                return options.isEmpty ? (0, 0) : w
            case .loop(let inner, let min, let max, _):
                let iw = width(inner)
                return (times(iw.min, min) ?? Int.max, times(iw.max, max))
            }
        }
    }

    /// What the matcher undoes or retries when it backtracks.
    private enum Backtrack {
        /// Go on at `pc` from position `at`.
        case retry(pc: Int, at: Int)
        /// A run of single units: go on at `pc` after `count` units from `base`; then, if
        /// `count` is not `last`, with one unit nearer to `last`.
        case run(pc: Int, base: Int, count: Int, last: Int)
        case register(Int, Int)
        case capture(Int, Range<Int>?)
        case captures([Range<Int>?])
    }

    private final class Matcher {
        let r: JSONataRegex
        let program: Program
        let s: [UInt16]
        let evaluator: Evaluator?
        var captures: [Range<Int>?]
        var registers: [Int]
        private var stack: [Backtrack] = []
        var steps = 0
        /// The steps already charged to the evaluation.
        private var charged = 0

        init(regex: JSONataRegex, s: [UInt16], evaluator: Evaluator?) {
            r = regex
            program = regex.program
            self.s = s
            self.evaluator = evaluator
            captures = Array(repeating: nil, count: regex.groupCount + 1)
            registers = Array(repeating: 0, count: regex.program.registers)
        }

        func reset() { for i in captures.indices { captures[i] = nil } }

        @inline(__always) func eq(_ a: UInt16, _ b: UInt16) -> Bool {
            a == b || (r.ignoreCase && JSONataRegex.lower(a) == JSONataRegex.lower(b))
        }

        func isWord(_ i: Int) -> Bool {
            guard i >= 0 && i < s.count else { return false }
            let c = s[i]
            return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
        }

        static func isLineTerminator(_ c: UInt16) -> Bool { c == 0x0A || c == 0x0D || c == 0x2028 || c == 0x2029 }

        @inline(__always) func matches(_ u: Unit, _ i: Int) -> Bool {
            guard i < s.count else { return false }
            switch u {
            case .char(let c): return eq(s[i], c)
            case .any: return !Matcher.isLineTerminator(s[i])
            case .set(let cs): return cs.contains(s[i], ignoreCase: r.ignoreCase)
            }
        }

        @inline(__always) private func setRegister(_ k: Int, _ value: Int) {
            stack.append(.register(k, registers[k]))
            registers[k] = value
        }

        /// Counts `n` steps against this search's budget and the evaluation's.
        @inline(__always) private func tick(_ n: Int = 1) throws {
            let before = steps
            steps += n
            if before >> 10 != steps >> 10 { try charge() }
        }

        private func charge() throws {
            try evaluator?.tick(steps - charged)
            charged = steps
            if steps > JSONataRegex.maximumSteps {
                throw JSONataError(code: "U1001", message:
                    "Regular expression evaluation exceeded its budget of \(JSONataRegex.maximumSteps) steps: check for catastrophic backtracking")
            }
        }

        /// Runs the program from `pc` at position `start` until `succeed` is reached at an
        /// end the caller accepts (`until`: nil for any), backtracking on the explicit stack.
        ///
        /// - Returns: the end position, or nil when every way failed (the stack is then back
        ///   at its height on entry, and the captures and registers as they were).
        func run(_ startPC: Int, _ start: Int, until wanted: Int?) throws -> Int? {
            let base = stack.count
            var pc = startPC
            var i = start
            while true {
                try tick()
                var failed = false
                switch program.instructions[pc] {
                case .char(let c):
                    if i < s.count && eq(s[i], c) { i += 1; pc += 1 } else { failed = true }
                case .any:
                    if i < s.count && !Matcher.isLineTerminator(s[i]) { i += 1; pc += 1 } else { failed = true }
                case .set(let k):
                    if i < s.count && program.sets[k].contains(s[i], ignoreCase: r.ignoreCase) { i += 1; pc += 1 } else { failed = true }
                case .lineStart:
                    if i == 0 || (r.multiline && Matcher.isLineTerminator(s[i - 1])) { pc += 1 } else { failed = true }
                case .lineEnd:
                    if i == s.count || (r.multiline && Matcher.isLineTerminator(s[i])) { pc += 1 } else { failed = true }
                case .wordBoundary(let yes):
                    if (isWord(i - 1) != isWord(i)) == yes { pc += 1 } else { failed = true }
                case .split(let first, let second):
                    stack.append(.retry(pc: second, at: i))
                    pc = first
                case .jump(let target):
                    pc = target
                case .groupStart(let k):
                    setRegister(k, i)
                    pc += 1
                case .groupEnd(let group, let k):
                    stack.append(.capture(group, captures[group]))
                    captures[group] = registers[k]..<i
                    pc += 1
                case .loopInit(let k):
                    setRegister(k, 0)
                    pc += 1
                case .loopTest(let k):
                    let loop = program.loops[k]
                    let count = registers[loop.counter]
                    if count < loop.min {
                        pc = loop.enter
                    } else if loop.greedy {
                        if count < loop.max {
                            stack.append(.retry(pc: loop.exit, at: i))
                            pc = loop.enter
                        } else {
                            pc = loop.exit
                        }
                    } else {
                        if count < loop.max { stack.append(.retry(pc: loop.enter, at: i)) }
                        pc = loop.exit
                    }
                case .loopEnter(let k):
                    setRegister(k, i)
                    pc += 1
                case .loopEnd(let k):
                    // JavaScript's rule: an iteration that matched nothing ends the loop
                    // (once the minimum is reached) or fails (after it)
                    let loop = program.loops[k]
                    let count = registers[loop.counter]
                    let empty = i == registers[loop.start]
                    if count < loop.min {
                        if empty && count + 1 >= loop.min {
                            pc = loop.exit
                        } else {
                            setRegister(loop.counter, count + 1)
                            pc = loop.top
                        }
                    } else if empty {
                        failed = true
                    } else {
                        setRegister(loop.counter, count + 1)
                        pc = loop.top
                    }
                case .run(let k):
                    let run = program.runs[k]
                    var n = 0
                    while n < run.max && matches(run.unit, i + n) { n += 1 }
                    try tick(n)
                    if n < run.min {
                        failed = true
                    } else if run.greedy {
                        if n > run.min { stack.append(.run(pc: pc + 1, base: i, count: n - 1, last: run.min)) }
                        i += n
                        pc += 1
                    } else {
                        if n > run.min { stack.append(.run(pc: pc + 1, base: i, count: run.min + 1, last: n)) }
                        i += run.min
                        pc += 1
                    }
                case .backref(let group):
                    if group < captures.count, let g = captures[group] {
                        let length = g.count
                        if i + length > s.count {
                            failed = true
                        } else {
                            var j = 0
                            while j < length && eq(s[g.lowerBound + j], s[i + j]) { j += 1 }
                            if j == length { i += length; pc += 1 } else { failed = true }
                        }
                    } else {
                        pc += 1
                    }
                case .look(let ahead, let negate, let subStart, let resume, let width):
                    let saved = captures
                    var found = false
                    if ahead {
                        found = try run(subStart, i, until: nil) != nil
                    } else {
                        var j = i - width.min
                        let farthest = width.max.map { Swift.max(0, i - $0) } ?? 0
                        while j >= farthest && !found {
                            found = try run(subStart, j, until: i) != nil
                            j -= 1
                        }
                    }
                    if negate {
                        captures = saved
                        if found { failed = true } else { pc = resume }
                    } else if found {
                        // keep the look-around's captures, and restore them when backtracking
                        stack.append(.captures(saved))
                        pc = resume
                    } else {
                        failed = true
                    }
                case .succeed:
                    if wanted == nil || wanted == i {
                        // the entries a sub-program left are dropped; its captures stay
                        stack.removeSubrange(base...)
                        return i
                    }
                    failed = true
                }
                if failed {
                    // backtrack: undo to the latest choice and take its other way
                    backtracking: while true {
                        guard stack.count > base else { return nil }
                        switch stack.removeLast() {
                        case .register(let k, let value): registers[k] = value
                        case .capture(let group, let value): captures[group] = value
                        case .captures(let all): captures = all
                        case .retry(let p, let at):
                            pc = p
                            i = at
                            break backtracking
                        case .run(let p, let b, let count, let last):
                            if count != last {
                                stack.append(.run(pc: p, base: b, count: count > last ? count - 1 : count + 1, last: last))
                            }
                            pc = p
                            i = b + count
                            break backtracking
                        }
                    }
                }
            }
        }
    }
}

/// Parser of JavaScript regular expression syntax into `JSONataRegex.RNode`.
private struct RegexParser {
    typealias RNode = JSONataRegex.RNode
    let s: [UInt16]
    var i = 0
    var groups = 0
    var nesting = 0

    init(_ s: [UInt16]) { self.s = s }

    struct Failure: Error {}
    struct TooDeep: Error {}

    private func peek(_ off: Int = 0) -> UInt16? { i + off < s.count ? s[i + off] : nil }

    mutating func parseAlternation() throws -> RNode {
        nesting += 1
        defer { nesting -= 1 }
        if nesting > JSONataRegex.maximumNesting { throw TooDeep() }
        var options: [RNode] = [try parseSequence()]
        while peek() == 0x7C {  // |
            i += 1
            options.append(try parseSequence())
        }
        return options.count == 1 ? options[0] : .alt(options)
    }

    mutating func parseSequence() throws -> RNode {
        var parts: [RNode] = []
        while let c = peek(), c != 0x7C, c != 0x29 {  // | )
            var atom = try parseAtom()
            atom = try parseQuantifier(atom)
            parts.append(atom)
        }
        return parts.count == 1 ? parts[0] : .seq(parts)
    }

    mutating func parseQuantifier(_ atom: RNode) throws -> RNode {
        guard let c = peek() else { return atom }
        var min = 0, max = Int.max
        switch c {
        case 0x2A: i += 1  // *
        case 0x2B: min = 1; i += 1  // +
        case 0x3F: max = 1; i += 1  // ?
        case 0x7B:  // {
            guard let (lo, hi, len) = braces() else { return atom }
            min = lo
            max = hi
            i += len
        default: return atom
        }
        var greedy = true
        if peek() == 0x3F {
            greedy = false
            i += 1
        }
        return .loop(atom, min: min, max: max, greedy: greedy)
    }

    /// `{n}`, `{n,}`, `{n,m}` at `i`: (min, max, length), or nil when not a quantifier.
    func braces() -> (Int, Int, Int)? {
        var j = i + 1
        func number() -> Int? {
            var v = 0
            let start = j
            while j < s.count, s[j] >= 0x30, s[j] <= 0x39 {
                v = min(v * 10 + Int(s[j] - 0x30), 1_000_000)
                j += 1
            }
            return j > start ? v : nil
        }
        guard let lo = number() else { return nil }
        var hi = lo
        if j < s.count, s[j] == 0x2C {
            j += 1
            hi = number() ?? Int.max
        }
        guard j < s.count, s[j] == 0x7D else { return nil }
        return (lo, hi, j - i + 1)
    }

    mutating func parseAtom() throws -> RNode {
        let c = s[i]
        i += 1
        switch c {
        case 0x5E: return .lineStart  // ^
        case 0x24: return .lineEnd  // $
        case 0x2E: return .any  // .
        case 0x28:  // (
            var index: Int? = nil
            var look: (Bool, Bool)? = nil
            if peek() == 0x3F {  // ?
                let n = peek(1)
                if n == 0x3A {
                    i += 2
                } else if n == 0x3D || n == 0x21 {
                    look = (true, n == 0x21)
                    i += 2
                } else if n == 0x3C, peek(2) == 0x3D || peek(2) == 0x21 {
                    look = (false, peek(2) == 0x21)
                    i += 3
                } else if n == 0x3C {
                    // named group (?<name>...)
                    i += 2
                    while let x = peek(), x != 0x3E { i += 1 }
                    i += 1
                    groups += 1
                    index = groups
                } else {
                    throw Failure()
                }
            } else {
                groups += 1
                index = groups
            }
            let inner = try parseAlternation()
            guard peek() == 0x29 else { throw Failure() }
            i += 1
            if let (ahead, negate) = look { return .look(ahead: ahead, negate: negate, inner) }
            return .group(index, inner)
        case 0x5B: return .set(try parseClass())  // [
        case 0x5C: return try parseEscape(inClass: false)
        case 0x2A, 0x2B, 0x3F: throw Failure()  // nothing to repeat
        case 0x7B:
            if braces() != nil { throw Failure() }
            return .char(c)
        default: return .char(c)
        }
    }

    static let digit: [(UInt16, UInt16)] = [(0x30, 0x39)]
    static let word: [(UInt16, UInt16)] = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
    static let space: [(UInt16, UInt16)] = [
        (0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
        (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000), (0xFEFF, 0xFEFF),
    ]

    static func complement(_ r: [(UInt16, UInt16)]) -> [(UInt16, UInt16)] {
        var out: [(UInt16, UInt16)] = []
        var next: UInt32 = 0
        for (a, b) in r.sorted(by: { $0.0 < $1.0 }) {
            if UInt32(a) > next { out.append((UInt16(next), a - 1)) }
            next = max(next, UInt32(b) + 1)
        }
        if next <= 0xFFFF { out.append((UInt16(next), 0xFFFF)) }
        return out
    }

    /// An escape after `\`: a class escape gives a set, others a single unit.
    mutating func parseEscape(inClass: Bool) throws -> RNode {
        guard let c = peek() else { throw Failure() }
        i += 1
        switch c {
        case 0x64: return .set(JSONataRegex.CharSet(ranges: RegexParser.digit))  // d
        case 0x44: return .set(JSONataRegex.CharSet(ranges: RegexParser.complement(RegexParser.digit)))
        case 0x77: return .set(JSONataRegex.CharSet(ranges: RegexParser.word))  // w
        case 0x57: return .set(JSONataRegex.CharSet(ranges: RegexParser.complement(RegexParser.word)))
        case 0x73: return .set(JSONataRegex.CharSet(ranges: RegexParser.space))  // s
        case 0x53: return .set(JSONataRegex.CharSet(ranges: RegexParser.complement(RegexParser.space)))
        case 0x62: return inClass ? .char(0x08) : .wordBoundary(true)  // b
        case 0x42: return .wordBoundary(false)
        case 0x6E: return .char(0x0A)
        case 0x72: return .char(0x0D)
        case 0x74: return .char(0x09)
        case 0x66: return .char(0x0C)
        case 0x76: return .char(0x0B)
        case 0x30: return .char(0)
        case 0x78:  // xHH
            if let v = hex(2) { return .char(v) }
            return .char(c)
        case 0x75:  // uHHHH
            if let v = hex(4) { return .char(v) }
            return .char(c)
        case 0x63:  // cX
            if let x = peek(), (x >= 0x41 && x <= 0x5A) || (x >= 0x61 && x <= 0x7A) {
                i += 1
                return .char(x % 32)
            }
            return .char(0x5C)
        case 0x31...0x39:
            if inClass { return .char(c) }
            var n = Int(c - 0x30)
            while let d = peek(), d >= 0x30, d <= 0x39 {
                n = n * 10 + Int(d - 0x30)
                i += 1
            }
            return .backref(n)
        default:
            return .char(c)
        }
    }

    mutating func hex(_ n: Int) -> UInt16? {
        guard i + n <= s.count else { return nil }
        var v: UInt16 = 0
        for k in 0..<n {
            let c = s[i + k]
            let d: UInt16
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x37
            case 0x61...0x66: d = c - 0x57
            default: return nil
            }
            v = v * 16 + d
        }
        i += n
        return v
    }

    mutating func parseClass() throws -> JSONataRegex.CharSet {
        var set = JSONataRegex.CharSet()
        if peek() == 0x5E {
            set.negated = true
            i += 1
        }
        var first = true
        while let c = peek() {
            if c == 0x5D && !first { break }
            if c == 0x5D && first {
                // `[]` matches nothing, `[^]` anything
                break
            }
            first = false
            i += 1
            var lo: UInt16
            if c == 0x5C {
                let e = try parseEscape(inClass: true)
                switch e {
                case .char(let x): lo = x
                case .set(let cs):
                    set.ranges.append(contentsOf: cs.ranges)
                    continue
                default: continue
                }
            } else {
                lo = c
            }
            if peek() == 0x2D, let after = peek(1), after != 0x5D {
                i += 1
                var hi: UInt16
                if after == 0x5C {
                    i += 1
                    let e = try parseEscape(inClass: true)
                    guard case .char(let x) = e else {
                        set.ranges.append((lo, lo))
                        set.ranges.append((0x2D, 0x2D))
                        if case .set(let cs) = e { set.ranges.append(contentsOf: cs.ranges) }
                        continue
                    }
                    hi = x
                } else {
                    hi = after
                    i += 1
                }
                if hi < lo { throw Failure() }
                set.ranges.append((lo, hi))
            } else {
                set.ranges.append((lo, lo))
            }
        }
        guard peek() == 0x5D else { throw Failure() }
        i += 1
        return set
    }
}
