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
    private let root: RNode
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

    init(pattern: String, flags: String) throws(JSONataError) {
        source = pattern
        ignoreCase = flags.contains("i")
        multiline = flags.contains("m")
        var p = RegexParser(Array(pattern.utf16))
        do {
            root = try p.parseAlternation()
            if p.i < p.s.count { throw JSONataError(code: "S0302", message: "Invalid regular expression: unmatched ')' in /\(pattern)/") }
        } catch let e as JSONataError {
            throw e
        } catch {
            throw JSONataError(code: "S0302", message: "Invalid regular expression /\(pattern)/")
        }
        groupCount = p.groups
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
            var endPos = -1
            if try m.match(root, start, { e in endPos = e; return true }) {
                return Match(start: start, end: endPos, groups: Array(m.captures.dropFirst()))
            }
            start += 1
        }
        return nil
    }

    private final class Matcher {
        let r: JSONataRegex
        let s: [UInt16]
        let evaluator: Evaluator?
        var captures: [Range<Int>?]
        var steps = 0

        init(regex: JSONataRegex, s: [UInt16], evaluator: Evaluator?) {
            r = regex
            self.s = s
            self.evaluator = evaluator
            captures = Array(repeating: nil, count: regex.groupCount + 1)
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

        static func isSingle(_ n: RNode) -> Bool {
            switch n {
            case .char, .any, .set: return true
            default: return false
            }
        }

        static func isLineTerminator(_ c: UInt16) -> Bool { c == 0x0A || c == 0x0D || c == 0x2028 || c == 0x2029 }

        /// Whether a single-unit node matches at `i`.
        func single(_ n: RNode, _ i: Int) -> Bool? {
            switch n {
            case .char(let c): return i < s.count && eq(s[i], c)
            case .any: return i < s.count && !Matcher.isLineTerminator(s[i])
            case .set(let cs): return i < s.count && cs.contains(s[i], ignoreCase: r.ignoreCase)
            default: return nil
            }
        }

        func tick() throws {
            steps += 1
            if steps & 4095 == 0, let evaluator { try evaluator.tick(64) }
            if steps > 50_000_000 { throw JSONataError(code: "U1001", message: "Regular expression evaluation exceeded its budget") }
        }

        func match(_ n: RNode, _ i: Int, _ k: (Int) throws -> Bool) throws -> Bool {
            try tick()
            switch n {
            case .char, .any, .set:
                return single(n, i)! ? try k(i + 1) : false
            case .lineStart:
                if i == 0 || (r.multiline && Matcher.isLineTerminator(s[i - 1])) { return try k(i) }
                return false
            case .lineEnd:
                if i == s.count || (r.multiline && Matcher.isLineTerminator(s[i])) { return try k(i) }
                return false
            case .wordBoundary(let yes):
                let b = isWord(i - 1) != isWord(i)
                return b == yes ? try k(i) : false
            case .group(let idx, let inner):
                guard let idx else { return try match(inner, i, k) }
                let saved = captures[idx]
                if try match(inner, i, { e in
                    let prev = self.captures[idx]
                    self.captures[idx] = i..<e
                    if try k(e) { return true }
                    self.captures[idx] = prev
                    return false
                }) { return true }
                captures[idx] = saved
                return false
            case .seq(let parts):
                return try seq(parts, 0, i, k)
            case .alt(let options):
                for o in options {
                    if try match(o, i, k) { return true }
                }
                return false
            case .loop(let inner, let min, let max, let greedy):
                if Matcher.isSingle(inner) {
                    // single-unit body: count the run iteratively instead of recursing
                    var n = 0
                    while n < max && single(inner, i + n) == true { n += 1 }
                    if n < min { return false }
                    if greedy {
                        var c = n
                        while c >= min {
                            if try k(i + c) { return true }
                            c -= 1
                        }
                    } else {
                        for c in min...n {
                            if try k(i + c) { return true }
                        }
                    }
                    return false
                }
                return try loop(inner, min, max, greedy, 0, i, k)
            case .backref(let idx):
                guard idx < captures.count, let g = captures[idx] else { return try k(i) }
                let len = g.count
                if i + len > s.count { return false }
                for j in 0..<len where !eq(s[g.lowerBound + j], s[i + j]) { return false }
                return try k(i + len)
            case .look(let ahead, let negate, let inner):
                if ahead {
                    let saved = captures
                    let ok = try match(inner, i, { _ in true })
                    if negate {
                        captures = saved
                        return ok ? false : try k(i)
                    }
                    if !ok { return false }
                    if try k(i) { return true }
                    captures = saved
                    return false
                }
                var found = false
                var j = i
                while j >= 0 && !found {
                    found = try match(inner, j, { e in e == i })
                    j -= 1
                }
                if negate { return found ? false : try k(i) }
                return found ? try k(i) : false
            }
        }

        func seq(_ parts: [RNode], _ idx: Int, _ i: Int, _ k: (Int) throws -> Bool) throws -> Bool {
            if idx == parts.count { return try k(i) }
            return try match(parts[idx], i) { j in try self.seq(parts, idx + 1, j, k) }
        }

        func loop(_ inner: RNode, _ min: Int, _ max: Int, _ greedy: Bool, _ count: Int, _ i: Int, _ k: (Int) throws -> Bool) throws -> Bool {
            if count < min {
                return try match(inner, i) { j in
                    if j == i && count + 1 >= min { return try k(j) }
                    return try self.loop(inner, min, max, greedy, count + 1, j, k)
                }
            }
            if greedy {
                if count < max, try match(inner, i, { j in if j == i { return false }; return try self.loop(inner, min, max, greedy, count + 1, j, k) }) {
                    return true
                }
                return try k(i)
            }
            if try k(i) { return true }
            if count >= max { return false }
            return try match(inner, i) { j in if j == i { return false }; return try self.loop(inner, min, max, greedy, count + 1, j, k) }
        }
    }
}

/// Parser of JavaScript regular expression syntax into `JSONataRegex.RNode`.
private struct RegexParser {
    typealias RNode = JSONataRegex.RNode
    let s: [UInt16]
    var i = 0
    var groups = 0

    init(_ s: [UInt16]) { self.s = s }

    struct Failure: Error {}

    private func peek(_ off: Int = 0) -> UInt16? { i + off < s.count ? s[i + off] : nil }

    mutating func parseAlternation() throws -> RNode {
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
