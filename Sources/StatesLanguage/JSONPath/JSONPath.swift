/// A compiled JSONPath, evaluated the way AWS Step Functions does (Jayway JsonPath semantics).
///
/// The text is parsed once into a list of steps; evaluation walks the JSON value without
/// re-parsing and, for definite paths, without allocating.
///
/// A path is *definite* when it can select at most one node (only names, single indexes,
/// and functions). A definite path evaluates to the node or to nothing; an indefinite path
/// (wildcards, filters, slices, unions, deep scan) always evaluates to an array of the
/// matches, possibly empty.
///
/// AWS behaviour: an indefinite path never fails, even when an intermediate member is
/// missing: `$.item.items[1:5]` on `{}` gives `[]` (cases
/// `base.test_base.TestSnfBase.test_json_path_array_wildcard_or_slice_with_no_input*`).
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    /// One reference, so that copying a path costs one retain and evaluation reads the steps
    /// in place.
    let storage: Storage

    final class Storage: Sendable {
        let text: String
        let isRelative: Bool
        let steps: [Step]
        let isDefinite: Bool
        let isReferencePath: Bool
        /// The steps again, for the common definite paths made only of names and indexes,
        /// in a form that evaluation walks without copying.
        let direct: ContiguousArray<DirectStep>?

        init(text: String, isRelative: Bool, steps: [Step]) {
            self.text = text
            self.isRelative = isRelative
            self.steps = steps
            var definite = true
            var direct: ContiguousArray<DirectStep>? = []
            for (i, step) in steps.enumerated() {
                switch step {
                case .property(let name): direct?.append(.name(name, utf8Count: name.utf8.count))
                case .index(let index): direct?.append(.index(index))
                case .function: direct = nil
                case .properties:
                    direct = nil
                    if i != steps.count - 1 { definite = false }
                case .indexes, .slice, .wildcard, .scan, .filter:
                    direct = nil
                    definite = false
                }
            }
            isDefinite = definite
            self.direct = direct
            isReferencePath = !isRelative && steps.allSatisfy {
                switch $0 {
                case .property: true
                case .index(let i): i >= 0
                default: false
                }
            }
        }
    }

    enum DirectStep: Sendable {
        case name(String, utf8Count: Int)
        case index(Int)
    }

    /// The path as written.
    public var text: String { storage.text }
    /// Whether the path starts at `@` (the current node, inside filters) rather than `$`.
    var isRelative: Bool { storage.isRelative }
    var steps: [Step] { storage.steps }
    /// Whether the path selects at most one node.
    public var isDefinite: Bool { storage.isDefinite }
    /// Whether the path is an ASL *reference path*: `$` followed only by `.name`, `['name']`
    /// and `[n]`, so that it names exactly one place (required for `ResultPath`).
    public var isReferencePath: Bool { storage.isReferencePath }

    /// Parses `text`.
    ///
    /// - Throws: `JSONPathError` when the text is not a JSONPath Step Functions accepts.
    public init(_ text: String) throws(JSONPathError) {
        var parser = JSONPathParser(text)
        let (isRelative, steps) = try parser.parsePath(allowRelative: false)
        self.init(text: text, isRelative: isRelative, steps: steps)
    }

    init(text: String, isRelative: Bool, steps: [Step]) {
        storage = Storage(text: text, isRelative: isRelative, steps: steps)
    }

    /// The root path `$`.
    public static let root = JSONPath(text: "$", isRelative: false, steps: [])

    /// Whether this is `$` itself.
    public var isRoot: Bool { steps.isEmpty }

    public var description: String { text }

    public static func == (a: JSONPath, b: JSONPath) -> Bool { a.text == b.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// Jayway's normalized form, e.g. `$['a'][0]`, as its error messages print paths.
    public var normalizedText: String {
        var out = isRelative ? "@" : "$"
        for step in steps { out += step.normalizedText }
        return out
    }
}

/// A JSONPath that does not parse.
public struct JSONPathError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Steps

extension JSONPath {
    enum Step: Sendable {
        /// `.name` or `['name']`.
        case property(String)
        /// `['a','b']`: at the end of a path, an object of the named members; elsewhere, each member.
        case properties([String])
        /// `[n]`; negative counts from the end.
        case index(Int)
        /// `[i,j,...]`.
        case indexes([Int])
        /// `[from:to]`, either bound optional, negative counting from the end.
        case slice(from: Int?, to: Int?)
        /// `.*` or `[*]`: every member value or element.
        case wildcard
        /// `..` followed by the step it applies at every level.
        indirect case scan(Step)
        /// `[?(...)]`.
        case filter(FilterExpression)
        /// `.length()` and the other Jayway functions.
        case function(PathFunction)

        var normalizedText: String {
            switch self {
            case .property(let name): "['\(name)']"
            case .properties(let names): "[" + names.map { "'\($0)'" }.joined(separator: ",") + "]"
            case .index(let i): "[\(i)]"
            case .indexes(let list): "[" + list.map(String.init).joined(separator: ",") + "]"
            case .slice(let from, let to): "[\(from.map(String.init) ?? ""):\(to.map(String.init) ?? "")]"
            case .wildcard: "[*]"
            case .scan(let next): ".." + next.normalizedText
            case .filter: "[?]"
            case .function(let f): ".\(f.rawValue)()"
            }
        }
    }

    /// The functions Jayway allows at the end of a path.
    enum PathFunction: String, Sendable, CaseIterable {
        case length, size, min, max, avg, stddev, sum, keys, first, last
    }
}
