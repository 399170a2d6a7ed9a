/// A definition that Step Functions would reject, with every finding.
public struct InvalidDefinition: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    /// AWS's `InvalidDefinition` message:
    /// `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: ... at /States/X/Next'`.
    public var message: String {
        let errors = diagnostics.filter { $0.severity == .error }
        return "Invalid State Machine Definition: '\(errors.map(\.description).joined(separator: ", "))'"
    }

    public var description: String { message }
}

/// Options that change what a definition may contain.
public struct DefinitionOptions: Sendable {
    public enum MachineType: String, Sendable { case standard = "STANDARD", express = "EXPRESS" }
    public var machineType: MachineType

    public init(machineType: MachineType = .standard) { self.machineType = machineType }
}

extension StateMachineDefinition {
    /// Parses and validates a definition given as text.
    ///
    /// - Throws: `InvalidDefinition` with AWS's diagnostics (`INVALID_JSON_DESCRIPTION` for
    ///   malformed JSON, `SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`, ...).
    public static func parse(_ text: String, options: DefinitionOptions = .init()) throws(InvalidDefinition) -> StateMachineDefinition {
        let json: JSON
        do {
            json = try JSON.parse(text)
        } catch {
            if text.allSatisfy(\.isWhitespace) {
                throw InvalidDefinition([Diagnostic(code: "SCHEMA_VALIDATION_FAILED", message: "Definition must be a valid JSON object", location: nil)])
            }
            let location = error.jacksonLocation(source: text)
            throw InvalidDefinition([
                Diagnostic(code: "INVALID_JSON_DESCRIPTION", message: error.jacksonMessage(source: text), location: location)
            ])
        }
        return try parse(json: json, options: options)
    }

    /// Parses and validates a definition given as a JSON value.
    public static func parse(json: JSON, options: DefinitionOptions = .init()) throws(InvalidDefinition) -> StateMachineDefinition {
        var parser = DefinitionParser(options: options)
        guard let definition = parser.parseDefinition(json), parser.diagnostics.allSatisfy({ $0.severity != .error }) else {
            throw InvalidDefinition(parser.diagnostics)
        }
        return definition
    }

    /// Static validation without building the definition: every finding, errors and warnings.
    public static func validate(_ text: String, options: DefinitionOptions = .init()) -> [Diagnostic] {
        do {
            let definition = try parse(text, options: options)
            return DefinitionParser.warnings(for: definition)
        } catch {
            return error.diagnostics
        }
    }
}

/// Builds a `StateMachineDefinition` from JSON, collecting diagnostics as it goes.
struct DefinitionParser {
    let options: DefinitionOptions
    var diagnostics: [Diagnostic] = []
    var states: [State?] = []
    var blocks: [StateBlock?] = []

    init(options: DefinitionOptions) { self.options = options }

    static let stateTypes = ["Task", "Wait", "Pass", "Succeed", "Fail", "Choice", "Parallel", "Map"]

    mutating func report(_ message: String, at location: DefinitionLocation, code: String = "SCHEMA_VALIDATION_FAILED") {
        diagnostics.append(Diagnostic(code: code, message: message, location: location.description))
    }

    // MARK: Top level

    mutating func parseDefinition(_ json: JSON) -> StateMachineDefinition? {
        let root = DefinitionLocation()
        guard case .object(let object) = json else {
            diagnostics.append(Diagnostic(code: "SCHEMA_VALIDATION_FAILED", message: "Definition must be a valid JSON object", location: nil))
            return nil
        }
        var reader = FieldReader(object, at: root)
        let missing = ["States", "StartAt"].filter { !object.contains($0) }
        if !missing.isEmpty {
            report("These fields are required: [\(missing.joined(separator: ", "))]", at: root)
            return nil
        }
        let comment = reader.string("Comment", &diagnostics)
        let version = reader.string("Version", &diagnostics)
        if let version, version != "1.0" {
            report("The value for the field 'Version' must be '1.0'", at: root.appending("Version"))
        }
        var timeout: Int64? = nil
        if let t = reader.take("TimeoutSeconds") {
            timeout = positiveInteger(t, field: "TimeoutSeconds", at: root.appending("TimeoutSeconds"), allowZero: false)
        }
        var language = QueryLanguage.jsonPath
        if let q = reader.take("QueryLanguage") {
            language = parseQueryLanguage(q, at: root.appending("QueryLanguage")) ?? .jsonPath
        }
        let startAt = reader.take("StartAt")!
        let statesJSON = reader.take("States")!
        reportUnknown(reader)
        guard parseBlock(startAt: startAt, states: statesJSON, at: root, owner: nil, inherited: language, machineLanguage: language) != nil
        else { return nil }
        guard diagnostics.allSatisfy({ $0.severity != .error }) else { return nil }
        return StateMachineDefinition(
            source: json, comment: comment, version: version, timeoutSeconds: timeout, queryLanguage: language,
            states: states.map { $0! }, blocks: blocks.map { $0! })
    }

