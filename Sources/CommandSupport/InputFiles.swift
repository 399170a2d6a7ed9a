import ArgumentParser
import Foundation
import StatesLanguage

#if canImport(Glibc)
import Glibc
#endif

/// Reading definitions, inputs and mock files given on the command line.
public enum InputFiles {
    public struct BadInput: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    public static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BadInput(description: "cannot read '\(path)': no such file or not readable")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// `JSON` literal text, or `@FILE` to read it from a file (as curl and the AWS CLI do).
    public static func jsonArgument(_ argument: String, name: String) throws -> JSON {
        let text = argument.hasPrefix("@") ? try readText(String(argument.dropFirst())) : argument
        do {
            return try JSON.parse(text)
        } catch {
            throw BadInput(description: "\(name) is not valid JSON: \(error)")
        }
    }

    /// An argument's text: as given, or with `@FILE` the file's (`@-`: standard input).
    ///
    /// - Throws: `ValidationError` (a usage error) when the file cannot be opened.
    public static func readArgument(_ text: String) throws -> String {
        guard text.hasPrefix("@") else { return text }
        let path = String(text.dropFirst())
        let f: UnsafeMutablePointer<FILE>? = path == "-" ? fdopen(0, "r") : fopen(path, "r")
        guard let f else { throw ValidationError("cannot open \(path)") }
        defer { if path != "-" { fclose(f) } }
        var bytes = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
