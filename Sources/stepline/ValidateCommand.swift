import ArgumentParser
import CommandSupport
import Foundation
import StatesLanguage

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate Amazon States Language definitions, with AWS's diagnostics.",
        discussion: "Exit status: 0 when every definition is valid, 1 when one has errors, 2 when a file cannot be read.")

    @Argument(help: "Definition files (.asl.json).")
    var files: [String]

    @Option(help: "The state machine type the definitions are checked for: STANDARD or EXPRESS.")
    var type: String = "STANDARD"

    @Flag(help: "Print ValidateStateMachineDefinition's response shape as JSON.")
    var json = false

    func run() throws {
        guard let machineType = DefinitionOptions.MachineType(rawValue: type) else {
            writeStderr("error: --type must be STANDARD or EXPRESS")
            throw ExitCode(ExitStatus.badInput)
        }
        var failed = false
        for file in files {
            let text: String
            do { text = try InputFiles.readText(file) } catch {
                writeStderr("error: \(error)")
                throw ExitCode(ExitStatus.badInput)
            }
            let diagnostics = StateMachineDefinition.validate(text, options: DefinitionOptions(machineType: machineType))
            let errors = diagnostics.filter { $0.severity == .error }
            if !errors.isEmpty { failed = true }
            if json {
                var items: [JSON] = []
                for d in diagnostics {
                    var o = JSONObject()
                    o["severity"] = .string(d.severity.rawValue)
                    o["code"] = .string(d.code)
                    o["message"] = .string(d.message)
                    if let l = d.location { o["location"] = .string(l) }
                    items.append(.object(o))
                }
                let response: JSON = ["result": .string(errors.isEmpty ? "OK" : "FAIL"), "diagnostics": .array(items), "truncated": false]
                print(files.count > 1 ? "\(file): \(response.serialized())" : response.prettyPrinted())
            } else if diagnostics.isEmpty {
                print("\(file): OK")
            } else {
                for d in diagnostics { print("\(file): \(d.severity.rawValue): \(d)") }
            }
        }
        if failed { throw ExitCode(ExitStatus.failed) }
    }
}
