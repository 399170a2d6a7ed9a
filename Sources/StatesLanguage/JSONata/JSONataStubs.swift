enum NumberFormat {
    static func formatNumber(_ n: Double, _ picture: String, _ options: JObject?) throws -> String { throw JSONataError(code: "X0000", message: "todo") }
}
enum IntegerFormat {
    static func format(_ n: Double, _ picture: String) throws -> String { throw JSONataError(code: "X0000", message: "todo") }
    static func parse(_ s: String, _ picture: String) throws -> Double? { throw JSONataError(code: "X0000", message: "todo") }
}
enum DateTime {
    static func toMillis(_ s: String, picture: String?) throws -> Double? { throw JSONataError(code: "X0000", message: "todo") }
    static func fromMillis(_ n: Double, picture: String?, timezone: String?) throws -> String { throw JSONataError(code: "X0000", message: "todo") }
}
enum Digest {
    static func hex(_ bytes: [UInt8], algorithm: String) -> String? { nil }
}