    mutating func parseQueryLanguage(_ json: JSON, at location: DefinitionLocation) -> QueryLanguage? {
        guard let s = json.stringValue, let q = QueryLanguage(rawValue: s) else {
            report("The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]", at: location)
            return nil
        }
        return q
    }

    // MARK: Blocks

    /// Parses a `{StartAt, States}` pair into a new block; returns its id.
    mutating func parseBlock(startAt: JSON, states statesJSON: JSON, at location: DefinitionLocation, owner: StateID?,
                             inherited: QueryLanguage, machineLanguage: QueryLanguage) -> BlockID?
    {
        guard let startName = startAt.stringValue else {
            report("Expected value of type: String", at: location.appending("StartAt"))
            return nil
        }
        guard case .object(let statesObject) = statesJSON else {
            report("Expected value of type: Object", at: location.appending("States"))
            return nil
        }
        let statesLocation = location.appending("States")
        if statesObject.isEmpty {
            report("Value cannot be empty", at: statesLocation)
            return nil
        }
        let blockID = BlockID(rawValue: blocks.count)
        blocks.append(nil)
        var ids: [String: StateID] = [:]
        var names: [String] = []
        let first = states.count
        for (name, _) in statesObject {
            if name.utf8.count > 80 || name.isEmpty {
                report("State name '\(name)' must be between 1 and 80 characters", at: statesLocation.appending(name))
            }
            ids[name] = StateID(rawValue: first + names.count)
            names.append(name)
            states.append(nil)
        }
        guard let start = ids[startName] else {
            report("Missing 'Next' target: \(startName)", at: location.appending("StartAt"), code: "MISSING_TRANSITION_TARGET")
            return nil
        }
        blocks[blockID.rawValue] = StateBlock(
            id: blockID, startAt: start, stateNames: names, stateIDs: ids, owner: owner, location: location)
        for (i, (name, json)) in statesObject.enumerated() {
            let id = StateID(rawValue: first + i)
            let at = statesLocation.appending(name)
            states[id.rawValue] = parseState(
                name: name, id: id, json: json, at: at, block: blockID, names: ids, inherited: inherited,
                machineLanguage: machineLanguage)
        }
        if diagnostics.allSatisfy({ $0.severity != .error }) {
            checkReachability(blockID, names: names, ids: ids, at: statesLocation)
        }
        return blockID
    }

    /// Every state must be reachable from StartAt, and some state must end the block.
    mutating func checkReachability(_ block: BlockID, names: [String], ids: [String: StateID], at location: DefinitionLocation) {
        guard let b = blocks[block.rawValue] else { return }
        var seen = Set<StateID>()
        var stack = [b.startAt]
        var terminal = false
        while let id = stack.popLast() {
            guard seen.insert(id).inserted, let state = states[id.rawValue] else { continue }
            for next in Self.successors(of: state) { stack.append(next) }
            switch state.kind {
            case .succeed, .fail: terminal = true
            default: if state.isEnd { terminal = true }
            }
        }
        for name in names where !seen.contains(ids[name]!) {
            report("State '\(name)' is not reachable.", at: location.appending(name), code: "UNREACHABLE_STATE")
        }
        if !terminal {
            report("No terminal state found in the state machine.", at: location, code: "NO_TERMINAL_STATE")
        }
    }

    static func successors(of state: State) -> [StateID] {
        var out: [StateID] = []
        if case .next(let n) = state.transition { out.append(n) }
        switch state.kind {
        case .choice(let c):
            out += c.choices.map(\.next)
            if let d = c.defaultState { out.append(d) }
        case .task(let t): out += t.catch.map(\.next)
        case .parallel(let p): out += p.catch.map(\.next)
        case .map(let m): out += m.catch.map(\.next)
        default: break
        }
        return out
    }

    // MARK: States

