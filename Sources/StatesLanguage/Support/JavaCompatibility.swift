/// The few pieces of Java's runtime whose exact behaviour shows through in AWS's outputs.
///
/// Step Functions is written in Java; where its results depend on `String.hashCode`,
/// `HashMap` iteration order, `Math.round`, `java.util.Random` or `String.compareTo`, we
/// reproduce those rather than Swift's equivalents.
enum Java {
    /// `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16 code units, wrapping.
    static func hashCode(_ s: String) -> Int32 {
        var h: Int32 = 0
        for unit in s.utf16 { h = h &* 31 &+ Int32(unit) }
        return h
    }

    /// The order in which a `java.util.HashMap<String, _>` filled by `put` in the given
    /// order iterates its keys, as indices into `keys`.
    ///
    /// The table starts at 16 buckets and doubles whenever the size passes 3/4 of it; a
    /// key's bucket is `(h ^ (h >>> 16)) & (capacity - 1)`; a bucket keeps insertion order
    /// (resizing splits buckets without reordering). Duplicate keys keep their first slot.
    /// Buckets that Java would turn into trees (8+ colliding keys) are not modelled.
    static func hashMapOrder(_ keys: [String]) -> [Int] {
        var capacity = 16
        while Double(keys.count) > Double(capacity) * 0.75 { capacity *= 2 }
        let mask = Int32(capacity - 1)
        var seen = Set<String>()
        var slots: [(bucket: Int32, index: Int)] = []
        slots.reserveCapacity(keys.count)
        for (i, key) in keys.enumerated() where seen.insert(key).inserted {
            let h = hashCode(key)
            let spread = h ^ Int32(bitPattern: UInt32(bitPattern: h) >> 16)
            slots.append((spread & mask, i))
        }
        slots.sort { $0.bucket != $1.bucket ? $0.bucket < $1.bucket : $0.index < $1.index }
        return slots.map(\.index)
    }

    /// `Math.round(double)`: the closest integer, ties toward positive infinity;
    /// NaN gives 0 and out-of-range values saturate.
    static func round(_ d: Double) -> Int64 {
        if d.isNaN { return 0 }
        let floor = d.rounded(.down)
        let rounded = d - floor >= 0.5 ? floor + 1 : floor
        if rounded >= 9.223372036854775807e18 { return Int64.max }
        if rounded <= -9.223372036854775808e18 { return Int64.min }
        return Int64(rounded)
    }

    /// `String.compareTo`: lexicographic over UTF-16 code units.
    static func compare(_ a: String, _ b: String) -> Int {
        var i = a.utf16.makeIterator()
        var j = b.utf16.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let x?, let y?):
                if x != y { return x < y ? -1 : 1 }
            }
        }
    }

    /// `String.valueOf` of a value as Jackson hands JSON to Java code (`String`, `Integer`,
    /// `Long`, `Double`, `Boolean`, `null`, `LinkedHashMap`, `ArrayList`): a string as it is,
    /// an object as `Map.toString` (`{Arg1=1, Arg2=[]}`, members in order), an array as
    /// `List.toString` (`[a, 1.5, null]`), strings inside them unquoted.
    ///
    /// AWS behaviour: this, not JSON, is what a value becomes where AWS writes it into a
    /// string, e.g. States.Format's arguments (LocalStack's `test_format_2` and
    /// `test_context_json_path` recordings: `fst={Arg1=1, Arg2=[]}`,
    /// `{Id=arn:aws:states:...:stateMachine:M, Name=M}`).
    static func string(_ value: JSON) -> String {
        var out = ""
        appendString(value, to: &out)
        return out
    }

    private static func appendString(_ value: JSON, to out: inout String) {
        switch value {
        case .string(let s): out += s
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += JSONNumberFormat.javaString(d)
        case .decimal(let n): out += n.literal
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                appendString(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            var first = true
            for (key, member) in members {
                if !first { out += ", " }
                first = false
                out += key
                out += "="
                appendString(member, to: &out)
            }
            out += "}"
        }
    }

    /// `java.util.Random`: the 48-bit linear congruential generator.
    struct Random {
        private var seed: UInt64
        private static let multiplier: UInt64 = 0x5_DEEC_E66D
        private static let mask: UInt64 = (1 << 48) - 1

        init(seed: Int64) {
            self.seed = (UInt64(bitPattern: seed) ^ Self.multiplier) & Self.mask
        }

        mutating func next(bits: Int) -> Int32 {
            seed = (seed &* Self.multiplier &+ 0xB) & Self.mask
            return Int32(truncatingIfNeeded: seed >> UInt64(48 - bits))
        }

        /// `nextInt(bound)`, uniform in `0..<bound`; `bound` MUST be positive.
        mutating func nextInt(bound: Int32) -> Int32 {
            precondition(bound > 0, "Java.Random.nextInt: bound must be positive")
            if bound & -bound == bound {
                return Int32(truncatingIfNeeded: (Int64(bound) &* Int64(next(bits: 31))) >> 31)
            }
            while true {
                let bits = next(bits: 31)
                let value = bits % bound
                if bits &- value &+ (bound &- 1) >= 0 { return value }
            }
        }
    }
}

extension JSON {
    /// The text AWS writes for this value where it puts a value into a string: `Java.string`
    /// (`{a=1, b=[x]}`, strings unquoted), not JSON.
    public var javaText: String { Java.string(self) }
}
