extension JSONObject {
    /// An object whose member names are an existing array, shared rather than copied.
    ///
    /// Payload templates produce objects with the same names every time; sharing the names
    /// (and the key index of large objects) leaves one allocation per evaluated object, for
    /// the values.
    ///
    /// - Important: `keys` MUST hold distinct names, `values` MUST have the same count, and
    ///   `index` MUST be `JSONObject.makeIndex(keys)` (nil up to `indexThreshold` members).
    init(sharingKeys keys: ContiguousArray<String>, index: [String: Int]?, values: ContiguousArray<JSON>) {
        precondition(keys.count == values.count, "JSONObject(sharingKeys:): \(keys.count) names for \(values.count) values")
        self.init()
        self.keys = keys
        self.values = values
        self.index = index
    }

    /// The key index a `JSONObject` keeps for these names: nil for small objects.
    static func makeIndex(_ keys: ContiguousArray<String>) -> [String: Int]? {
        guard keys.count > indexThreshold else { return nil }
        var index = [String: Int](minimumCapacity: keys.count)
        for (i, k) in keys.enumerated() { index[k] = i }
        return index
    }
}
