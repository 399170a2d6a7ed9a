/// One state of a definition. A class, because the engine looks states up on every
/// transition and a shared reference costs one retain where a copy costs dozens.
public final class State: Sendable {
    public let id: StateID
    public let name: String
    public let block: BlockID
    public let comment: String?
    /// The effective query language (the state's own, else the machine's).
    public let queryLanguage: QueryLanguage
    public let transition: Transition
    public let kind: Kind
    /// Input and output processing (JSONPath: InputPath, Parameters, ResultSelector,
    /// ResultPath, OutputPath; JSONata: Arguments, Output) and `Assign`.
    public let io: DataFlow
    public let location: DefinitionLocation
    /// Retry and Catch of Task, Parallel and Map states (empty for the others).
    public let retriers: [Retrier]
    public let catchers: [Catcher]
    /// Whether evaluating this state's JSONPath fields can read the context object (`$$`).
    public let referencesContext: Bool

    init(id: StateID, name: String, block: BlockID, comment: String?, queryLanguage: QueryLanguage, transition: Transition,
         kind: Kind, io: DataFlow, location: DefinitionLocation)
    {
        self.id = id
        self.name = name
        self.block = block
        self.comment = comment
        self.queryLanguage = queryLanguage
        self.transition = transition
        self.kind = kind
        self.io = io
        self.location = location
        switch kind {
        case .task(let t): (retriers, catchers) = (t.retry, t.catch)
        case .parallel(let p): (retriers, catchers) = (p.retry, p.catch)
        case .map(let m): (retriers, catchers) = (m.retry, m.catch)
        default: (retriers, catchers) = ([], [])
        }
        referencesContext = queryLanguage == .jsonata || State.readsContext(kind: kind, io: io)
    }

    private static func readsContext(kind: Kind, io: DataFlow) -> Bool {
        var reads = false
        func path(_ p: PathField?) { if case .path(let e)? = p, e.referencesContext { reads = true } }
        path(io.inputPath)
        path(io.outputPath)
        if io.parameters?.referencesContext == true || io.resultSelector?.referencesContext == true { reads = true }
        if case .jsonPath(let t, _)? = io.assign, t.referencesContext { reads = true }
        func number(_ n: DynamicNumber?) { if case .path(let e)? = n, e.referencesContext { reads = true } }
        switch kind {
        case .choice(let c):
            for b in c.choices {
                if case .rule(let r) = b.condition, r.referencesContext { reads = true }
                if case .jsonPath(let t, _)? = b.assign, t.referencesContext { reads = true }
            }
        case .wait(let w):
            switch w.duration {
            case .secondsPath(let e), .timestampPath(let e): if e.referencesContext { reads = true }
            default: break
            }
        case .fail(let f):
            for x in [f.error, f.cause] { if case .path(let e)? = x, e.referencesContext { reads = true } }
        case .task(let t):
            number(t.timeoutSeconds)
            number(t.heartbeatSeconds)
            if case .jsonPath(let c)? = t.credentials, c.referencesContext { reads = true }
            for c in t.catch { if case .jsonPath(let a, _)? = c.assign, a.referencesContext { reads = true } }
        case .map(let m):
            if m.itemsPath?.referencesContext == true { reads = true }
            if case .jsonPath(let s)? = m.itemSelector, s.referencesContext { reads = true }
            number(m.maxConcurrency)
            number(m.toleratedFailureCount)
            number(m.toleratedFailurePercentage)
            for c in m.catch { if case .jsonPath(let a, _)? = c.assign, a.referencesContext { reads = true } }
        case .parallel(let p):
            for c in p.catch { if case .jsonPath(let a, _)? = c.assign, a.referencesContext { reads = true } }
        case .pass, .succeed:
            break
        }
        return reads
    }

    /// The state's type name as AWS spells it in history event types (`Pass`, `Task`, ...).
    public var typeName: String { kind.typeName }

    public var isEnd: Bool { if case .end = transition { true } else { false } }

    public enum Transition: Sendable {
        case next(StateID)
        case end
        /// Choice, Succeed and Fail states have neither `Next` nor `End`.
        case none
    }

    public enum Kind: Sendable {
        case pass(PassState)
        case task(TaskState)
        case choice(ChoiceState)
        case wait(WaitState)
        case succeed
        case fail(FailState)
        case parallel(ParallelState)
        case map(MapState)

        public var typeName: String {
            switch self {
            case .pass: "Pass"
            case .task: "Task"
            case .choice: "Choice"
            case .wait: "Wait"
            case .succeed: "Succeed"
            case .fail: "Fail"
            case .parallel: "Parallel"
            case .map: "Map"
            }
        }
    }
}

