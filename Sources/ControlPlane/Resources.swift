import StatesEngine
import StatesLanguage

/// One page of a listing: the items and the token of the next page, if there is one.
public struct ResultPage<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextToken: String?

    public init(items: [Item], nextToken: String?) {
        self.items = items
        self.nextToken = nextToken
    }
}

/// What a listing asks for: AWS's `maxResults` (nil: the action's default) and `nextToken`.
public struct PageRequest: Sendable, Equatable {
    public var maxResults: Int?
    public var nextToken: String?

    public init(maxResults: Int? = nil, nextToken: String? = nil) {
        self.maxResults = maxResults
        self.nextToken = nextToken
    }
}

/// A resource tag.
public struct Tag: Sendable, Equatable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// The configurations a state machine or activity keeps as given (JSON text of AWS's
/// structures): `loggingConfiguration`, `tracingConfiguration`, `encryptionConfiguration`.
public struct ResourceConfigurations: Sendable, Equatable {
    public var logging: String?
    public var tracing: String?
    public var encryption: String?

    public init(logging: String? = nil, tracing: String? = nil, encryption: String? = nil) {
        self.logging = logging
        self.tracing = tracing
        self.encryption = encryption
    }
}

// MARK: State machines

public struct CreateStateMachineInput: Sendable {
    public var name: String
    public var definition: String
    public var roleArn: String
    /// `STANDARD` or `EXPRESS`.
    public var type: String
    public var configurations: ResourceConfigurations
    public var publish: Bool
    public var versionDescription: String?
    public var tags: [Tag]

    public init(name: String, definition: String, roleArn: String, type: String = "STANDARD",
                configurations: ResourceConfigurations = .init(), publish: Bool = false, versionDescription: String? = nil,
                tags: [Tag] = [])
    {
        self.name = name
        self.definition = definition
        self.roleArn = roleArn
        self.type = type
        self.configurations = configurations
        self.publish = publish
        self.versionDescription = versionDescription
        self.tags = tags
    }
}

public struct CreateStateMachineOutput: Sendable, Equatable {
    public var stateMachineArn: StateMachineARN
    public var creationDate: Int64
    public var stateMachineVersionArn: StateMachineARN?

    public init(stateMachineArn: StateMachineARN, creationDate: Int64, stateMachineVersionArn: StateMachineARN?) {
        self.stateMachineArn = stateMachineArn
        self.creationDate = creationDate
        self.stateMachineVersionArn = stateMachineVersionArn
    }
}

public struct UpdateStateMachineInput: Sendable {
    public var stateMachineArn: StateMachineARN
    public var definition: String?
    public var roleArn: String?
    /// Only the configurations given change.
    public var configurations: ResourceConfigurations
    public var publish: Bool
    public var versionDescription: String?

    public init(stateMachineArn: StateMachineARN, definition: String? = nil, roleArn: String? = nil,
                configurations: ResourceConfigurations = .init(), publish: Bool = false, versionDescription: String? = nil)
    {
        self.stateMachineArn = stateMachineArn
        self.definition = definition
        self.roleArn = roleArn
        self.configurations = configurations
        self.publish = publish
        self.versionDescription = versionDescription
    }
}

public struct UpdateStateMachineOutput: Sendable, Equatable {
    public var updateDate: Int64
    public var revisionId: String
    public var stateMachineVersionArn: StateMachineARN?

    public init(updateDate: Int64, revisionId: String, stateMachineVersionArn: StateMachineARN?) {
        self.updateDate = updateDate
        self.revisionId = revisionId
        self.stateMachineVersionArn = stateMachineVersionArn
    }
}

/// A state machine or one of its versions, as DescribeStateMachine shows it.
public struct StateMachineDescription: Sendable, Equatable {
    public var stateMachineArn: StateMachineARN
    public var name: String
    /// `ACTIVE` or `DELETING`.
    public var status: String
    public var definition: String
    public var roleArn: String
    public var type: String
    public var creationDate: Int64
    /// AWS behaviour: shown once the machine was updated (always for a version).
    public var revisionId: String?
    public var description: String?
    public var configurations: ResourceConfigurations

    public init(stateMachineArn: StateMachineARN, name: String, status: String, definition: String, roleArn: String, type: String,
                creationDate: Int64, revisionId: String?, description: String?, configurations: ResourceConfigurations)
    {
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.status = status
        self.definition = definition
        self.roleArn = roleArn
        self.type = type
        self.creationDate = creationDate
        self.revisionId = revisionId
        self.description = description
        self.configurations = configurations
    }
}