    mutating func parseState(name: String, id: StateID, json: JSON, at location: DefinitionLocation, block: BlockID,
                             names: [String: StateID], inherited: QueryLanguage, machineLanguage: QueryLanguage) -> State?
    {
        guard case .object(let object) = json else {
            report("Expected value of type: Object", at: location)
            return nil
        }
        var r = FieldReader(object, at: location)
        guard let typeJSON = r.take("Type") else {
            report("These fields are required: [Type]", at: location)
            return nil
        }
        guard let type = typeJSON.stringValue, Self.stateTypes.contains(type) else {
            report("The field 'Type' should have one of these values: [\(Self.stateTypes.joined(separator: ", "))]",
                   at: location.appending("Type"))
            return nil
        }
        let comment = r.string("Comment", &diagnostics)
        var language = inherited
        if let q = r.take("QueryLanguage"), let parsed = parseQueryLanguage(q, at: location.appending("QueryLanguage")) {
            if parsed == .jsonPath, machineLanguage == .jsonata {
                report("'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine", at: location)
            }
            language = parsed
        }
        var ctx = StateContext(
            name: name, id: id, location: location, block: block, names: names, language: language,
            machineLanguage: machineLanguage)

        // Transition
        var transition = State.Transition.none
        let hasTransition = !["Choice", "Succeed", "Fail"].contains(type)
        let next = r.take("Next")
        let end = r.take("End")
        if hasTransition {
            switch (next, end) {
            case (let n?, nil):
                if let target = resolveNext(n, at: location.appending("Next"), names: names) { transition = .next(target) }
            case (nil, .bool(true)?):
                transition = .end
            case (nil, .bool(false)?), (nil, nil):
                report("These fields are required: [Next or End]", at: location)
            case (_?, _?):
                report("Only one of the following fields can be set: [Next, End]", at: location)
            case (nil, _?):
                report("Expected value of type: Boolean", at: location.appending("End"))
            }
        } else {
            if next != nil { report("The field \"Next\" is not supported by Step Functions", at: location) }
            if end != nil { report("The field \"End\" is not supported by Step Functions", at: location) }
        }

        var io = DataFlow()
        let kind: State.Kind?
        switch type {
        case "Pass": kind = parsePass(&r, &io, &ctx)
        case "Task": kind = parseTask(&r, &io, &ctx)
        case "Choice": kind = parseChoice(&r, &io, &ctx)
        case "Wait": kind = parseWait(&r, &io, &ctx)
        case "Succeed":
            parseIO(&r, &io, &ctx, inputOutputPath: true)
            kind = .succeed
        case "Fail": kind = parseFail(&r, &ctx)
        case "Parallel": kind = parseParallel(&r, &io, &ctx)
        case "Map": kind = parseMap(&r, &io, &ctx)
        default: kind = nil
        }
        reportUnknown(r)
        guard let kind else { return nil }
        return State(
            id: id, name: name, block: block, comment: comment, queryLanguage: language, transition: transition,
            kind: kind, io: io, location: location)
    }

    struct StateContext {
        let name: String
        let id: StateID
        let location: DefinitionLocation
        let block: BlockID
        let names: [String: StateID]
        let language: QueryLanguage
        let machineLanguage: QueryLanguage
        var isJSONata: Bool { language == .jsonata }
    }

    mutating func resolveNext(_ json: JSON, at location: DefinitionLocation, names: [String: StateID]) -> StateID? {
        guard let name = json.stringValue else {
            report("Expected value of type: String", at: location)
            return nil
        }
        guard let id = names[name] else {
            report("Missing 'Next' target: \(name)", at: location, code: "MISSING_TRANSITION_TARGET")
            return nil
        }
        return id
    }

    // MARK: Data flow fields

