extension JSONObject {
    /// An object with the given member names, in order, and values computed one by one.
    ///
    /// Payload templates produce objects with the same names every time; the names and the
    /// key index (of large objects) are computed once, and each object costs one allocation.
    ///
    /// - Important: `names` MUST be distinct, and `index` MUST be `JSONObject.makeIndex(names)`
    ///   (nil up to `indexThreshold` members).
    @inlinable package init<E: Error>(names: ContiguousArray<String>, index: [String: Int]?, values: (Int) throws(E) -> JSON) throws(E) {
        guard !names.isEmpty else {
            self.init()
            return
        }
        let storage = JSONObjectStorage.make(capacity: names.count)
        for i in names.indices { storage.append(JSONObjectMember(key: names[i], value: try values(i))) }
        storage.index = index
        self.init()
        self.storage = storage
    }

    /// The key index a `JSONObject` keeps for these names: nil for small objects.
    package static func makeIndex(_ keys: ContiguousArray<String>) -> [String: Int]? {
        guard keys.count > indexThreshold else { return nil }
        var index = [String: Int](minimumCapacity: keys.count)
        for (i, k) in keys.enumerated() { index[k] = i }
        return index
    }
}
