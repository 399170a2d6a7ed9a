import ArgumentParser
import CommandSupport
import JSONata
import StatesLanguage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `stepline-bench jsonata`: times JSONata expressions (used by `Benchmarks/jsonata/run.sh`
/// with a release build).
struct BenchJSONataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonata",
        abstract: "Evaluations per second of each expression in a JSON list [{name, expr}] against one input."
    )

    @Option(help: "The expression list (JSON: [{\"name\", \"expr\"}]).")
    var expressions: String

    @Option(help: "The input document (JSON file).")
    var data: String

    @Option(help: "Seconds per expression.")
    var seconds: Double = 1

    func run() throws {
        let list = try JSON.parse(try InputFiles.readArgument("@" + expressions))
        let input = JSONataValue(try JSON.parse(try InputFiles.readArgument("@" + data)))
        let options = JSONataOptions.stepFunctions(random: RandomSource(seed: 1))
        for item in list.arrayValue ?? [] {
            guard let name = item["name"]?.stringValue, let source = item["expr"]?.stringValue else { continue }
            let e = try JSONataExpression(source)
            let result = try e.evaluate(prepared: input, options: options)
            var n = 0
            let start = wallClockMilliseconds()
            var elapsed = 0.0
            repeat {
                for _ in 0..<16 { _ = try e.evaluate(prepared: input, options: options) }
                n += 16
                elapsed = (wallClockMilliseconds() - start) / 1000
            } while elapsed < seconds || n < 3
            var out = JSONObject()
            out["name"] = .string(name)
            out["evals_per_sec"] = .double(Double(n) / elapsed)
            out["result"] = result ?? .null
            print(JSON.object(out).serialized())
            fflush(nil)
        }
    }
}