public struct StateMachineListItem: Sendable, Equatable {
    public var stateMachineArn: StateMachineARN
    public var name: String
    public var type: String
    public var creationDate: Int64

    public init(stateMachineArn: StateMachineARN, name: String, type: String, creationDate: Int64) {
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.type = type
        self.creationDate = creationDate
    }
}

/// DescribeStateMachineForExecution: the definition an execution runs.
public struct StateMachineForExecution: Sendable, Equatable {
    public var stateMachineArn: StateMachineARN
    public var name: String
    public var definition: String
    public var roleArn: String
    public var type: String
    public var updateDate: Int64
    public var revisionId: String
    public var configurations: ResourceConfigurations

    public init(stateMachineArn: StateMachineARN, name: String, definition: String, roleArn: String, type: String, updateDate: Int64,
                revisionId: String, configurations: ResourceConfigurations)
    {
        self.stateMachineArn = stateMachineArn
        self.name = name
        self.definition = definition
        self.roleArn = roleArn
        self.type = type
        self.updateDate = updateDate
        self.revisionId = revisionId
        self.configurations = configurations
    }
}

public struct ValidateDefinitionInput: Sendable {
    public var definition: String
    public var type: String
    /// `ERROR` (default) or `WARNING`: the least severe diagnostics to report.
    public var severity: String
    public var maxResults: Int

    public init(definition: String, type: String = "STANDARD", severity: String = "ERROR", maxResults: Int = 100) {
        self.definition = definition
        self.type = type
        self.severity = severity
        self.maxResults = maxResults
    }
}

public struct ValidateDefinitionOutput: Sendable {
    public var isValid: Bool
    public var diagnostics: [Diagnostic]
    public var truncated: Bool

    public init(isValid: Bool, diagnostics: [Diagnostic], truncated: Bool) {
        self.isValid = isValid
        self.diagnostics = diagnostics
        self.truncated = truncated
    }
}

// MARK: Versions and aliases

public struct VersionListItem: Sendable, Equatable {
    public var stateMachineVersionArn: StateMachineARN
    public var creationDate: Int64

    public init(stateMachineVersionArn: StateMachineARN, creationDate: Int64) {
        self.stateMachineVersionArn = stateMachineVersionArn
        self.creationDate = creationDate
    }
}

/// An alias's route: a version and its share of the starts.
public struct AliasRoute: Sendable, Equatable {
    public var stateMachineVersionArn: StateMachineARN
    public var weight: Int

    public init(stateMachineVersionArn: StateMachineARN, weight: Int) {
        self.stateMachineVersionArn = stateMachineVersionArn
        self.weight = weight
    }
}

public struct CreateAliasInput: Sendable {
    public var name: String
    public var description: String?
    public var routes: [AliasRoute]

    public init(name: String, description: String?, routes: [AliasRoute]) {
        self.name = name
        self.description = description
        self.routes = routes
    }
}

public struct AliasDescription: Sendable, Equatable {
    public var stateMachineAliasArn: StateMachineARN
    public var name: String
    public var description: String?
    public var routes: [AliasRoute]
    public var creationDate: Int64
    public var updateDate: Int64?

    public init(stateMachineAliasArn: StateMachineARN, name: String, description: String?, routes: [AliasRoute], creationDate: Int64,
                updateDate: Int64?)
    {
        self.stateMachineAliasArn = stateMachineAliasArn
        self.name = name
        self.description = description
        self.routes = routes
        self.creationDate = creationDate
        self.updateDate = updateDate
    }
}

public struct AliasListItem: Sendable, Equatable {
    public var stateMachineAliasArn: StateMachineARN
    public var creationDate: Int64

    public init(stateMachineAliasArn: StateMachineARN, creationDate: Int64) {
        self.stateMachineAliasArn = stateMachineAliasArn
        self.creationDate = creationDate
    }
}

// MARK: Activities

public struct ActivityDescription: Sendable, Equatable {
    public var activityArn: ActivityARN
    public var name: String
    public var creationDate: Int64
    public var encryptionConfiguration: String?

    public init(activityArn: ActivityARN, name: String, creationDate: Int64, encryptionConfiguration: String?) {
        self.activityArn = activityArn
        self.name = name
        self.creationDate = creationDate
        self.encryptionConfiguration = encryptionConfiguration
    }
}

/// A task an activity worker took (GetActivityTask).
public struct ActivityTask: Sendable, Equatable {
    public var taskToken: TaskToken
    public var input: JSON

    public init(taskToken: TaskToken, input: JSON) {
        self.taskToken = taskToken
        self.input = input
    }
}