/// `InputPath` or `OutputPath`: absent means `$`; JSON `null` means `{}`.
public enum PathField: Sendable {
    case path(PathExpression)
    case null
}

/// `ResultPath`: absent means `$`; JSON `null` discards the result.
public enum ResultPathField: Sendable {
    case path(JSONPath)
    case discard
}

/// The data-flow fields of a state. Which ones a state may have depends on its type and
/// query language; the parser enforces that.
public struct DataFlow: Sendable {
    // JSONPath
    public var inputPath: PathField?
    public var parameters: PayloadTemplate?
    public var resultSelector: PayloadTemplate?
    public var resultPath: ResultPathField?
    public var outputPath: PathField?
    // JSONata
    public var arguments: JSONataTemplate?
    public var output: JSONataTemplate?
    // Both
    public var assign: Assignment?

    public init() {}
}

/// A state's `Assign` block.
public enum Assignment: Sendable {
    /// JSONPath mode: a payload template whose keys are variable names (`.$` for paths).
    case jsonPath(PayloadTemplate, names: [String])
    /// JSONata mode: a template object; values may be `{% %}` expressions.
    case jsonata(JSONataTemplate, names: [String])

    public var names: [String] {
        switch self {
        case .jsonPath(_, let n), .jsonata(_, let n): n
        }
    }
}

// MARK: - State types

public struct PassState: Sendable {
    /// `Result`: the fixed result (JSONPath mode).
    public let result: JSON?
}

public struct ChoiceState: Sendable {
    public let choices: [ChoiceBranch]
    public let defaultState: StateID?
}

/// One entry of `Choices`: a boolean rule (JSONPath) or `Condition` (JSONata), the target,
/// and the entry's own `Assign`/`Output` (JSONata).
public struct ChoiceBranch: Sendable {
    public enum Condition: Sendable {
        case rule(ChoiceRule)
        case jsonata(JSONataTemplate)
    }
    public let condition: Condition
    public let next: StateID
    public let assign: Assignment?
    public let output: JSONataTemplate?
    public let location: DefinitionLocation
}

public struct WaitState: Sendable {
    public enum Duration: Sendable {
        case seconds(Int64)
        case timestamp(Timestamp, text: String)
        case secondsPath(PathExpression)
        case timestampPath(PathExpression)
        /// JSONata `Seconds` / `Timestamp` written as an expression.
        case secondsExpression(JSONataTemplate)
        case timestampExpression(JSONataTemplate)
    }
    public let duration: Duration
}

public struct FailState: Sendable {
    public enum Text: Sendable {
        case literal(String)
        case path(PathExpression)
        case jsonata(JSONataTemplate)
    }
    public let error: Text?
    public let cause: Text?
}

/// A number field that may be given literally, by a path (JSONPath `...Path` fields), or by
/// a JSONata expression.
public enum DynamicNumber: Sendable {
    case literal(Double)
    case path(PathExpression)
    case jsonata(JSONataTemplate)
}

public struct TaskState: Sendable {
    public let resource: TaskResource
    public let timeoutSeconds: DynamicNumber?
    public let heartbeatSeconds: DynamicNumber?
    public let retry: [Retrier]
    public let `catch`: [Catcher]
    /// `Credentials`: a payload template (JSONPath) or a JSONata template.
    public let credentials: Credentials?

    public enum Credentials: Sendable {
        case jsonPath(PayloadTemplate)
        case jsonata(JSONataTemplate)
    }
}

public struct ParallelState: Sendable {
    public let branches: [BlockID]
    public let retry: [Retrier]
    public let `catch`: [Catcher]
}

public struct MapState: Sendable {
    public enum Mode: String, Sendable { case inline = "INLINE", distributed = "DISTRIBUTED" }
    public enum ExecutionType: String, Sendable { case standard = "STANDARD", express = "EXPRESS" }

    public let processor: BlockID
    public let mode: Mode
    public let executionType: ExecutionType?
    /// Whether the processor was written as the legacy `Iterator`.
    public let usesLegacyIterator: Bool
    /// JSONPath `ItemsPath`.
    public let itemsPath: PathExpression?
    /// JSONata `Items` (an array or an expression).
    public let items: JSONataTemplate?
    /// `ItemSelector`, or the legacy `Parameters`.
    public let itemSelector: ItemSelector?
    public let maxConcurrency: DynamicNumber?
    public let toleratedFailurePercentage: DynamicNumber?
    public let toleratedFailureCount: DynamicNumber?
    public let label: String?
    public let itemReader: JSON?
    public let itemBatcher: JSON?
    public let resultWriter: JSON?
    public let retry: [Retrier]
    public let `catch`: [Catcher]

    public enum ItemSelector: Sendable {
        case jsonPath(PayloadTemplate)
        case jsonata(JSONataTemplate)
    }
}
