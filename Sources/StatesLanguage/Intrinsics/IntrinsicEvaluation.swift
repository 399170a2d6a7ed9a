/// Evaluation of the intrinsic functions, with AWS's argument rules.
///
/// Failures are `States.IntrinsicFailure` with a cause naming the function and the
/// problem. AWS's exact cause texts for intrinsic failures are not in the conformance
/// corpus; the wording here is ours and marked as such in the tests.
extension IntrinsicCall {
    /// Evaluates the call.
    ///
    /// - Parameter field: the template field being evaluated (e.g. `value.$`), used in the
    ///   cause when a path argument selects nothing; nil outside templates.
    /// - Throws: `States.IntrinsicFailure` for invalid arguments; `States.Runtime` when a
    ///   path argument selects nothing.
    func evaluate(in env: EvaluationEnvironment, field: String?) throws(StatesError) -> JSON {
        switch function {
        case .format:
            return .string(try format(in: env, field: field))

        case .stringToJson:
            let text = try stringArgument(0, in: env, field: field)
            if text.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
                // AWS behaviour: an empty or blank string gives null (cases
                // `intrinsics.*test_string_to_json__exec_hist_resp_0`, `_1`).
                return .null
            }
            do {
                return try JSON.parse(text)
            } catch {
                throw failure("The argument of States.StringToJson is not valid JSON: \(error.message)")
            }

        case .jsonToString:
            return .string(try argument(0, in: env, field: field).serialized())

        case .array:
            var elements: [JSON] = []
            elements.reserveCapacity(arguments.count)
            for i in arguments.indices { elements.append(try argument(i, in: env, field: field)) }
            return .array(elements)

        case .arrayPartition:
            let array = try arrayArgument(0, in: env, field: field)
            let size = try integerArgument(1, in: env, field: field)
            guard size > 0 else { throw failure("The chunk size of States.ArrayPartition must be greater than 0") }
            var chunks: [JSON] = []
            var start = 0
            while start < array.count {
                let end = start + Int(min(Int64(array.count - start), size))
                chunks.append(.array(Array(array[start..<end])))
                start = end
            }
            return .array(chunks)

        case .arrayContains:
            let array = try arrayArgument(0, in: env, field: field)
            let needle = try argument(1, in: env, field: field)
            return .bool(array.contains { Self.jacksonEquals($0, needle) })

        case .arrayRange:
            let start = try integerArgument(0, in: env, field: field)
            let end = try integerArgument(1, in: env, field: field)
            let step = try integerArgument(2, in: env, field: field)
            guard step != 0 else { throw failure("The step of States.ArrayRange must not be 0") }
            // Inclusive of `end` when the steps land on it; empty when `step` points away.
            let (distance, overflow) = step > 0 ? end.subtractingReportingOverflow(start) : start.subtractingReportingOverflow(end)
            let steps = overflow ? Int64.max : (distance < 0 ? -1 : distance / step.magnitude.clampedToInt64)
            guard steps < 1000 else { throw failure("States.ArrayRange cannot produce more than 1000 elements") }
            var values: [JSON] = []
            let count = steps + 1
            values.reserveCapacity(Int(count))
            var v = start
            for _ in 0..<count {
                values.append(.int(v))
                v += step
            }
            return .array(values)

        case .arrayGetItem:
            let array = try arrayArgument(0, in: env, field: field)
            let index = try integerArgument(1, in: env, field: field)
            guard index >= 0, index < Int64(array.count) else {
                throw failure("The index \(index) is out of bounds for States.ArrayGetItem on an array of length \(array.count)")
            }
            return array[Int(index)]

        case .arrayLength:
            return .int(Int64(try arrayArgument(0, in: env, field: field).count))

        case .arrayUnique:
            let array = try arrayArgument(0, in: env, field: field)
            var unique: [JSON] = []
            unique.reserveCapacity(array.count)
            for element in array where !unique.contains(where: { Self.jacksonEquals($0, element) }) {
                unique.append(element)
            }
            return .array(unique)

        case .base64Encode:
            let text = try stringArgument(0, in: env, field: field)
            try checkLength(text, limit: 10_000)
            return .string(Base64.encode(text))

        case .base64Decode:
            let text = try stringArgument(0, in: env, field: field)
            try checkLength(text, limit: 10_000)
            guard let bytes = Base64.decode(text) else {
                throw failure("The argument of States.Base64Decode is not valid Base64")
            }
            return .string(String(decoding: bytes, as: UTF8.self))

        case .hash:
            let data = try argument(0, in: env, field: field)
            let text: String
            if case .string(let s) = data { text = s } else { text = data.serialized() }
            try checkLength(text, limit: 10_000)
            let name = try stringArgument(1, in: env, field: field)
            guard let algorithm = Digest.Algorithm(rawValue: name) else {
                throw failure("The hash algorithm '\(name)' is not supported by States.Hash; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
            }
            return .string(Digest.hex(Digest.hash(Array(text.utf8), using: algorithm)))

        case .jsonMerge:
            return try jsonMerge(in: env, field: field)

        case .mathRandom:
            let start = try integerArgument(0, in: env, field: field)
            let end = try integerArgument(1, in: env, field: field)
            guard start < end else { throw failure("The start of States.MathRandom must be less than its end") }
            if arguments.count == 3 {
                let seed = try integerArgument(2, in: env, field: field)
                let (range, overflow) = end.subtractingReportingOverflow(start)
                guard !overflow, range <= Int64(Int32.max) else { throw failure("The range of States.MathRandom is too large") }
                var generator = Java.Random(seed: seed)
                return .int(start + Int64(generator.nextInt(bound: Int32(range))))
            }
            let range = UInt64(bitPattern: end &- start)
            let offset = UInt64((UInt128(env.random.next()) * UInt128(range)) >> 64)
            return .int(start &+ Int64(bitPattern: offset))

        case .mathAdd:
            let a = try integerArgument(0, in: env, field: field)
            let b = try integerArgument(1, in: env, field: field)
            let (sum, overflow) = a.addingReportingOverflow(b)
            guard !overflow else { throw failure("The result of States.MathAdd is out of range") }
            return .int(sum)

        case .stringSplit:
            let text = try stringArgument(0, in: env, field: field)
            let delimiters = Set(try stringArgument(1, in: env, field: field).unicodeScalars)
            return .array(Self.tokenize(text, delimiters: delimiters).map { .string($0) })

        case .uuid:
            return .string(env.random.uuidString())
        }
    }

