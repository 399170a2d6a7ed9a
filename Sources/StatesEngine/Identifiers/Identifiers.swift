/// Identifiers of Step Functions resources, typed so that an execution ARN cannot be passed
/// where a state machine's is expected.
///
/// Each wraps the text as the caller gave it: constructing one does not validate it, so
/// that the service answers a malformed one where AWS does, with AWS's error
/// (`InvalidArn`, `InvalidToken`, or a `...DoesNotExist`), not earlier with another.
public protocol StatesIdentifier: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible
where RawValue == String {
    init(_ rawValue: String)
}

extension StatesIdentifier {
    public init(rawValue: String) { self.init(rawValue) }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`, or a version (`...:NAME:1`) or alias
/// (`...:NAME:ALIAS`) of it where the action takes one.
public struct StateMachineARN: StatesIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// `arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME`, or an Express execution's
/// `...:express:MACHINE:NAME:ID`.
public struct ExecutionARN: StatesIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
public struct ActivityARN: StatesIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// `arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:ID`.
public struct MapRunARN: StatesIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// Any resource that takes tags: a state machine, an activity (AWS's `resourceArn`).
public struct ResourceARN: StatesIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

/// The token of a task that waits for an answer (`$$.Task.Token`, an activity task's).
public struct TaskToken: StatesIdentifier {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
}

extension ResourceARN {
    /// A state machine is a resource that takes tags.
    public init(_ arn: StateMachineARN) { self.init(arn.rawValue) }

    /// An activity is a resource that takes tags.
    public init(_ arn: ActivityARN) { self.init(arn.rawValue) }
}
