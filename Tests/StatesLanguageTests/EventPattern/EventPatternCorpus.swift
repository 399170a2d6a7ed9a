#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
@testable import StatesLanguage

/// The peer corpus `../shared/conformance/event-patterns/cases.jsonl`, found next to the
/// package root of whichever worktree runs the tests (or under `STEPLINE_SHARED_DIR`).
enum EventPatternCorpus {
    static let path: String = SharedCorpus.root.appendingPathComponent("conformance/event-patterns/cases.jsonl").path

    static var isAvailable: Bool { access(path, R_OK) == 0 }

    /// The case lines, as the runner sends them (the expected fields are still in; the
    /// conformance answer ignores them).
    static let lines: [String] = {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init).filter {
            !$0.allSatisfy(\.isWhitespace)
        }
    }()

    struct Case: Sendable, Identifiable, CustomTestStringConvertible {
        let id: String
        let line: String
        let json: JSON
        var expectedMatch: Bool? { json["matches"]?.boolValue }
        var expectedValid: Bool? { json["valid"]?.boolValue }
        var pattern: String? {
            if let text = json["pattern_text"]?.stringValue { return text }
            return (try? JSON.rawMembers(ofObject: line))?.last { $0.key == "pattern" }?.text
        }
        var event: String? { (try? JSON.rawMembers(ofObject: line))?.last { $0.key == "event" }?.text }
        var testDescription: String { id }
    }

    static let cases: [Case] = lines.compactMap { line in
        guard let json = try? JSON.parse(line), let id = json["id"]?.stringValue else { return nil }
        return Case(id: id, line: line, json: json)
    }
}
