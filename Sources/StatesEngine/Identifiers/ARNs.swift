/// The one ARN builder and parser of Stepline's resources.
public enum ARNs {
    // The functions that read an ARN take it as text: they are where text becomes an
    // identifier's parts.

    public static func lastComponent(_ text: String) -> String { String(lastComponentView(text)) }

    /// The text after the last `:` (the whole ARN without one), without a copy.
    public static func lastComponentView(_ text: String) -> Substring {
        guard let i = text.lastIndex(of: ":") else { return text[...] }
        return text[text.index(after: i)...]
    }

    public static func stateMachine(region: String, account: String, name: String) -> String {
        "arn:aws:states:\(region):\(account):stateMachine:\(name)"
    }

    /// A Standard execution's ARN, or an Express one's with its per-start id
    /// (`ExecutionInfo.makeExecutionArn`).
    public static func execution(region: String, account: String, machine: String, name: String, expressID: String? = nil) -> String {
        ExecutionInfo.makeExecutionArn(region: region, account: account, stateMachineName: machine, executionName: name,
                                   expressID: expressID)
    }

    public static func activity(region: String, account: String, name: String) -> String {
        "arn:aws:states:\(region):\(account):activity:\(name)"
    }

    /// `(resource type, name...)` of a states ARN, e.g. `("execution", ["machine", "name"])`.
    public static func parse(_ text: String) -> (region: String, account: String, type: String, names: [String])? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 7, parts[0] == "arn", parts[2] == "states", !parts[5].isEmpty,
            parts[6...].allSatisfy({ !$0.isEmpty })
        else { return nil }
        return (parts[3], parts[4], parts[5], Array(parts[6...]))
    }
}
