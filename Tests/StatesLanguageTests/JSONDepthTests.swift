import Foundation
import Testing
@testable import StatesLanguage

/// The parser bounds nesting with a clear error; the walks over a value (writing, sizes,
/// equality, hashing, copies) survive any depth, the parser's maximum and the deeper values
/// a workflow builds, on a small stack in a debug build (issue 14, item 1).
@Suite struct JSONDepthTests {
    /// Runs `body` on a thread with a stack of `bytes` (a daemon's threads have 8 MiB).
    static func onStack(of bytes: Int, _ body: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            body()
            done.signal()
        }
        thread.stackSize = bytes
        thread.start()
        done.wait()
        // Freeing a deep value recurses in the Swift runtime, once per level: the closure, and
        // the values it holds, are released here, on the caller's stack, not on the small one.
        while !thread.isFinished { usleep(1_000) }
        withExtendedLifetime(thread) {}
    }

    static func arrays(_ depth: Int, innermost: JSON = 1) -> JSON {
        var v = innermost
        for _ in 0..<depth { v = .array([v]) }
        return v
    }

    static func objects(_ depth: Int, innermost: JSON = 1) -> JSON {
        var v = innermost
        for i in 0..<depth { v = .object(JSONObject([("k", v), ("i", .int(Int64(i)))])) }
        return v
    }

    @Test(arguments: [513, 100_000])
    func parserStopsWithTheDepth(_ depth: Int) {
        for text in [String(repeating: "[", count: depth), String(repeating: #"{"a":"#, count: depth)] {
            #expect {
                try JSON.parse(text)
            } throws: { error in
                let e = error as! JSONParseError
                return e.message == "Document nesting depth (513) exceeds the maximum allowed (512)" && e.line == 1
            }
        }
    }

    /// Every walk of `value`, checked against what the recursive walks say of `reference`
    /// (the same value, or one known to be equal).
    static func checkWalks(_ value: JSON, expected text: String, different: JSON) {
        #expect(value.serialized() == text)
        #expect(value.serializedSize == text.utf8.count)
        #expect(!value.serializedSizeExceeds(text.utf8.count))
        #expect(value.serializedSizeExceeds(text.utf8.count - 1))
        var memo = JSONSizeMemo()
        #expect(value.serializedSizeExceeds(text.utf8.count - 1, memo: &memo))
        let copy = value
        #expect(copy == value && copy.hashValue == value.hashValue)
        #expect(value != different)
        var mutated = value
        if case .array(var a) = mutated { a.append(.null); mutated = .array(a) }
        if case .object(var o) = mutated { o["extra"] = .null; mutated = .object(o) }
        #expect(mutated != value && value.serialized() == text)
    }

    @Test func walksAtTheParsersMaximumDepth() throws {
        let arrays = String(repeating: "[", count: 512) + "1" + String(repeating: "]", count: 512)
        let objects = String(repeating: #"{"a":"#, count: 511) + "[1]" + String(repeating: "}", count: 511)
        let a = try JSON.parse(arrays), a2 = try JSON.parse(arrays.replacingOccurrences(of: "1", with: "2"))
        let o = try JSON.parse(objects), o2 = try JSON.parse(objects.replacingOccurrences(of: "1", with: "2"))
        // Before, writing alone took about 0.9 MiB of a debug build's stack at this depth, and
        // equality 1.4 MiB.
        Self.onStack(of: 256 * 1024) {
            Self.checkWalks(a, expected: arrays, different: a2)
            Self.checkWalks(o, expected: objects, different: o2)
        }
    }

    @Test func prettyPrintingPastTheRecursionDepthIsTheSame() {
        // 60 levels: the last 12 are printed by the iterative walk.
        let n = 60
        func indent(_ level: Int) -> String { String(repeating: "  ", count: level) }
        var lines = (0..<n).map { indent($0) + "[" } + [indent(n) + "[]"]
        lines += (0..<n).reversed().map { indent($0) + "]" }
        #expect(Self.arrays(n, innermost: .array([])).prettyPrinted() == lines.joined(separator: "\n"))
        var chain: JSON = ["x": 1, "y": [true, nil]]
        for _ in 0..<n { chain = .object(JSONObject([("k", chain)])) }
        lines = (0..<n).map { ($0 == 0 ? "" : indent($0) + #""k": "#) + "{" }
        lines += [indent(n) + #""k": {"#, indent(n + 1) + #""x": 1,"#, indent(n + 1) + #""y": ["#, indent(n + 2) + "true,",
                  indent(n + 2) + "null", indent(n + 1) + "]", indent(n) + "}"]
        lines += (0..<n).reversed().map { indent($0) + "}" }
        #expect(chain.prettyPrinted() == lines.joined(separator: "\n"))
    }

    @Test func walksOfValuesDeeperThanTheParserAccepts() {
        // A loop whose Pass state wraps its input builds such values; the size check of the
        // state output overflowed the stack at about 5,000 levels.
        let depth = 5_000
        let a = Self.arrays(depth), a2 = Self.arrays(depth, innermost: 2)
        let o = Self.objects(depth), o2 = Self.objects(depth, innermost: 2)
        let arraysText = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        let objectsText = o.serialized()
        let swapped = JSON.object(JSONObject([("i", .int(Int64(depth - 1))), ("k", Self.objects(depth - 1))]))
        Self.onStack(of: 256 * 1024) {
            Self.checkWalks(a, expected: arraysText, different: a2)
            Self.checkWalks(o, expected: objectsText, different: o2)
            #expect(objectsText.hasPrefix(#"{"k":{"k":"#) && objectsText.hasSuffix(#","i":4998},"i":4999}"#))
            // Objects compare whatever their key order, deep down too.
            #expect(swapped == o && swapped.hashValue == o.hashValue)
        }
        // The indentation grows with the depth: a thousand levels are enough for a check.
        let a1000 = Self.arrays(1_000), o1000 = Self.objects(1_000)
        Self.onStack(of: 256 * 1024) {
            #expect(a1000.prettyPrinted().split(separator: "\n").count == 2 * 1_000 + 1)
            #expect(o1000.prettyPrinted().hasPrefix("{\n  \"k\": {\n    \"k\": {"))
        }
    }
}
