/// One leaf value of an event: what a pattern's operators look at.
enum EventLeaf: Sendable, Hashable {
    case string(String)
    /// A number that is exactly a double (`DecimalNumber.isExactDouble`).
    case number(DecimalNumber)
    /// Any other number, as written (`1e999999`, `18446744073709551617`).
    ///
    /// AWS behaviour: EventBridge compares only numbers that are exactly doubles; any other
    /// is matched by its text (event-ruler's `ComparableNumber` and `ByteMachine`), so it
    /// equals only the same literal and no `numeric` condition holds for it.
    case numberLiteral(String)
    case bool(Bool)
    case null

    /// The leaf of a number literal.
    init(number: DecimalNumber, literal: @autoclosure () -> String) {
        self = number.isExactDouble ? .number(number) : .numberLiteral(literal())
    }
}

/// A string compared and hashed by its UTF-8 bytes.
///
/// AWS behaviour: EventBridge matches strings byte for byte; Swift's `String` equality would
/// also equate canonically equivalent spellings (`é` and `e` + combining acute).
struct ExactString: Hashable, Sendable, CustomStringConvertible {
    let value: String
    init(_ value: String) { self.value = value }

    static func == (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.value.utf8.elementsEqual(rhs.value.utf8)
    }

    func hash(into hasher: inout Hasher) {
        var copy = value
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }

    var description: String { value }
}