    /// Reads the data-flow fields allowed for the state type, in the state's query language.
    mutating func parseIO(_ r: inout FieldReader, _ io: inout DataFlow, _ ctx: inout StateContext,
                          inputOutputPath: Bool = false, parameters: Bool = false, resultSelector: Bool = false,
                          resultPath: Bool = false, arguments: Bool = false, assign: Bool = false, output: Bool = true)
    {
        let jsonPathFields = ["InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath"]
        if ctx.isJSONata {
            for f in jsonPathFields where r.has(f) {
                _ = r.take(f)
                report("The field '\(f)' is not supported for state type '\(ctx.location.components.last ?? "")' when QueryLanguage is JSONata", at: ctx.location)
            }
            if arguments, let a = r.take("Arguments") {
                io.arguments = jsonataTemplate(a, at: ctx.location.appending("Arguments"))
            }
            if output, let o = r.take("Output") { io.output = jsonataTemplate(o, at: ctx.location.appending("Output")) }
        } else {
            for f in ["Arguments", "Output"] where r.has(f) {
                _ = r.take(f)
                report("The field '\(f)' is not supported when QueryLanguage is JSONPath", at: ctx.location.appending(f))
            }
            if inputOutputPath {
                if let p = r.take("InputPath") { io.inputPath = pathField(p, field: "InputPath", at: ctx.location.appending("InputPath")) }
                if let p = r.take("OutputPath") { io.outputPath = pathField(p, field: "OutputPath", at: ctx.location.appending("OutputPath")) }
            }
            if parameters, let p = r.take("Parameters") {
                io.parameters = payloadTemplate(p, at: ctx.location.appending("Parameters"))
            }
            if resultSelector, let p = r.take("ResultSelector") {
                io.resultSelector = payloadTemplate(p, at: ctx.location.appending("ResultSelector"))
            }
            if resultPath, let p = r.take("ResultPath") {
                io.resultPath = resultPathField(p, at: ctx.location.appending("ResultPath"))
            }
        }
        if assign, let a = r.take("Assign") {
            io.assign = assignment(a, language: ctx.language, at: ctx.location.appending("Assign"))
        }
    }

    mutating func pathField(_ json: JSON, field: String, at location: DefinitionLocation) -> PathField? {
        if json.isNull { return .null }
        guard let text = json.stringValue else {
            report("Expected value of type: String", at: location)
            return nil
        }
        do {
            return .path(try PathExpression(text, allowIntrinsics: false))
        } catch {
            report("The value for the field '\(field)' must be a valid JSONPath", at: location)
            return nil
        }
    }

    mutating func resultPathField(_ json: JSON, at location: DefinitionLocation) -> ResultPathField? {
        if json.isNull { return .discard }
        guard let text = json.stringValue else {
            report("Expected value of type: String", at: location)
            return nil
        }
        do {
            let path = try JSONPath(text)
            guard path.isReferencePath else {
                report("The value for the field 'ResultPath' must be a valid ReferencePath", at: location)
                return nil
            }
            return .path(path)
        } catch {
            report("The value for the field 'ResultPath' must be a valid JSONPath", at: location)
            return nil
        }
    }

    mutating func payloadTemplate(_ json: JSON, at location: DefinitionLocation) -> PayloadTemplate? {
        do {
            return try PayloadTemplate(json, location: location)
        } catch {
            diagnostics += error.diagnostics
            return nil
        }
    }

    mutating func jsonataTemplate(_ json: JSON, at location: DefinitionLocation) -> JSONataTemplate? {
        compileJSONata(json, at: location)
    }

    /// Compiles a JSONata-mode value; a syntax error is reported and a literal stands in
    /// (the definition is rejected anyway).
    mutating func compileJSONata(_ json: JSON, at location: DefinitionLocation) -> JSONataTemplate {
        do {
            return try JSONataTemplate(json)
        } catch {
            var at = location
            for c in error.path { at = at.appending(c) }
            report("The value for the field '\(at.components.last ?? "")' must be a valid JSONata expression: \(error.error.code) \(error.error.message)", at: at)
            return JSONataTemplate(literal: json)
        }
    }

    mutating func assignment(_ json: JSON, language: QueryLanguage, at location: DefinitionLocation) -> Assignment? {
        guard case .object(let object) = json else {
            report("Expected value of type: Object", at: location)
            return nil
        }
        var names: [String] = []
        for (key, _) in object {
            let name = language == .jsonPath && key.hasSuffix(".$") ? String(key.dropLast(2)) : key
            if !Self.isValidVariableName(name) {
                report("The variable name '\(name)' is not valid", at: location)
            }
            names.append(name)
        }
        switch language {
        case .jsonPath:
            guard let t = payloadTemplate(json, at: location) else { return nil }
            return .jsonPath(t, names: names)
        case .jsonata:
            return .jsonata(compileJSONata(json, at: location), names: names)
        }
    }

