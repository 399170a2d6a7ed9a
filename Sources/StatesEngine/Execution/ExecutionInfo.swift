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

    /// Facts for a machine named `stateMachineName` with AWS-shaped ARNs.
    public static func make(stateMachineName: String, executionName: String, region: String = "us-east-1",
                            account: String = "123456789012", roleArn: String? = nil, type: MachineType = .standard)
        -> ExecutionInfo
    {
        let kind = type == .express ? "express" : "execution"
        return ExecutionInfo(
            executionArn: "arn:aws:states:\(region):\(account):\(kind):\(stateMachineName):\(executionName)",
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