    // MARK: - Functions with more to say

    /// AWS behaviour: non-string arguments are written as Java writes them (`1.1`, `1`,
    /// `null`, `true`; cases `intrinsics.*test_format_1__exec_hist_resp_*`), objects and
    /// arrays too (`{Arg1=1, Arg2=[]}`, see `Java.string`).
    private func format(in env: EvaluationEnvironment, field: String?) throws(StatesError) -> String {
        let pieces: [FormatPiece]
        switch arguments[0] {
        case .string(_, let p): pieces = p
        default:
            let template = try stringArgument(0, in: env, field: field)
            pieces = Self.formatPieces(template)
        }
        let placeholders = pieces.reduce(0) { $0 + ($1 == .placeholder ? 1 : 0) }
        guard placeholders == arguments.count - 1 else {
            throw failure("The number of arguments (\(arguments.count - 1)) of States.Format does not match the number of placeholders (\(placeholders))")
        }
        var out = ""
        var next = 1
        for piece in pieces {
            switch piece {
            case .text(let t): out += t
            case .placeholder:
                let value = try argument(next, in: env, field: field)
                next += 1
                out += Java.string(value)
            }
        }
        return out
    }

    /// Placeholders of a template that arrives at run time: every `{}`.
    static func formatPieces(_ template: String) -> [FormatPiece] {
        var pieces: [FormatPiece] = []
        var rest = Substring(template)
        while let range = rest.firstRange(of: "{}") {
            if range.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<range.lowerBound]))) }
            pieces.append(.placeholder)
            rest = rest[range.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        return pieces
    }

    /// Shallow merge; the third argument must be `false` (AWS supports no deep merge).
    ///
    /// AWS behaviour: the merged object's members come out in the iteration order of a Java
    /// `HashMap`, not in input order (case
    /// `intrinsics.*test_json_merge_escaped_argument`: `constant_input_field` before
    /// `constant_in_literal`).
    private func jsonMerge(in env: EvaluationEnvironment, field: String?) throws(StatesError) -> JSON {
        guard case .object(let first) = try argument(0, in: env, field: field) else {
            throw failure("The first argument of States.JsonMerge must be a JSON object")
        }
        guard case .object(let second) = try argument(1, in: env, field: field) else {
            throw failure("The second argument of States.JsonMerge must be a JSON object")
        }
        guard case .bool(let deep) = try argument(2, in: env, field: field) else {
            throw failure("The third argument of States.JsonMerge must be a boolean")
        }
        guard !deep else { throw failure("States.JsonMerge does not support deep merging; the third argument must be false") }
        var merged = first
        for (key, value) in second { merged[key] = value }
        let keys = Array(merged.orderedKeys)
        var ordered = JSONObject(minimumCapacity: keys.count)
        for i in Java.hashMapOrder(keys) { ordered.append(keys[i], merged.orderedValues[i]) }
        return .object(ordered)
    }

    /// Java's `StringTokenizer`: every character of `delimiters` separates; empty tokens
    /// are dropped.
    ///
    /// AWS behaviour: case `intrinsics.*test_string_split_context_object` (",,," gives no
    /// empty strings).
    static func tokenize(_ text: String, delimiters: Set<Unicode.Scalar>) -> [String] {
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if delimiters.contains(scalar) {
                if !current.isEmpty {
                    tokens.append(String(current))
                    current = String.UnicodeScalarView()
                }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { tokens.append(String(current)) }
        return tokens
    }

    /// Jackson's `JsonNode.equals`: like JSON equality, except that an integer never equals
    /// a floating-point number (`1` and `1.0` differ).
    static func jacksonEquals(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.int, .double), (.double, .int): return false
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { jacksonEquals($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (k, v) in x {
                guard let w = y[k], jacksonEquals(v, w) else { return false }
            }
            return true
        default: return a == b
        }
    }

    // MARK: - Arguments

    func argument(_ i: Int, in env: EvaluationEnvironment, field: String?) throws(StatesError) -> JSON {
        switch arguments[i] {
        case .literal(let value): return value
        case .string(let value, _): return .string(value)
        case .call(let call): return try call.evaluate(in: env, field: field)
        case .path(let path):
            if let field { return try path.evaluate(in: env, field: field) }
            return try path.evaluate(in: env)
        }
    }

    private func stringArgument(_ i: Int, in env: EvaluationEnvironment, field: String?) throws(StatesError) -> String {
        guard case .string(let s) = try argument(i, in: env, field: field) else {
            throw failure("Argument \(i + 1) of \(function.rawValue) must be a string")
        }
        return s
    }

    private func arrayArgument(_ i: Int, in env: EvaluationEnvironment, field: String?) throws(StatesError) -> [JSON] {
        guard case .array(let a) = try argument(i, in: env, field: field) else {
            throw failure("Argument \(i + 1) of \(function.rawValue) must be an array")
        }
        return a
    }

    /// A number, rounded as Java's `Math.round` does.
    ///
    /// AWS behaviour: non-integers are rounded half up (1.5 → 2, -1.5 → -1, -1.51 → -2;
    /// cases `intrinsics.*test_math_add__exec_hist_resp_*`).
    private func integerArgument(_ i: Int, in env: EvaluationEnvironment, field: String?) throws(StatesError) -> Int64 {
        switch try argument(i, in: env, field: field) {
        case .int(let v): return v
        case .double(let d):
            guard d.isFinite else { throw failure("Argument \(i + 1) of \(function.rawValue) must be a number") }
            return Java.round(d)
        case .decimal(let n):
            // Rounding a number beyond the range of a long would change it: an error instead.
            guard let d = n.doubleValue, abs(d) < 9.223372036854775807e18 else {
                throw failure("Argument \(i + 1) of \(function.rawValue) is out of range: \(n.literal)")
            }
            return Java.round(d)
        default:
            throw failure("Argument \(i + 1) of \(function.rawValue) must be a number")
        }
    }

    private func checkLength(_ text: String, limit: Int) throws(StatesError) {
        guard text.utf16.count <= limit else {
            throw failure("The input of \(function.rawValue) exceeds the maximum of \(limit) characters")
        }
    }

    private func failure(_ message: String) -> StatesError {
        StatesError(StatesError.Name.intrinsicFailure, cause: message)
    }
}

extension UInt64 {
    fileprivate var clampedToInt64: Int64 { self > UInt64(Int64.max) ? Int64.max : Int64(self) }
}
