import ArgumentParser
import CommandSupport
import JSONata
import StatesLanguage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `stepline conformance jsonata`: evaluates JSONata reference-suite cases.
///
/// Input lines are corpus cases without `expected`: `{"id", "expr", "data"?, "bindings",
/// "timelimit"?, "depth"?}` (no `data` means undefined input). Output lines are
/// `{"id", "result": v}`, `{"id", "undefined": true}` or `{"id", "error": code, "message"}`.
struct ConformanceJSONataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonata",
        abstract: "Evaluate JSONata conformance cases (one JSON case per stdin line)."
    )

    func run() throws {
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            print(ConformanceJSONataCommand.answer(line).serialized())
            fflush(nil)
        }
    }

    /// The answer object for one case line.
    static func answer(_ line: String) -> JSON {
        var out = JSONObject()
        let c: JSON
        do {
            // The suite's strings are JavaScript's and may hold a lone surrogate
            // (function-encodeUrl/case002): it reads as U+FFFD.
            c = try JSON.parse(line, invalidUTF8: .replace)
        } catch {
            out["error"] = "bad-case"
            out["message"] = .string("\(error)")
            return .object(out)
        }
        if let id = c["id"] { out["id"] = id }
        guard let expr = c["expr"]?.stringValue else {
            out["error"] = "bad-case"
            return .object(out)
        }
        var bindings: [String: JSON] = [:]
        if let b = c["bindings"]?.objectValue {
            for (k, v) in b { bindings[k] = v }
        }
        var options = JSONataOptions(clock: wallClockMilliseconds)
        options.maxDepth = 1000
        if let depth = c["depth"]?.integerValue { options.maxDepth = Int(depth) }
        if let limit = c["timelimit"]?.doubleValue { options.timeLimitMilliseconds = limit }
        do {
            let e = try JSONataExpression(expr)
            let input: JSON? = c.objectValue?.contains("data") == true ? c["data"] : nil
            if let r = try e.evaluate(input: input, bindings: bindings, options: options) {
                out["result"] = r
            } else {
                out["undefined"] = true
            }
        } catch {
            out["error"] = .string(error.code)
            out["message"] = .string(error.message)
            if let t = error.token { out["token"] = .string(t) }
        }
        return .object(out)
    }
}
