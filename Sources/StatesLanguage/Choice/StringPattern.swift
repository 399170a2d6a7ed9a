/// The pattern of `StringMatches`: `*` matches any run of characters (including none);
/// `\*` is a literal asterisk and `\\` a literal backslash. Any other character, including a
/// backslash before anything else, stands for itself.
public struct StringPattern: Sendable, Hashable, CustomStringConvertible {
    public let text: String
    /// Literal runs separated by wildcards: `["a", "b"]` for `a*b`, `["", "x", ""]` for `*x*`.
    let segments: [[Unicode.Scalar]]

    public init(_ text: String) {
        self.text = text
        var segments: [[Unicode.Scalar]] = [[]]
        var scalars = text.unicodeScalars.makeIterator()
        while let c = scalars.next() {
            switch c {
            case "\\":
                if let n = scalars.next() {
                    if n == "*" || n == "\\" {
                        segments[segments.count - 1].append(n)
                    } else {
                        segments[segments.count - 1].append(c)
                        segments[segments.count - 1].append(n)
                    }
                } else {
                    segments[segments.count - 1].append(c)
                }
            case "*":
                segments.append([])
            default:
                segments[segments.count - 1].append(c)
            }
        }
        self.segments = segments
    }

    public var description: String { text }

    /// Whether the whole of `string` matches.
    public func matches(_ string: String) -> Bool {
        let s = Array(string.unicodeScalars)
        guard segments.count > 1 else { return s == segments[0] }
        let first = segments[0], last = segments[segments.count - 1]
        guard s.count >= first.count + last.count, s.starts(with: first), s.suffix(last.count).elementsEqual(last) else {
            return false
        }
        // Leftmost placement of each middle segment is optimal with only `*` wildcards.
        var position = first.count
        let end = s.count - last.count
        for segment in segments[1..<(segments.count - 1)] where !segment.isEmpty {
            guard let found = Self.find(segment, in: s, from: position, end: end) else { return false }
            position = found + segment.count
        }
        return true
    }

    private static func find(_ needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from start: Int, end: Int) -> Int? {
        guard end - start >= needle.count else { return nil }
        var i = start
        while i + needle.count <= end {
            if haystack[i] == needle[0], haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
