import StatesLanguage

/// DescribeStateMachine's `variableReferences`: for each state that reads workflow
/// variables, their names.
///
/// AWS behaviour: states that read no variable are left out, and so is the member when no
/// state reads one. `$states` (JSONata's reserved variable) is not a workflow variable.
enum VariableReferences {
    static func of(definitionText: String, type: String) -> JSON? {
        guard let d = try? StateMachineDefinition.parse(
            definitionText, options: DefinitionOptions(machineType: type == "EXPRESS" ? .express : .standard))
        else { return nil }
        return of(d)
    }

    static func of(_ d: StateMachineDefinition) -> JSON? {
        var out = JSONObject()
        for state in d.states {
            var names = Set<String>()
            collect(state, into: &names)
            names.remove("states")
            guard !names.isEmpty else { continue }
            out[state.name] = .array(names.sorted().map { .string($0) })
        }
        return out.isEmpty ? nil : .object(out)
    }

    private static func collect(_ state: State, into names: inout Set<String>) {
        func path(_ p: PathField?) { if case .path(let e)? = p { names.formUnion(e.variableNames) } }
        func template(_ t: PayloadTemplate?) { if let t { names.formUnion(t.variableNames) } }
        func jsonata(_ t: JSONataTemplate?) { if let t { names.formUnion(t.referencedVariables) } }
        func assign(_ a: Assignment?) {
            switch a {
            case .jsonPath(let t, _)?: template(t)
            case .jsonata(let t, _)?: jsonata(t)
            case nil: break
            }
        }
        func number(_ n: DynamicNumber?) {
            switch n {
            case .path(let e)?: names.formUnion(e.variableNames)
            case .jsonata(let t)?: jsonata(t)
            default: break
            }
        }
        let io = state.io
        path(io.inputPath)
        path(io.outputPath)
        template(io.parameters)
        template(io.resultSelector)
        jsonata(io.arguments)
        jsonata(io.output)
        assign(io.assign)
        for c in state.catchers { assign(c.assign); jsonata(c.output) }
        switch state.kind {
        case .choice(let c):
            for b in c.choices {
                switch b.condition {
                case .rule(let r): names.formUnion(r.variableNames)
                case .jsonata(let t): jsonata(t)
                }
                assign(b.assign)
                jsonata(b.output)
            }
        case .wait(let w):
            switch w.duration {
            case .secondsPath(let e), .timestampPath(let e): names.formUnion(e.variableNames)
            case .secondsExpression(let t), .timestampExpression(let t): jsonata(t)
            default: break
            }
        case .fail(let f):
            for x in [f.error, f.cause] {
                switch x {
                case .path(let e)?: names.formUnion(e.variableNames)
                case .jsonata(let t)?: jsonata(t)
                default: break
                }
            }
        case .task(let t):
            number(t.timeoutSeconds)
            number(t.heartbeatSeconds)
            switch t.credentials {
            case .jsonPath(let p)?: template(p)
            case .jsonata(let j)?: jsonata(j)
            case nil: break
            }
        case .map(let m):
            if let p = m.itemsPath { names.formUnion(p.variableNames) }
            jsonata(m.items)
            switch m.itemSelector {
            case .jsonPath(let p)?: template(p)
            case .jsonata(let j)?: jsonata(j)
            case nil: break
            }
            number(m.maxConcurrency)
            number(m.toleratedFailureCount)
            number(m.toleratedFailurePercentage)
        case .pass, .succeed, .parallel:
            break
        }
    }
}
