import StatesEngine
import StatesLanguage

/// A published version of a state machine: an immutable snapshot of its definition
/// revision and configuration (`arn:aws:states:REGION:ACCOUNT:stateMachine:NAME:N`).
public struct StateMachineVersionRecord: Sendable, Equatable {
    public var arn: StateMachineARN
    /// The unqualified machine.
    public var stateMachineArn: StateMachineARN
    /// 1, 2, ...: never reused, even after a version is deleted.
    public var version: Int
    public var revisionId: String
    /// The definition text of `revisionId` (filled in by reads).
    public var definition: String
    /// The IAM role's ARN, as given.
    public var roleArn: String
    public var type: String
    public var description: String?
    public var loggingConfiguration: String?
    public var tracingConfiguration: String?
    public var encryptionConfiguration: String?
    /// Milliseconds since the epoch.
    public var creationDate: Int64

    public init(arn: StateMachineARN, stateMachineArn: StateMachineARN, version: Int, revisionId: String, definition: String, roleArn: String,
                type: String, description: String?, loggingConfiguration: String?, tracingConfiguration: String?,
                encryptionConfiguration: String?, creationDate: Int64)
    {
        self.arn = arn
        self.stateMachineArn = stateMachineArn
        self.version = version
        self.revisionId = revisionId
        self.definition = definition
        self.roleArn = roleArn
        self.type = type
        self.description = description
        self.loggingConfiguration = loggingConfiguration
        self.tracingConfiguration = tracingConfiguration
        self.encryptionConfiguration = encryptionConfiguration
        self.creationDate = creationDate
    }
}

/// An alias of a state machine (`...:stateMachine:NAME:ALIAS`): routes executions to one
/// or two versions by weight.
public struct StateMachineAliasRecord: Sendable, Equatable {
    public struct Route: Sendable, Equatable {
        public var stateMachineVersionArn: StateMachineARN
        /// 0-100; the routes' weights add up to 100.
        public var weight: Int
        public init(stateMachineVersionArn: StateMachineARN, weight: Int) {
            self.stateMachineVersionArn = stateMachineVersionArn
            self.weight = weight
        }
    }

    public var arn: StateMachineARN
    /// The unqualified machine.
    public var stateMachineArn: StateMachineARN
    public var name: String
    public var description: String?
    public var routingConfiguration: [Route]
    public var creationDate: Int64
    public var updateDate: Int64?

    public init(arn: StateMachineARN, stateMachineArn: StateMachineARN, name: String, description: String?, routingConfiguration: [Route],
                creationDate: Int64, updateDate: Int64? = nil)
    {
        self.arn = arn
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.description = description
        self.routingConfiguration = routingConfiguration
        self.creationDate = creationDate
        self.updateDate = updateDate
    }
}

/// What ListExecutions selects. All set conditions must hold.
public struct ExecutionFilter: Sendable, Equatable {
    /// Executions of this (unqualified) state machine.
    public var stateMachineArn: StateMachineARN?
    /// Executions started through this version (`stateMachineVersionArn`).
    public var versionArn: StateMachineARN?
    /// Executions started through this alias.
    public var aliasArn: StateMachineARN?
    public var status: ExecutionStatus?
    /// true: redriven at least once; false: never redriven.
    public var redriven: Bool?

    public init(stateMachineArn: StateMachineARN? = nil, versionArn: StateMachineARN? = nil, aliasArn: StateMachineARN? = nil,
                status: ExecutionStatus? = nil, redriven: Bool? = nil)
    {
        self.stateMachineArn = stateMachineArn
        self.versionArn = versionArn
        self.aliasArn = aliasArn
        self.status = status
        self.redriven = redriven
    }
}

/// A step that redrives an execution: its row's redrive count and date change with it.
public struct RedriveUpdate: Sendable, Equatable {
    public var count: Int
    /// Milliseconds since the epoch.
    public var date: Int64
    public init(count: Int, date: Int64) {
        self.count = count
        self.date = date
    }
}
