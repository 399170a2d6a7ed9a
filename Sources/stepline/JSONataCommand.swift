import ArgumentParser
import CommandSupport
import JSONata
import StatesLanguage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `stepline jsonata EXPR [--input JSON|@FILE]`: evaluates one JSONata expression, as `jq`
/// does for its language.
///
/// The result is printed as compact JSON on one line. An undefined result prints nothing
/// and exits 0 (like `jq` for an empty output); `--fail-undefined` makes it exit 1. Errors
/// print `CODE: message` on stderr and exit 1; bad input exits 2.
struct JSONataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonata",
        abstract: "Evaluate a JSONata expression against a JSON input."
    )

    @Argument(help: "The JSONata expression.")
    var expression: String

    @Option(help: "The input document: JSON text, or @FILE to read a file ('@-' for stdin). Absent: undefined input.")
    var input: String?

    @Option(name: .customLong("bind"), help: "A variable binding NAME=JSON (repeatable), read as $NAME.")
    var bindings: [String] = []

    @Flag(help: "Register the Step Functions functions ($partition, $range, $hash, $random, $uuid, $parse).")
    var stepFunctions = false

    @Flag(help: "Pretty-print the result.")
    var pretty = false

    @Flag(help: "Exit 1 when the result is undefined.")
    var failUndefined = false

    func run() throws {
        var doc: JSON?
        var vars: [String: JSON] = [:]
        do {
            if let input { doc = try JSON.parse(try InputFiles.readArgument(input)) }
            for b in bindings {
                guard let eq = b.firstIndex(of: "=") else { throw ValidationError("--bind expects NAME=JSON, got \(b)") }
                vars[String(b[..<eq])] = try JSON.parse(try InputFiles.readArgument(String(b[b.index(after: eq)...])))
            }
        } catch let e as JSONParseError {
            FileHandleStderr.write("stepline jsonata: invalid JSON input: \(e)\n")
            throw ExitCode(2)
        }
        var options = JSONataOptions(timeLimitMilliseconds: 10_000, clock: wallClockMilliseconds)
        options.stepFunctionsFunctions = stepFunctions
        do {
            let e = try JSONataExpression(expression)
            if let r = try e.evaluate(input: doc, bindings: vars, options: options) {
                print(pretty ? r.prettyPrinted() : r.serialized())
            } else if failUndefined {
                throw ExitCode(1)
            }
        } catch let error as JSONataError {
            FileHandleStderr.write("\(error.code): \(error.message)\n")
            throw ExitCode(1)
        }
    }
}

enum FileHandleStderr {
    static func write(_ s: String) {
        let bytes = Array(s.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
