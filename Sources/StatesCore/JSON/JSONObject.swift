/// A JSON object whose members keep their insertion order.
///
/// Small objects (the common case in state data) are searched linearly; objects past
/// `indexThreshold` members also keep a key index. Setting an existing key replaces the
/// value in place, so the key keeps its first position (as Jackson's `ObjectNode.set` does).
///
/// The members live in one copy-on-write buffer (keys and values side by side), so that a
/// copy of an object, and of a `JSON` holding one, costs one retain; an empty object
/// allocates nothing.
public struct JSONObject: @unchecked Sendable {
    // @unchecked: the buffer (a ManagedBuffer, which cannot be declared Sendable) is written
    // only by the value holding the only reference to it (`makeUnique`); a buffer that two
    // values, or two threads, can see is never written.
    public typealias Element = (key: String, value: JSON)

    @usableFromInline internal var storage: JSONObjectStorage?

    @usableFromInline static var indexThreshold: Int { 12 }

    @inlinable public init() {
        storage = nil
    }

    @inlinable public init(minimumCapacity: Int) {
        storage = minimumCapacity > 0 ? JSONObjectStorage.make(capacity: minimumCapacity) : nil
    }

    /// Builds an object from pairs; a repeated key keeps its first position and its last value.
    @inlinable public init<S: Sequence>(_ pairs: S) where S.Element == (String, JSON) {
        self.init(minimumCapacity: pairs.underestimatedCount)
        for (k, v) in pairs { self[k] = v }
    }

    @inlinable public var count: Int { storage?.count ?? 0 }
    @inlinable public var isEmpty: Bool { count == 0 }

    /// The keys in order (a new array).
    public var orderedKeys: ContiguousArray<String> {
        var keys = ContiguousArray<String>()
        keys.reserveCapacity(count)
        withMembers { for m in $0 { keys.append(m.key) } }
        return keys
    }

    /// The values in order (a new array).
    public var orderedValues: ContiguousArray<JSON> {
        var values = ContiguousArray<JSON>()
        values.reserveCapacity(count)
        withMembers { for m in $0 { values.append(m.value) } }
        return values
    }

    /// The members in order, read in place.
    @inlinable func withMembers<R>(_ body: (UnsafeBufferPointer<JSONObjectMember>) throws -> R) rethrows -> R {
        guard let storage else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try storage.withMembers(body)
    }

    /// The key at `position`.
    @inlinable package func key(at position: Int) -> String {
        precondition(position >= 0 && position < count, "JSONObject: position \(position) out of range")
        return storage!.withMembers { $0[position].key }
    }

    /// The value at `position`.
    @inlinable package func value(at position: Int) -> JSON {
        precondition(position >= 0 && position < count, "JSONObject: position \(position) out of range")
        return storage!.withMembers { $0[position].value }
    }

    /// The key index of a large object; nil for small ones.
    @inlinable var index: [String: Int]? { storage?.index }

    @inlinable public func indexOf(_ key: String) -> Int? {
        guard let storage else { return nil }
        if let index = storage.index { return index[key] }
        return storage.withMembers { members in
            // A cheap length test first: most keys differ in length.
            let length = key.utf8.count
            for i in members.indices where members[i].key.utf8.count == length && members[i].key == key { return i }
            return nil
        }
    }

    @inlinable public func contains(_ key: String) -> Bool { indexOf(key) != nil }

    /// The value of `key`, whose UTF-8 length the caller knows (a cheap first test: most
    /// keys differ in length).
    @inlinable package func value(forKey key: String, utf8Count: Int) -> JSON? {
        guard let storage else { return nil }
        if let index = storage.index {
            guard let i = index[key] else { return nil }
            return storage.withMembers { $0[i].value }
        }
        return storage.withMembers { members in
            for i in members.indices where members[i].key.utf8.count == utf8Count && members[i].key == key {
                return members[i].value
            }
            return nil
        }
    }

