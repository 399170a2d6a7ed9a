/// A pattern with IAM's wildcards: `*` any run of characters (`:` and `/` included), `?`
/// one character. Literal `*`, `?` and `$` come from the policy variables `${*}`, `${?}`,
/// `${$}`.
struct Wildcard: Sendable, Hashable {
    enum Token: Sendable, Hashable {
        case scalar(Unicode.Scalar)
        case any
        case one
        /// `*` inside a segment of an ARN's resource part: it does not cross a `:`.
        case anyInSegment
    }

    let tokens: [Token]
    /// The pattern as bytes when it is ASCII (`*` 0xFF, `?` 0xFE stand for the wildcards):
    /// an ASCII text is then matched on its bytes, without decoding it.
    private let ascii: [UInt8]?

    init(tokens: [Token]) {
        self.tokens = tokens
        var bytes: [UInt8] = []
        for t in tokens {
            switch t {
            case .scalar(let s) where s.isASCII: bytes.append(UInt8(s.value))
            case .any: bytes.append(0xFF)
            case .one: bytes.append(0xFE)
            default:
                ascii = nil
                return
            }
        }
        ascii = bytes
    }

    /// Every `*` and `?` of `text` a wildcard.
    init(_ text: some StringProtocol) {
        self.init(tokens: text.unicodeScalars.map { $0 == "*" ? .any : $0 == "?" ? .one : .scalar($0) })
    }

    /// Matches the whole of `text`, optionally ignoring case (actions).
    func matches(_ text: some StringProtocol, ignoringCase: Bool = false) -> Bool {
        if let ascii, let result = text.utf8.withContiguousStorageIfAvailable({ t -> Bool? in
            t.allSatisfy({ $0 < 0x80 }) ? Self.matchBytes(ascii, t, ignoringCase: ignoringCase) : nil
        }), let result {
            return result
        }
        let t = Array(text.unicodeScalars)
        if tokens.contains(.anyInSegment) { return Self.matchBySegments(tokens, t) }
        return Self.match(tokens[...], t[...], ignoringCase: ignoringCase)
    }

    /// Dynamic programming over (pattern, text) positions: patterns with segment-bound `*`s
    /// are ARNs' resource parts, a few dozen characters.
    private static func matchBySegments(_ p: [Token], _ t: [Unicode.Scalar]) -> Bool {
        // reach[j]: the pattern's first i tokens match the text's first j characters.
        var reach = [Bool](repeating: false, count: t.count + 1)
        reach[0] = true
        for token in p {
            var next = [Bool](repeating: false, count: t.count + 1)
            for j in 0...t.count {
                switch token {
                case .any:
                    next[j] = reach[j] || (j > 0 && next[j - 1])
                case .anyInSegment:
                    next[j] = reach[j] || (j > 0 && next[j - 1] && t[j - 1] != ":")
                case .one:
                    next[j] = j > 0 && reach[j - 1]
                case .scalar(let s):
                    next[j] = j > 0 && reach[j - 1] && t[j - 1] == s
                }
            }
            reach = next
        }
        return reach[t.count]
    }

    /// The resource part of an ARN pattern: a `*` crosses `:` only at the end of its segment.
    func resourcePart() -> Wildcard {
        var out = tokens
        for i in out.indices where out[i] == .any {
            let next = i + 1 < out.count ? out[i + 1] : nil
            if next != nil, next != .scalar(":"), next != .any { out[i] = .anyInSegment }
        }
        return Wildcard(tokens: out)
    }

    /// `match` on ASCII bytes.
    private static func matchBytes(_ p: [UInt8], _ t: UnsafeBufferPointer<UInt8>, ignoringCase: Bool) -> Bool {
        var pi = 0, ti = 0
        var star = -1, mark = 0
        @inline(__always) func fold(_ b: UInt8) -> UInt8 { ignoringCase && b >= 65 && b <= 90 ? b + 32 : b }
        while ti < t.count {
            if pi < p.count {
                let c = p[pi]
                if c == 0xFF {
                    star = pi
                    mark = ti
                    pi += 1
                    continue
                }
                if c == 0xFE || fold(c) == fold(t[ti]) {
                    pi += 1
                    ti += 1
                    continue
                }
            }
            guard star >= 0 else { return false }
            pi = star + 1
            mark += 1
            ti = mark
        }
        while pi < p.count, p[pi] == 0xFF { pi += 1 }
        return pi == p.count
    }

    /// Greedy matching with one backtrack point per `*`: linear in practice, never
    /// exponential (the classic two-pointer algorithm).
    private static func match(_ p: ArraySlice<Token>, _ t: ArraySlice<Unicode.Scalar>, ignoringCase: Bool) -> Bool {
        var pi = p.startIndex, ti = t.startIndex
        var star: Int?, mark = t.startIndex
        while ti < t.endIndex {
            if pi < p.endIndex {
                switch p[pi] {
                case .any:
                    star = pi
                    mark = ti
                    pi += 1
                    continue
                case .one:
                    pi += 1
                    ti += 1
                    continue
                case .scalar(let s) where same(s, t[ti], ignoringCase):
                    pi += 1
                    ti += 1
                    continue
                default: break
                }
            }
            guard let s = star else { return false }
            pi = s + 1
            mark += 1
            ti = mark
        }
        while pi < p.endIndex, p[pi] == .any { pi += 1 }
        return pi == p.endIndex
    }

    private static func same(_ a: Unicode.Scalar, _ b: Unicode.Scalar, _ ignoringCase: Bool) -> Bool {
        if a == b { return true }
        guard ignoringCase else { return false }
        return a.properties.lowercaseMapping == b.properties.lowercaseMapping
    }

    /// Splits at the first `count - 1` literal colons (ARN segments).
    func split(colons count: Int) -> [Wildcard] {
        var parts: [[Token]] = [[]]
        for token in tokens {
            if token == .scalar(":"), parts.count < count {
                parts.append([])
            } else {
                parts[parts.count - 1].append(token)
            }
        }
        return parts.map { Wildcard(tokens: $0) }
    }
}

/// ARN matching as IAM does it for `Resource` and the `Arn...` operators: the partition,
/// service, region and account segments each on their own, the resource part as a whole.
enum ARNMatch {
    static func matches(_ pattern: Wildcard, _ arn: String) -> Bool {
        if pattern.tokens == [.any] { return true }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn" else { return false }
        let p = pattern.split(colons: 6)
        if p.count == 6 {
            for i in 0..<5 where !p[i].matches(parts[i]) { return false }
            return p[5].resourcePart().matches(parts[5])
        }
        // Fewer segments: the last one, if it ends with `*`, covers the rest of the ARN
        // (`arn:aws:states:*`).
        guard let last = p.last, last.tokens.last == .any else { return false }
        for i in 0..<(p.count - 1) where !p[i].matches(parts[i]) { return false }
        let rest = parts[(p.count - 1)...].joined(separator: ":")
        return last.matches(rest)
    }
}