    /// Variable names: a letter or underscore, then letters, digits and underscores; not
    /// the reserved `states`.
    static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 80, name != "states" else { return false }
        guard first == "_" || first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }

    // MARK: Numbers

    mutating func positiveInteger(_ json: JSON, field: String, at location: DefinitionLocation, allowZero: Bool) -> Int64? {
        guard let i = json.integerValue, case .int = json else {
            report("Expected value of type: Integer", at: location)
            return nil
        }
        if i < (allowZero ? 0 : 1) {
            report("The value for the field '\(field)' must be greater than or equal to \(allowZero ? 0 : 1)", at: location)
            return nil
        }
        if i > 99_999_999 {
            report("The value for the field '\(field)' must be less than or equal to 99999999", at: location)
            return nil
        }
        return i
    }

    /// A number that JSONPath states give as `Field` or `FieldPath` and JSONata states as
    /// `Field` holding a number or an expression.
    mutating func dynamicNumber(_ r: inout FieldReader, _ field: String, _ ctx: StateContext, minimum: Double,
                                maximum: Double? = nil, integer: Bool = true) -> DynamicNumber?
    {
        let literal = r.take(field)
        let path = ctx.isJSONata ? nil : r.take(field + "Path")
        if ctx.isJSONata, r.has(field + "Path") {
            _ = r.take(field + "Path")
            report("The field '\(field)Path' is not supported when QueryLanguage is JSONata", at: ctx.location)
        }
        if literal != nil, path != nil {
            report("Only one of the following fields can be set: [\(field), \(field)Path]", at: ctx.location)
            return nil
        }
        if let literal {
            let at = ctx.location.appending(field)
            if ctx.isJSONata, let s = literal.stringValue, JSONataTemplate.isExpressionString(s) {
                return .jsonata(compileJSONata(literal, at: ctx.location.appending(field)))
            }
            guard let d = literal.doubleValue, !integer || literal.integerValue != nil else {
                report("Expected value of type: \(integer ? "Integer" : "Number")", at: at)
                return nil
            }
            if d < minimum {
                report("The value for the field '\(field)' must be greater than or equal to \(Self.format(minimum))", at: at)
                return nil
            }
            if let maximum, d > maximum {
                report("The value for the field '\(field)' must be less than or equal to \(Self.format(maximum))", at: at)
                return nil
            }
            return .literal(d)
        }
        if let path {
            guard let text = path.stringValue, let p = try? PathExpression(text, allowIntrinsics: false) else {
                report("The value for the field '\(field)Path' must be a valid JSONPath", at: ctx.location.appending(field + "Path"))
                return nil
            }
            return .path(p)
        }
        return nil
    }

    static func format(_ d: Double) -> String {
        d.rounded() == d ? String(Int64(d)) : String(d)
    }

    // MARK: Retry and Catch

    mutating func parseRetry(_ r: inout FieldReader, _ ctx: StateContext) -> [Retrier] {
        guard let json = r.take("Retry") else { return [] }
        let at = ctx.location.appending("Retry")
        guard case .array(let items) = json else {
            report("Expected value of type: Array", at: at)
            return []
        }
        var out: [Retrier] = []
        for (i, item) in items.enumerated() {
            let loc = at.appending(i)
            guard case .object(let o) = item else {
                report("Expected value of type: Object", at: loc)
                continue
            }
            var fr = FieldReader(o, at: loc)
            guard let errors = errorEquals(&fr, at: loc, isLast: i == items.count - 1) else { continue }
            var retrier = Retrier(errorEquals: errors, location: loc)
            var interval: Int64 = 1, attempts = 3, rate = 2.0
            var maxDelay: Int64? = nil
            var jitter = Retrier.JitterStrategy.none
            if let v = fr.take("IntervalSeconds") {
                if let n = positiveInteger(v, field: "IntervalSeconds", at: loc.appending("IntervalSeconds"), allowZero: false) { interval = n }
            }
            if let v = fr.take("MaxAttempts") {
                if let n = positiveInteger(v, field: "MaxAttempts", at: loc.appending("MaxAttempts"), allowZero: true) { attempts = Int(n) }
            }
            if let v = fr.take("BackoffRate") {
                if let d = v.doubleValue, d >= 1.0 { rate = d } else {
                    report("The value for the field 'BackoffRate' must be greater than or equal to 1.0", at: loc.appending("BackoffRate"))
                }
            }
            if let v = fr.take("MaxDelaySeconds") {
                maxDelay = positiveInteger(v, field: "MaxDelaySeconds", at: loc.appending("MaxDelaySeconds"), allowZero: false)
            }
            if let v = fr.take("JitterStrategy") {
                if let s = v.stringValue, let j = Retrier.JitterStrategy(rawValue: s) { jitter = j } else {
                    report("The field 'JitterStrategy' should have one of these values: [FULL, NONE]", at: loc.appending("JitterStrategy"))
                }
            }
            _ = fr.string("Comment", &diagnostics)
            reportUnknown(fr)
            retrier = Retrier(
                errorEquals: errors, intervalSeconds: interval, maxAttempts: attempts, backoffRate: rate,
                maxDelaySeconds: maxDelay, jitterStrategy: jitter, location: loc)
            out.append(retrier)
        }
        return out
    }

    mutating func parseCatch(_ r: inout FieldReader, _ ctx: StateContext) -> [Catcher] {
        guard let json = r.take("Catch") else { return [] }
        let at = ctx.location.appending("Catch")
        guard case .array(let items) = json else {
            report("Expected value of type: Array", at: at)
            return []
        }
        var out: [Catcher] = []
        for (i, item) in items.enumerated() {
            let loc = at.appending(i)
            guard case .object(let o) = item else {
                report("Expected value of type: Object", at: loc)
                continue
            }
            var fr = FieldReader(o, at: loc)
            let errors = errorEquals(&fr, at: loc, isLast: i == items.count - 1)
            guard let nextJSON = fr.take("Next") else {
                report("These fields are required: [Next]", at: loc)
                continue
            }
            let next = resolveNext(nextJSON, at: loc.appending("Next"), names: ctx.names)
            var resultPath: ResultPathField? = nil
            var output: JSONataTemplate? = nil
            if ctx.isJSONata {
                if let o = fr.take("Output") { output = jsonataTemplate(o, at: loc.appending("Output")) }
                if fr.has("ResultPath") {
                    _ = fr.take("ResultPath")
                    report("The field 'ResultPath' is not supported when QueryLanguage is JSONata", at: loc)
                }
            } else if let p = fr.take("ResultPath") {
                resultPath = resultPathField(p, at: loc.appending("ResultPath"))
            }
            var assign: Assignment? = nil
            if let a = fr.take("Assign") { assign = assignment(a, language: ctx.language, at: loc.appending("Assign")) }
            _ = fr.string("Comment", &diagnostics)
            reportUnknown(fr)
            if let errors, let next {
                out.append(Catcher(errorEquals: errors, next: next, resultPath: resultPath, output: output, assign: assign, location: loc))
            }
        }
        return out
    }

    mutating func errorEquals(_ fr: inout FieldReader, at loc: DefinitionLocation, isLast: Bool) -> [String]? {
        guard let json = fr.take("ErrorEquals") else {
            report("These fields are required: [ErrorEquals]", at: loc)
            return nil
        }
        guard case .array(let items) = json, !items.isEmpty else {
            report("Value cannot be empty", at: loc.appending("ErrorEquals"))
            return nil
        }
        var names: [String] = []
        for item in items {
            guard let s = item.stringValue else {
                report("Expected value of type: String", at: loc.appending("ErrorEquals"))
                return nil
            }
            names.append(s)
        }
        if names.contains(StatesError.Name.all) {
            if names.count > 1 {
                report("States.ALL must appear alone in ErrorEquals", at: loc.appending("ErrorEquals"))
            } else if !isLast {
                report("States.ALL must appear in the last retrier or catcher", at: loc.appending("ErrorEquals"))
            }
        }
        return names
    }

    mutating func reportUnknown(_ r: FieldReader) {
        for key in r.unconsumed {
            report("The field \"\(key)\" is not supported by Step Functions", at: r.location)
        }
    }
}

/// Reads the members of one JSON object, remembering which ones were read so that the
/// rest can be reported as unsupported fields.
struct FieldReader {
    let object: JSONObject
    let location: DefinitionLocation
    private(set) var consumed: Set<String> = []

    init(_ object: JSONObject, at location: DefinitionLocation) {
        self.object = object
        self.location = location
    }

    func has(_ key: String) -> Bool { object.contains(key) }

    mutating func take(_ key: String) -> JSON? {
        guard let v = object[key] else { return nil }
        consumed.insert(key)
        return v
    }

    mutating func string(_ key: String, _ diagnostics: inout [Diagnostic]) -> String? {
        guard let v = take(key) else { return nil }
        guard let s = v.stringValue else {
            diagnostics.append(.schema("Expected value of type: String", at: location.appending(key).description))
            return nil
        }
        return s
    }

    var unconsumed: [String] { object.orderedKeys.filter { !consumed.contains($0) } }
}

extension DefinitionParser {
    /// Findings that do not reject a definition (AWS's `WARNING` severity).
    static func warnings(for definition: StateMachineDefinition) -> [Diagnostic] {
        []
    }
}
