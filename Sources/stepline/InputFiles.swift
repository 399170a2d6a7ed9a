import Foundation
import StatesLanguage

/// Reading definitions, inputs and mock files given on the command line.
enum InputFiles {
    struct BadInput: Error, CustomStringConvertible {
        var description: String
    }

    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BadInput(description: "cannot read '\(path)': no such file or not readable")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `JSON` literal text, or `@FILE` to read it from a file (as curl and the AWS CLI do).
    static func jsonArgument(_ argument: String, name: String) throws -> JSON {
        let text = argument.hasPrefix("@") ? try readText(String(argument.dropFirst())) : argument
        do {
            return try JSON.parse(text)
        } catch {
            throw BadInput(description: "\(name) is not valid JSON: \(error)")
        }
    }
}

/// Exit codes shared by the commands: 0 success, 1 the thing checked failed, 2 bad input.
enum ExitStatus {
    static let failed: Int32 = 1
    static let badInput: Int32 = 2
}

func writeStderr(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
