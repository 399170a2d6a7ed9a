/// Finds a key written twice in one JSON object of a (valid) JSON text: IAM refuses
/// `"Effect"` twice in a statement, where a JSON parser keeps the last.
enum DuplicateKeys {
    private struct Container {
        var isObject: Bool
        /// An object's next string is a key (at its start and after each comma).
        var expectingKey: Bool
        var keys: Set<String> = []
    }

    /// The first repeated key, or nil. `text` must already have parsed as JSON.
    static func first(in text: String) -> String? {
        var stack: [Container] = []
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            switch b {
            case UInt8(ascii: "{"): stack.append(Container(isObject: true, expectingKey: true))
            case UInt8(ascii: "["): stack.append(Container(isObject: false, expectingKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                if let last = stack.indices.last, stack[last].isObject { stack[last].expectingKey = true }
            case UInt8(ascii: "\""):
                var raw: [UInt8] = []
                while let c = bytes.popFirst(), c != UInt8(ascii: "\"") {
                    raw.append(c)
                    if c == UInt8(ascii: "\\"), let escaped = bytes.popFirst() { raw.append(escaped) }
                }
                if let last = stack.indices.last, stack[last].expectingKey {
                    if !stack[last].keys.insert(String(decoding: raw, as: UTF8.self)).inserted {
                        return String(decoding: raw, as: UTF8.self)
                    }
                    stack[last].expectingKey = false
                }
            default: break
            }
        }
        return nil
    }
}
