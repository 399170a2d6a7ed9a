// Release-mode microbenchmark of the expression layer, compiled together with the
// StatesLanguage sources by scripts/bench-expressions.sh (not part of the package).
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` `iterations` times in 5 rounds and reports the best round (thread CPU time),
/// so that other processes on the machine disturb the figure less.
/// `scale` shrinks the iteration counts (e.g. 0.01 to count instructions under callgrind).
let scale: Double = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 1 : 1

func measure(_ name: String, iterations fullIterations: Int, _ body: (Int) throws -> Void) rethrows {
    let iterations = max(10, Int(Double(fullIterations) * scale))
    for i in 0..<(iterations / 10) { try body(i) }  // warm up
    var best = Double.infinity
    for _ in 0..<5 {
        let t0 = now()
        for i in 0..<(iterations / 5) { try body(i) }
        best = min(best, (now() - t0) / Double(iterations / 5))
    }
    print("\(name): \(Int(best * 1e9)) ns/op, \(Int(1 / best).formatted()) ops/s")
}

extension Int {
    func formatted() -> String {
        let s = String(self)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}

@main
struct ExpressionBenchmark {
    static func main() throws {
        // One randomness source per execution, as the engine holds it.
        let random = RandomSource(seed: 1)
        let loopTemplate = try PayloadTemplate(["i.$": "States.MathAdd($.i, 1)"], location: DefinitionLocation())
        let loopRule = try ChoiceRule(["Variable": "$.i", "NumericLessThan": 1_000_000_000, "Next": "Loop"],
                                      location: DefinitionLocation(), isTopLevel: true)
        var state: JSON = ["i": 0]
        try measure("tight loop: MathAdd template + NumericLessThan rule", iterations: 2_000_000) { _ in
            state = try loopTemplate.evaluate(in: EvaluationEnvironment(input: state, random: random))
            guard try loopRule.evaluate(in: EvaluationEnvironment(input: state, random: random)) else { fatalError() }
        }
        print("  final i = \(state["i"]!)")

        let passInput = try JSON.parse("""
            {"last":{"step":41,"at":"2024-01-01T00:00:00Z"},"customer":{"id":"c-1","name":"Ada","tier":"gold"},
             "items":[{"sku":"A-1","qty":2},{"sku":"B-2","qty":1}],"total":123.5,"notes":"x"}
            """)
        let passTemplate = try PayloadTemplate(
            ["step.$": "$.last.step", "name.$": "$.customer.name", "sku.$": "$.items[0].sku", "total.$": "$.total"],
            location: DefinitionLocation())
        var sink = 0
        try measure("pass state: template with 4 JSONPaths", iterations: 2_000_000) { _ in
            let out = try passTemplate.evaluate(in: EvaluationEnvironment(input: passInput, random: random))
            if case .object(let o) = out { sink &+= o.count }
        }

        let paths = try ["$.last.step", "$.customer.name", "$.items[0].sku", "$.total"].map { try JSONPath($0) }
        try measure("4 bare JSONPath evaluations", iterations: 4_000_000) { _ in
            for p in paths { if p.evaluate(passInput) != nil { sink &+= 1 } }
        }

        let resultPath = try JSONPath("$.result.value")
        try measure("ResultPath $.result.value into the pass input", iterations: 1_000_000) { i in
            let out = try resultPath.assigning(.int(Int64(i)), into: passInput)
            if case .object(let o) = out { sink &+= o.count }
        }

        let filter = try JSONPath("$.items[?(@.qty > 1)].sku")
        try measure("filter $.items[?(@.qty > 1)].sku", iterations: 500_000) { _ in
            if case .array(let a)? = filter.evaluate(passInput) { sink &+= a.count }
        }
        print("(sink \(sink))")
    }
}
