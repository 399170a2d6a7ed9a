/// A JSON object whose members keep their insertion order.
///
/// Small objects (the common case in state data) are searched linearly; objects past
/// `indexThreshold` members also keep a key index. Setting an existing key replaces the
/// value in place, so the key keeps its first position (as Jackson's `ObjectNode.set` does).
public struct JSONObject: Sendable {
    public typealias Element = (key: String, value: JSON)

    @usableFromInline internal var keys: ContiguousArray<String>
    @usableFromInline internal var values: ContiguousArray<JSON>
    @usableFromInline internal var index: [String: Int]?

    @usableFromInline static var indexThreshold: Int { 12 }

    @inlinable public init() {
        keys = []
        values = []
        index = nil
    }

    @inlinable public init(minimumCapacity: Int) {
        keys = []
        values = []
        keys.reserveCapacity(minimumCapacity)
        values.reserveCapacity(minimumCapacity)
        index = nil
    }

    /// Builds an object from pairs; a repeated key keeps its first position and its last value.
    @inlinable public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSON) {
        self.init()
        for (k, v) in pairs { self[k] = v }
    }

    @inlinable public var count: Int { keys.count }
    @inlinable public var isEmpty: Bool { keys.isEmpty }
    @inlinable public var orderedKeys: ContiguousArray<String> { keys }
    @inlinable public var orderedValues: ContiguousArray<JSON> { values }

    @inlinable public func indexOf(_ key: String) -> Int? {
        if let index { return index[key] }
        for i in keys.indices where keys[i] == key { return i }
        return nil
    }

    @inlinable public func contains(_ key: String) -> Bool { indexOf(key) != nil }

    @inlinable public subscript(key: String) -> JSON? {
        get {
            guard let i = indexOf(key) else { return nil }
            return values[i]
        }
        set {
            if let newValue {
                if let i = indexOf(key) {
                    values[i] = newValue
                } else {
                    append(key, newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Appends a member without checking for an existing key.
    ///
    /// - Important: The caller MUST know that `key` is not present yet.
    @inlinable public mutating func append(_ key: String, _ value: JSON) {
        keys.append(key)
        values.append(value)
        if index != nil {
            index![key] = keys.count - 1
        } else if keys.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    @discardableResult
    @inlinable public mutating func removeValue(forKey key: String) -> JSON? {
        guard let i = indexOf(key) else { return nil }
        keys.remove(at: i)
        let old = values.remove(at: i)
        if index != nil { rebuildIndex() }
        return old
    }

    @usableFromInline mutating func rebuildIndex() {
        guard keys.count > Self.indexThreshold else {
            index = nil
            return
        }
        var d = [String: Int](minimumCapacity: keys.count)
        for (i, k) in keys.enumerated() { d[k] = i }
        index = d
    }

    @inlinable public subscript(position position: Int) -> Element {
        (keys[position], values[position])
    }
}

extension JSONObject: Sequence {
    public struct Iterator: IteratorProtocol {
        @usableFromInline let object: JSONObject
        @usableFromInline var position = 0
        @inlinable init(_ object: JSONObject) { self.object = object }
        @inlinable public mutating func next() -> Element? {
            guard position < object.keys.count else { return nil }
            defer { position += 1 }
            return (object.keys[position], object.values[position])
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(self) }
    @inlinable public var underestimatedCount: Int { keys.count }
}

extension JSONObject: Equatable {
    /// Objects are equal when they hold the same members, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.keys == rhs.keys { return lhs.values == rhs.values }
        for (k, v) in lhs {
            guard let other = rhs[k], other == v else { return false }
        }
        return true
    }
}

extension JSONObject: Hashable {
    public func hash(into hasher: inout Hasher) {
        // Order-independent: combine per-member hashes commutatively.
        var acc = 0
        for (k, v) in self {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            acc ^= h.finalize()
        }
        hasher.combine(count)
        hasher.combine(acc)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(elements)
    }
}