    @inlinable public subscript(key: String) -> JSON? {
        get {
            guard let i = indexOf(key) else { return nil }
            return value(at: i)
        }
        set {
            if let newValue {
                if let i = indexOf(key) {
                    modifyValue(at: i) { $0 = newValue }
                } else {
                    append(key, newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Changes the value at `position` in place (the buffer is copied first when shared).
    @inlinable package mutating func modifyValue<R>(at position: Int, _ body: (inout JSON) throws -> R) rethrows -> R {
        precondition(position >= 0 && position < count, "JSONObject: position \(position) out of range")
        makeUnique(capacity: count)
        return try storage!.withMutableMembers { try body(&$0[position].value) }
    }

    /// Appends a member without checking for an existing key.
    ///
    /// - Important: The caller MUST know that `key` is not present yet.
    @inlinable public mutating func append(_ key: String, _ value: JSON) {
        let n = count
        makeUnique(capacity: n + 1)
        storage!.append(JSONObjectMember(key: key, value: value))
        if storage!.index != nil {
            storage!.index![key] = n
        } else if n + 1 > Self.indexThreshold {
            storage!.rebuildIndex()
        }
    }

    @discardableResult
    @inlinable public mutating func removeValue(forKey key: String) -> JSON? {
        guard let i = indexOf(key) else { return nil }
        makeUnique(capacity: count)
        let old = storage!.remove(at: i)
        if storage!.index != nil { storage!.rebuildIndex() }
        return old
    }

    /// Makes the buffer unique to this object and able to hold `capacity` members.
    @inlinable mutating func makeUnique(capacity: Int) {
        guard storage != nil else {
            storage = JSONObjectStorage.make(capacity: Swift.max(capacity, 4))
            return
        }
        if isKnownUniquelyReferenced(&storage!) {
            if storage!.room < capacity { storage = storage!.moved(capacity: Swift.max(capacity, storage!.room * 2)) }
        } else {
            storage = storage!.copied(capacity: Swift.max(capacity, storage!.count))
        }
    }

    @inlinable public subscript(position position: Int) -> Element {
        precondition(position >= 0 && position < count, "JSONObject: position \(position) out of range")
        return storage!.withMembers { ($0[position].key, $0[position].value) }
    }

    /// The identity of the members' buffer, while this object holds it (nil when empty):
    /// two objects with the same identity hold the same members (a shared buffer is never
    /// written).
    public var storageIdentity: ObjectIdentifier? { storage.map(ObjectIdentifier.init) }
}

/// One member of a `JSONObject`.
@usableFromInline struct JSONObjectMember {
    @usableFromInline var key: String
    @usableFromInline var value: JSON

    @inlinable init(key: String, value: JSON) {
        self.key = key
        self.value = value
    }
}

@usableFromInline struct JSONObjectHeader {
    @usableFromInline var count: Int
    /// Room for this many members (kept here: `ManagedBuffer.capacity` asks the allocator).
    @usableFromInline var capacity: Int
    @usableFromInline var index: [String: Int]?

    @inlinable init(capacity: Int) {
        count = 0
        self.capacity = capacity
        index = nil
    }
}

/// The members of a `JSONObject`, tail-allocated after a header (count and key index).
///
/// A buffer is changed only by the `JSONObject` that holds the only reference to it
/// (`JSONObject.makeUnique`), so shared buffers are never written.
@usableFromInline final class JSONObjectStorage: ManagedBuffer<JSONObjectHeader, JSONObjectMember> {

    @inlinable static func make(capacity: Int) -> JSONObjectStorage {
        let buffer = create(minimumCapacity: capacity) { _ in JSONObjectHeader(capacity: capacity) }
        return unsafeDowncast(buffer, to: JSONObjectStorage.self)
    }

    // The header is read and written through its pointer: `header` is a class property,
    // whose every access would be checked for exclusivity at run time.
    @inlinable var count: Int { withUnsafeMutablePointerToHeader { $0.pointee.count } }
    @inlinable var room: Int { withUnsafeMutablePointerToHeader { $0.pointee.capacity } }
    @inlinable var index: [String: Int]? {
        get { withUnsafeMutablePointerToHeader { $0.pointee.index } }
        _modify {
            let header = withUnsafeMutablePointerToHeader { $0 }
            yield &header.pointee.index
        }
    }

    @inlinable func withMembers<R>(_ body: (UnsafeBufferPointer<JSONObjectMember>) throws -> R) rethrows -> R {
        try withUnsafeMutablePointers { header, members in
            try body(UnsafeBufferPointer(start: members, count: header.pointee.count))
        }
    }

    @inlinable func withMutableMembers<R>(_ body: (UnsafeMutableBufferPointer<JSONObjectMember>) throws -> R) rethrows -> R {
        try withUnsafeMutablePointers { header, members in
            try body(UnsafeMutableBufferPointer(start: members, count: header.pointee.count))
        }
    }

    /// Appends a member. The caller made room.
    @inlinable func append(_ member: JSONObjectMember) {
        withUnsafeMutablePointers { header, members in
            (members + header.pointee.count).initialize(to: member)
            header.pointee.count += 1
        }
    }

    /// Removes and returns the value at `position`, moving the later members down.
    @inlinable func remove(at position: Int) -> JSON {
        withUnsafeMutablePointers { header, members in
            let n = header.pointee.count
            let old = (members + position).move()
            (members + position).moveInitialize(from: members + position + 1, count: n - position - 1)
            header.pointee.count = n - 1
            return old.value
        }
    }

    /// A new buffer with the members moved out of this one (which is left empty).
    @inlinable func moved(capacity: Int) -> JSONObjectStorage {
        let new = JSONObjectStorage.make(capacity: capacity)
        withUnsafeMutablePointers { header, members in
            new.withUnsafeMutablePointers { newHeader, newMembers in
                newMembers.moveInitialize(from: members, count: header.pointee.count)
                newHeader.pointee.count = header.pointee.count
                newHeader.pointee.index = header.pointee.index
            }
            header.pointee.count = 0
        }
        return new
    }

    /// A new buffer with copies of the members.
    @inlinable func copied(capacity: Int) -> JSONObjectStorage {
        let new = JSONObjectStorage.make(capacity: capacity)
        withUnsafeMutablePointers { header, members in
            new.withUnsafeMutablePointers { newHeader, newMembers in
                // One by one: `initialize(from:count:)` copies through the runtime's generic
                // value witnesses.
                for i in 0..<header.pointee.count { (newMembers + i).initialize(to: members[i]) }
                newHeader.pointee.count = header.pointee.count
                newHeader.pointee.index = header.pointee.index
            }
        }
        return new
    }

    @usableFromInline func rebuildIndex() {
        guard count > JSONObject.indexThreshold else {
            index = nil
            return
        }
        var d = [String: Int](minimumCapacity: count)
        withMembers { for (i, m) in $0.enumerated() { d[m.key] = i } }
        index = d
    }

    deinit {
        withUnsafeMutablePointers { header, members in
            // One by one: `deinitialize(count:)` destroys through the runtime's generic value
            // witnesses.
            for i in 0..<header.pointee.count { _ = (members + i).move() }
        }
    }
}

extension JSONObject: Sequence {
    public struct Iterator: IteratorProtocol {
        @usableFromInline let object: JSONObject
        @usableFromInline var position = 0
        @inlinable init(_ object: JSONObject) { self.object = object }
        @inlinable public mutating func next() -> Element? {
            guard position < object.count else { return nil }
            defer { position += 1 }
            return object[position: position]
        }
    }

    @inlinable public func makeIterator() -> Iterator { Iterator(self) }
    @inlinable public var underestimatedCount: Int { count }
}

extension JSONObject: Equatable {
    /// Objects are equal when they hold the same members, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool { equal(lhs, rhs, depth: 0) }

    /// `==` for objects at nesting `depth` (see `JSON.equal(_:_:depth:)`).
    static func equal(_ lhs: JSONObject, _ rhs: JSONObject, depth: Int) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if depth >= JSON.recursionDepth { return JSON.equalIteratively(.object(lhs), .object(rhs)) }
        if lhs.storage === rhs.storage { return true }
        let sameOrder = lhs.withMembers { l in
            rhs.withMembers { r in
                for i in l.indices where l[i].key != r[i].key { return false }
                return true
            }
        }
        if sameOrder {
            return lhs.withMembers { l in
                rhs.withMembers { r in
                    for i in l.indices where !JSON.equal(l[i].value, r[i].value, depth: depth + 1) { return false }
                    return true
                }
            }
        }
        for (k, v) in lhs {
            guard let other = rhs[k], JSON.equal(other, v, depth: depth + 1) else { return false }
        }
        return true
    }
}

extension JSONObject: Hashable {
    public func hash(into hasher: inout Hasher) { hash(into: &hasher, depth: 0) }

    /// Hashes the members of an object at nesting `depth` (see `JSON.hash(into:depth:)`).
    func hash(into hasher: inout Hasher, depth: Int) {
        // Order-independent: combine per-member hashes commutatively.
        var acc = 0
        for (k, v) in self {
            var h = Hasher()
            h.combine(k)
            v.hash(into: &h, depth: depth + 1)
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
