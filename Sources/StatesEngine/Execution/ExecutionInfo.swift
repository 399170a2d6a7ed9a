import StatesLanguage

/// The fixed facts of one execution: its names and ARNs, as the context object shows them.
public struct ExecutionInfo: Sendable, Hashable {
    public enum MachineType: String, Sendable, Hashable { case standard = "STANDARD", express = "EXPRESS" }

    public var executionArn: String
    public var name: String
    public var stateMachineArn: String
    public var stateMachineName: String
    public var roleArn: String?
    public var type: MachineType
    public var region: String
    public var account: String
    /// The version or alias the execution was started through, if any.
    public var stateMachineVersionArn: String?
    public var stateMachineAliasArn: String?
    public var redriveCount: Int
    public var redriveTime: Int64?
    /// A context object that replaces the execution's (TestState's `context`); the `Task`
    /// and `Map` members the engine adds stay.
    public var contextObject: JSON?

    public init(executionArn: String, name: String, stateMachineArn: String, stateMachineName: String, roleArn: String?,
                type: MachineType = .standard, region: String = "us-east-1", account: String = "123456789012",
                stateMachineVersionArn: String? = nil, stateMachineAliasArn: String? = nil, redriveCount: Int = 0,
                redriveTime: Int64? = nil, contextObject: JSON? = nil)
    {
        self.executionArn = executionArn
        self.name = name
        self.stateMachineArn = stateMachineArn
        self.stateMachineName = stateMachineName
        self.roleArn = roleArn
        self.type = type
        self.region = region
        self.account = account
        self.stateMachineVersionArn = stateMachineVersionArn
        self.stateMachineAliasArn = stateMachineAliasArn
        self.redriveCount = redriveCount
        self.redriveTime = redriveTime
        self.contextObject = contextObject
    }

    /// An execution's ARN: `...:execution:MACHINE:NAME` for a Standard execution,
    /// `...:express:MACHINE:NAME:ID` for an Express one.
    ///
    /// AWS behaviour: Express execution names may be reused, so every start of an Express
    /// execution, StartExecution and StartSyncExecution alike, gets an id of its own after
    /// the name (a UUID); the name is the one given, or a UUID drawn when none is.
    /// - Parameter expressID: the id of an Express execution; nil for a Standard one.
    public static func makeExecutionArn(region: String, account: String, stateMachineName: String, executionName: String,
                                    expressID: String?) -> String
    {
        guard let expressID else { return "arn:aws:states:\(region):\(account):execution:\(stateMachineName):\(executionName)" }
        return "arn:aws:states:\(region):\(account):express:\(stateMachineName):\(executionName):\(expressID)"
    }

    /// Facts for a machine named `stateMachineName` with AWS-shaped ARNs.
    /// - Parameter expressID: the id that ends an Express execution's ARN (a UUID); drawn
    ///   when nil. Ignored for Standard executions.
    public static func make(stateMachineName: String, executionName: String, region: String = "us-east-1",
                            account: String = "123456789012", roleArn: String? = nil, type: MachineType = .standard,
                            expressID: String? = nil) -> ExecutionInfo
    {
        let id = type == .express ? expressID ?? RandomSource.system.uuidString() : nil
        return ExecutionInfo(
            executionArn: makeExecutionArn(region: region, account: account, stateMachineName: stateMachineName,
                                       executionName: executionName, expressID: id),
            name: executionName,
            stateMachineArn: "arn:aws:states:\(region):\(account):stateMachine:\(stateMachineName)",
            stateMachineName: stateMachineName,
            roleArn: roleArn ?? "arn:aws:iam::\(account):role/stepline",
            type: type, region: region, account: account)
    }
}

/// An execution's status, as DescribeExecution reports it.
public enum ExecutionStatus: String, Sendable, Hashable {
    case running = "RUNNING"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    case timedOut = "TIMED_OUT"
    case aborted = "ABORTED"
    case pendingRedrive = "PENDING_REDRIVE"

    public var isTerminal: Bool { self != .running && self != .pendingRedrive }
}
