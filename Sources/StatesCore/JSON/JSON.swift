/// A JSON value as Step Functions sees it.
///
/// Object keys keep their order (AWS echoes payloads in the order it received them), and
/// numbers compare by value across their representations: `.int(1) == .double(1.0)`.
/// A literal written with a fraction or an exponent stays a `.double` so that it is written
/// back the way AWS writes it (`1.0` stays `1.0`); a literal neither an `Int64` nor a
/// `Double` holds stays its text (`.decimal`), so no number changes on its way through.
public enum JSON: Sendable {
    case null
    case bool(Bool)
    /// An integer literal that fits in 64 bits.
    case int(Int64)
    /// A number written with a fraction or an exponent whose value a double holds.
    case double(Double)
    /// A number literal kept as written: an integer beyond 64 bits, or a literal whose value
    /// no double holds (too many digits, beyond the double range).
    case decimal(JSONDecimal)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

// MARK: - Type tests and accessors

extension JSON {
    /// The JSON type name as AWS error messages spell it.
    public enum Kind: String, Sendable {
        case null, boolean, number, string, array, object
    }

    public var kind: Kind {
        switch self {
        case .null: .null
        case .bool: .boolean
        case .int, .double, .decimal: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }

    @inlinable public var isNull: Bool { if case .null = self { true } else { false } }
    @inlinable package var isDecimal: Bool { if case .decimal = self { true } else { false } }
    @inlinable public var isNumber: Bool {
        switch self {
        case .int, .double, .decimal: true
        default: false
        }
    }

    @inlinable public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    @inlinable public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    @inlinable public var arrayValue: [JSON]? { if case .array(let a) = self { a } else { nil } }
    @inlinable public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }

    /// The number as a `Double`, for arithmetic: a `.decimal` gives its nearest double, or
    /// `nil` when it is beyond the double range (it never becomes an infinity or a zero).
    @inlinable public var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        case .decimal(let n): n.doubleValue
        default: nil
        }
    }

    /// The exact value of a number, for exact comparisons; `nil` for other kinds and for
    /// infinities and NaN (which no JSON text holds).
    public var decimalValue: DecimalNumber? {
        switch self {
        case .int(let i): DecimalNumber(i)
        case .double(let d): DecimalNumber(d)
        case .decimal(let n): n.value
        default: nil
        }
    }

    /// The number as an exact integer: `.int`, or a `.double` or `.decimal` with no
    /// fractional part that fits.
    @inlinable public var integerValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d):
            guard d.isFinite, d.rounded(.towardZero) == d, d >= -9.223372036854776e18, d < 9.223372036854776e18
            else { return nil }
            return Int64(d)
        case .decimal(let n): return n.value.int64Value
        default: return nil
        }
    }

    /// Member lookup on an object; `nil` for other kinds or a missing key.
    @inlinable public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Element lookup on an array; `nil` for other kinds or an index out of range.
    @inlinable public subscript(index: Int) -> JSON? {
        if case .array(let a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }
}

// MARK: - Equality: numbers by value, objects regardless of key order

extension JSON: Equatable {
    public static func == (lhs: JSON, rhs: JSON) -> Bool { equal(lhs, rhs, depth: 0) }

    /// `==` at nesting `depth` of the outermost comparison: deeper than `recursionDepth`,
    /// the comparison goes on without recursion (`equalIteratively`).
    static func equal(_ lhs: JSON, _ rhs: JSON, depth: Int) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Double(a) == b
        case (.decimal(let a), .decimal(let b)): return a.literal == b.literal || a.value == b.value
        case (.decimal(let a), .int), (.decimal(let a), .double), (.int, .decimal(let a)), (.double, .decimal(let a)):
            // Exactly: a `.double` stands for its shortest decimal, as it is written.
            let other = lhs.isDecimal ? rhs : lhs
            return other.decimalValue == a.value
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            if depth >= recursionDepth { return equalIteratively(lhs, rhs) }
            return a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    if x.baseAddress == y.baseAddress { return true }
                    for i in x.indices where !equal(x[i], y[i], depth: depth + 1) { return false }
                    return true
                }
            }
        case (.object(let a), .object(let b)):
            if depth >= recursionDepth { return a.count == b.count && equalIteratively(lhs, rhs) }
            return JSONObject.equal(a, b, depth: depth)
        default: return false
        }
    }
}

extension JSON: Hashable {
    public func hash(into hasher: inout Hasher) { hash(into: &hasher, depth: 0) }

    /// Hashes down to `recursionDepth` levels; deeper containers add only their kind and
    /// size (equal values still hash alike, and the stack stays shallow).
    func hash(into hasher: inout Hasher, depth: Int) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        // Hash both number forms through Double so that 1 and 1.0 hash alike.
        case .int(let i): hasher.combine(2); hasher.combine(Double(i))
        case .double(let d): hasher.combine(2); hasher.combine(d)
        // Equal numbers round to the same double.
        case .decimal(let n): hasher.combine(2); hasher.combine(n.value.nearestDouble)
        case .string(let s): hasher.combine(3); hasher.combine(s)
        case .array(let a):
            hasher.combine(4)
            hasher.combine(a.count)
            guard depth < Self.recursionDepth else { return }
            for v in a { v.hash(into: &hasher, depth: depth + 1) }
        case .object(let o):
            hasher.combine(5)
            guard depth < Self.recursionDepth else {
                hasher.combine(o.count)
                return
            }
            o.hash(into: &hasher, depth: depth)
        }
    }
}

// MARK: - Literals

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSON: CustomStringConvertible {
    /// The compact serialization, as AWS writes payloads.
    public var description: String { serialized() }
}

// MARK: - Numbers

extension JSON {
    /// A number from a `Double`: integral values that fit become `.int`.
    ///
    /// Used at the edges where arithmetic produces doubles (JSONata, intrinsics) but AWS
    /// writes integers, e.g. `3` rather than `3.0`.
    @inlinable public static func number(_ d: Double) -> JSON {
        if d.rounded(.towardZero) == d, d >= -9.007199254740992e15, d <= 9.007199254740992e15 {
            return .int(Int64(d))
        }
        return .double(d)
    }
}