/// Case folding for `equals-ignore-case` and its `prefix`/`suffix` forms.
///
/// Each Unicode scalar is replaced by its full lowercase mapping, then bytes are compared:
/// `ALICE` ~ `alice`, `Straße` ~ `STRAßE`.
enum CaseFolding {
    static func fold(_ s: String) -> String {
        var isASCII = true
        for b in s.utf8 where b >= 0x80 {
            isASCII = false
            break
        }
        if isASCII {
            var bytes = Array(s.utf8)
            for i in bytes.indices where bytes[i] >= UInt8(ascii: "A") && bytes[i] <= UInt8(ascii: "Z") {
                bytes[i] += 32
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for scalar in s.unicodeScalars { out += scalar.properties.lowercaseMapping }
        return out
    }
}

/// A `wildcard` pattern: literal parts separated by `*`, each `*` standing for any bytes.
///
/// `\*` is a literal star and `\\` a literal backslash.
struct Wildcard: Hashable, Sendable {
    /// The literal parts; a pattern with n stars has n + 1 parts (possibly empty).
    let parts: [[UInt8]]

    /// Parses and validates a wildcard pattern.
    ///
    /// - Throws: the reason as EventBridge words it, when two stars follow each other or a
    ///   backslash escapes anything but `*` or `\`.
    init(_ pattern: String) throws(InvalidEventPatternError) {
        var parts: [[UInt8]] = [[]]
        let bytes = Array(pattern.utf8)
        var i = 0
        var previousWasStar = false
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "*") {
                if previousWasStar {
                    throw InvalidEventPatternError(reason: "Consecutive wildcard characters at pos \(i)")
                }
                parts.append([])
                previousWasStar = true
                i += 1
                continue
            }
            previousWasStar = false
            if c == UInt8(ascii: "\\") {
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") || bytes[i + 1] == UInt8(ascii: "\\") else {
                    throw InvalidEventPatternError(reason: "Invalid escape character at pos \(i)")
                }
                parts[parts.count - 1].append(bytes[i + 1])
                i += 2
                continue
            }
            parts[parts.count - 1].append(c)
            i += 1
        }
        self.parts = parts
    }

    func matches(_ s: String) -> Bool {
        var copy = s
        return copy.withUTF8 { matches(bytes: $0) }
    }

    func matches(bytes v: UnsafeBufferPointer<UInt8>) -> Bool {
        if parts.count == 1 { return v.elementsEqual(parts[0]) }
        let first = parts[0]
        let last = parts[parts.count - 1]
        guard v.count >= first.count + last.count,
            v.prefix(first.count).elementsEqual(first),
            v.suffix(last.count).elementsEqual(last)
        else { return false }
        // Middle parts: leftmost occurrence of each, in order, between the prefix and the suffix.
        var from = first.count
        let end = v.count - last.count
        for part in parts[1..<(parts.count - 1)] where !part.isEmpty {
            guard let at = Self.find(part, in: v, from: from, end: end) else { return false }
            from = at + part.count
        }
        return true
    }

    static func find(_ needle: [UInt8], in hay: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> Int? {
        guard end - from >= needle.count else { return nil }
        var i = from
        let n0 = needle[0]
        while i + needle.count <= end {
            if hay[i] == n0 {
                var j = 1
                while j < needle.count, hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}

/// A `numeric` condition: an interval (either bound may be open or absent), or one point for `=`.
struct NumericRange: Hashable, Sendable {
    var lower: DecimalNumber?
    var lowerInclusive = false
    var upper: DecimalNumber?
    var upperInclusive = false

    func contains(_ n: DecimalNumber) -> Bool {
        if let lower {
            let c = DecimalNumber.compare(n, lower)
            if c < 0 || (c == 0 && !lowerInclusive) { return false }
        }
        if let upper {
            let c = DecimalNumber.compare(n, upper)
            if c > 0 || (c == 0 && !upperInclusive) { return false }
        }
        return true
    }
}

/// The values an `anything-but` excludes.
enum AnythingBut: Hashable, Sendable {
    case strings(Set<ExactString>)
    case numbers(Set<DecimalNumber>)
    case prefixes([ExactString])
    case suffixes([ExactString])
    /// Folded strings.
    case equalsIgnoreCase(Set<ExactString>)
    case wildcards([Wildcard])
}

/// One operator of a pattern, applied to one leaf value of an event.
///
/// String operators (`prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `cidr`) only ever
/// match strings and `numeric` only numbers. `anything-but` matches every leaf it does not
/// exclude, so `{"anything-but": [111]}` matches `"111"` and `{"anything-but": "x"}` matches `5`.
enum ValueMatcher: Hashable, Sendable {
    case exactString(ExactString)
    case exactNumber(DecimalNumber)
    /// A pattern number that is not exactly a double: it matches the same literal only.
    case exactNumberLiteral(String)
    case exactBool(Bool)
    case exactNull
    case prefix(ExactString)
    case suffix(ExactString)
    /// Folded.
    case equalsIgnoreCase(ExactString)
    /// Folded.
    case prefixIgnoreCase(ExactString)
    /// Folded.
    case suffixIgnoreCase(ExactString)
    case wildcard(Wildcard)
    case numeric(NumericRange)
    case cidr(IPRange)
    /// `{"exists": true}`: any leaf.
    case exists
    case anythingBut(AnythingBut)

    var isCaseInsensitive: Bool {
        switch self {
        case .equalsIgnoreCase, .prefixIgnoreCase, .suffixIgnoreCase: true
        case .anythingBut(.equalsIgnoreCase): true
        default: false
        }
    }

    /// Whether the operator accepts `leaf`.
    ///
    /// - Parameter folded: the folded form of a string leaf, computed on first use and kept
    ///   for the other operators tested on the same leaf.
    func matches(_ leaf: EventLeaf, folded: inout String?) -> Bool {
        switch self {
        case .exactString(let s):
            if case .string(let v) = leaf { return v.utf8.elementsEqual(s.value.utf8) }
            return false
        case .exactNumber(let n):
            if case .number(let v) = leaf { return v == n }
            return false
        case .exactNumberLiteral(let s):
            if case .numberLiteral(let v) = leaf { return v == s }
            return false
        case .exactBool(let b):
            if case .bool(let v) = leaf { return v == b }
            return false
        case .exactNull:
            if case .null = leaf { return true }
            return false
        case .prefix(let p):
            if case .string(let v) = leaf { return v.utf8.starts(with: p.value.utf8) }
            return false
        case .suffix(let p):
            if case .string(let v) = leaf { return v.utf8.reversed().starts(with: p.value.utf8.reversed()) }
            return false
        case .equalsIgnoreCase(let p):
            guard let f = Self.fold(leaf, &folded) else { return false }
            return f.utf8.elementsEqual(p.value.utf8)
        case .prefixIgnoreCase(let p):
            guard let f = Self.fold(leaf, &folded) else { return false }
            return f.utf8.starts(with: p.value.utf8)
        case .suffixIgnoreCase(let p):
            guard let f = Self.fold(leaf, &folded) else { return false }
            return f.utf8.reversed().starts(with: p.value.utf8.reversed())
        case .wildcard(let w):
            if case .string(let v) = leaf { return w.matches(v) }
            return false
        case .numeric(let r):
            if case .number(let v) = leaf { return r.contains(v) }
            return false
        case .cidr(let range):
            if case .string(let v) = leaf { return range.contains(v) }
            return false
        case .exists:
            return true
        case .anythingBut(let excluded):
            return !Self.isExcluded(leaf, by: excluded, folded: &folded)
        }
    }

    static func fold(_ leaf: EventLeaf, _ folded: inout String?) -> String? {
        guard case .string(let v) = leaf else { return nil }
        if let folded { return folded }
        let f = CaseFolding.fold(v)
        folded = f
        return f
    }

    static func isExcluded(_ leaf: EventLeaf, by excluded: AnythingBut, folded: inout String?) -> Bool {
        switch excluded {
        case .strings(let set):
            if case .string(let v) = leaf { return set.contains(ExactString(v)) }
            return false
        case .numbers(let set):
            if case .number(let v) = leaf { return set.contains(v) }
            return false
        case .prefixes(let list):
            if case .string(let v) = leaf { return list.contains { v.utf8.starts(with: $0.value.utf8) } }
            return false
        case .suffixes(let list):
            if case .string(let v) = leaf {
                return list.contains { v.utf8.reversed().starts(with: $0.value.utf8.reversed()) }
            }
            return false
        case .equalsIgnoreCase(let set):
            guard let f = fold(leaf, &folded) else { return false }
            return set.contains(ExactString(f))
        case .wildcards(let list):
            if case .string(let v) = leaf { return list.contains { $0.matches(v) } }
            return false
        }
    }
}
