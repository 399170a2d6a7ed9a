#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
@testable import StatesLanguage

/// The AWS-recorded conformance cases in `../shared/conformance/asl/cases` (relative to the
/// package root, or under `STEPLINE_SHARED_DIR`), read once.
enum Corpus {
    struct Case: Sendable, CustomStringConvertible {
        let id: String
        let json: JSON
        var description: String { id }
        var category: String { json["category"]?.stringValue ?? "" }
        var kind: String { json["kind"]?.stringValue ?? "" }
        var definition: JSON? { json["definition"] }
        var input: JSON { json["input"] ?? .null }
        var expected: JSON { json["expected"] ?? .null }
    }

    static let directory: String = SharedCorpus.root.appendingPathComponent("conformance/asl/cases").path

    static var isAvailable: Bool { SharedCorpus.directory("conformance/asl/cases") != nil }

    static let all: [Case] = {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasSuffix(".json") { names.append(name) }
        }
        return names.sorted().compactMap { name in
            guard let text = readFile(directory + "/" + name), let json = try? JSON.parse(text) else { return nil }
            return Case(id: json["id"]?.stringValue ?? name, json: json)
        }
    }()

    static func cases(_ category: String) -> [Case] { all.filter { $0.category == category } }

    static func named(_ idPrefix: String) -> Case? { all.first { $0.id.hasPrefix(idPrefix) } }

    static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
