import Testing
@testable import JSONata
import StatesCore

/// Random and mutated expressions, evaluated with depth, step and time limits for a
/// bounded time: every outcome must be a value or a `JSONataError`, never a crash or hang.
@Suite struct JSONataFuzzTests {
    static let seeds: [String] = [
        "Account.Order.Product[Price > 30].SKU", "$sum(Account.Order.Product.(Price * Quantity))",
        "$map([1..10], function($v, $i) { $v * $i })", "Account.Order@$o.Product#$i.{ 'o': $o.OrderID, 'i': $i }",
        "$reduce([1,2,3], function($a, $b) { $a + $b }, 0)", "**.Price ~> $sum()", "Account.Order^(>OrderID)[0]",
        "(  $f := function($n) { $n <= 1 ? 1 : $n * $f($n - 1) }; $f(10) )", "$string({'a': [1, 2, {'b': null}]}, true)",
        "$replace('hello world', /o(.)/, '$1$1')", "$split('a,b,,c', ',', 2)", "| Account.Order | {'x': 1}, ['OrderID'] |",
        "$formatNumber(1234.5678, '#,##0.00')", "$fromMillis(1521801216617, '[Y0001]-[M01]-[D01]')",
        "$toMillis('2018-03-27', '[Y1]-[M01]-[D01]')", "library.loans@$l.books@$b[$l.isbn=$b.isbn].{ 'title': $b.title }",
        "Account.Order.Product.%.OrderID", "{ 'a': 1 }.$keys()", "$match('ababab', /(a)(b)/)", "[1,2,3][$ > 1] ~> $count",
        "$distinct([1, 1, 'a', 'a', [1], [1]])", "$sort(Account.Order.Product, function($a, $b) { $a.Price > $b.Price })",
        "$zip([1,2],[3,4])", "$each({'a':1}, function($v, $k) { $k & $v })", "$partition([1,2,3,4,5], 2)", "$hash('x', 'MD5')",
    ]

    static let fragments: [String] = [
        ".", "[", "]", "(", ")", "{", "}", ",", ";", ":", "?", "*", "**", "%", "$", "$$", "#", "@", "^(", "~>", ":=",
        "..", "&", "=", "!=", "<", ">", "and", "or", "in", "'x'", "\"y\"", "1", "-1", "1e400", "0.5", "true", "null",
        "function($x){$x}", "$f", "$x", "/a+/", "/(a*)*b/", "|", "Order", "Product", "`Product Name`", "$sum(", "$map(",
        "$string(", "$formatNumber(", "$fromMillis(", "$toMillis(", "$replace(", "$split(", "$match(", "$sort(", "[1..10]",
    ]

    static let input: JSON = {
        let text = #"{"Account":{"Account Name":"Firefly","Order":[{"OrderID":"order103","Product":[{"Product Name":"Bowler Hat","ProductID":858383,"SKU":"0406654608","Price":34.45,"Quantity":2},{"Product Name":"Trilby hat","ProductID":858236,"SKU":"0406634348","Price":21.67,"Quantity":1}]},{"OrderID":"order104","Product":[{"Product Name":"Cloak","ProductID":345664,"SKU":"0406654603","Price":107.99,"Quantity":1}]}]},"library":{"loans":[{"isbn":"1","customer":"a"}],"books":[{"isbn":"1","title":"T"}]}}"#
        return try! JSON.parse(text)
    }()

    /// SplitMix64, so that a failure is reproducible from the printed seed.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    }

    static func mutate(_ s: String, _ rng: inout Rng) -> String {
        var chars = Array(s)
        switch rng.below(5) {
        case 0 where !chars.isEmpty:
            chars.remove(at: rng.below(chars.count))
        case 1:
            let f = Array(fragments[rng.below(fragments.count)])
            chars.insert(contentsOf: f, at: rng.below(chars.count + 1))
        case 2 where chars.count > 2:
            let a = rng.below(chars.count), b = rng.below(chars.count)
            chars.swapAt(a, b)
        case 3:
            let other = Array(seeds[rng.below(seeds.count)])
            let cut = rng.below(chars.count + 1), cut2 = rng.below(other.count + 1)
            chars = Array(chars[0..<cut]) + Array(other[cut2...])
        default:
            chars = Array((0..<(1 + rng.below(8))).map { _ in fragments[rng.below(fragments.count)] }.joined(separator: " "))
        }
        return String(chars)
    }

    @Test func randomAndMutatedExpressionsNeverCrashOrHang() {
        var rng = Rng(state: 0x5EED_1234)
        let start = wallClock()
        var evaluated = 0, errors = 0
        var options = JSONataOptions(maxDepth: 200, maxSteps: 200_000, timeLimitMilliseconds: 200, clock: { wallClock() })
        options.stepFunctionsFunctions = true
        options.random = RandomSource(seed: 7)
        var current = Self.seeds[0]
        // a few seconds, bounded also by count so a slow machine still stops
        while wallClock() - start < 3_000 && evaluated < 200_000 {
            current = rng.below(4) == 0 ? Self.seeds[rng.below(Self.seeds.count)] : Self.mutate(current, &rng)
            let caseStart = wallClock()
            do {
                let e = try JSONataExpression(current)
                _ = try e.evaluate(input: Self.input, bindings: ["x": 1], options: options)
            } catch {
                errors += 1
            }
            evaluated += 1
            #expect(wallClock() - caseStart < 2_000, "slow expression: \(current)")
        }
        print("JSONata fuzz: \(evaluated) expressions, \(errors) errors, no crash")
        #expect(evaluated > 100)
    }

    /// Shapes that nest one level per repetition (`[1..[1..2]]` two): `open` n times,
    /// `middle`, `close` n times. The left-associative chains (`1+1+...`, `a.a...`,
    /// `'a' & 'a' ...`) are built by the parser's loop, not its recursion, and nest as deep.
    static let deepShapes: [(open: String, middle: String, close: String)] = [
        ("(", "1", ")"), ("[", "1", "]"), ("-", "1", ""), ("$not(", "true", ")"), ("", "1", "+1"),
        ("a.", "b", ""), ("", "'a'", " & 'a'"), ("a[", "true", "]"), ("{'a':", "1", "}"), ("true ? ", "1", " : 0"),
        ("function($x){", "1", "}"), ("$f(", "1", ")"), ("$x := ", "1", ""), ("a^(", "b", ")"), ("[1..", "2", "]"),
        ("a{'k':", "1", "}"), ("a ~> ", "$f", ""), ("", "a", "@$x"), ("(a;", "1", ")"), ("| a | ", "{}", " |"),
        ("$f(?, ", "1", ")"), ("", "x", "[0]"), ("", "x", ".a"),
    ]

    /// Issue 14: a JSONata expression 3,000 deep (in a 6 KB definition) killed the daemon with
    /// SIGSEGV; so did `1+1+...+1` and `----...1` 20,000 long. Each now fails to compile with
    /// `U1001` before anything recurses over it.
    @Test(arguments: 0..<deepShapes.count)
    func deepExpressionsFailToCompileWithU1001(_ shape: Int) {
        let (open, middle, close) = Self.deepShapes[shape]
        for n in [Parser.maximumDepth + 1, 3_000, 20_000] {
            let source = DeepInputs.nested(open, middle, close, n)
            let outcome: Result<JSONataExpression, JSONataError> = onThread { Result { () throws(JSONataError) in try JSONataExpression(source) } }
            guard case .failure(let error) = outcome else {
                Issue.record("\(source.prefix(40))... (\(n) levels) compiled")
                continue
            }
            #expect(error.code == "U1001", "\(error)")
            #expect(error.message.contains("\(Parser.maximumDepth) levels"), "\(error)")
        }
    }

    /// The deepest expressions the parser accepts compile and evaluate on a thread with half
    /// the daemon's stack in a debug build: to a value, or to a named error (`U1001` when
    /// the evaluation nests deeper than `maxDepth`).
    @Test(arguments: 0..<deepShapes.count)
    func deepestAcceptedExpressionsCompileAndEvaluate(_ shape: Int) {
        let (open, middle, close) = Self.deepShapes[shape]
        let levelsPerRepetition = open == "[1.." ? 2 : 1
        // one level for the outermost node of some shapes (a path around the chain)
        let source = DeepInputs.nested(open, middle, close, (Parser.maximumDepth - 2) / levelsPerRepetition)
        let input: JSON = ["a": ["b": 1, "a": 1], "x": [1]]
        let outcome: (compiled: Bool, evaluation: Result<JSON?, JSONataError>) = onThread {
            guard let e = try? JSONataExpression(source) else { return (false, .success(nil)) }
            return (true, Result { () throws(JSONataError) in try e.evaluate(input: input, bindings: ["x": 1], options: .stepFunctions()) })
        }
        #expect(outcome.compiled, "\(source.prefix(40))... did not compile")
        if case .failure(let error) = outcome.evaluation {
            print("deep JSONata \(source.prefix(16))...: \(error.code)")
        }
    }

    /// Deep, wide and long inputs drawn at random (seeded): nesting shapes at depths around
    /// the parser's limit and far beyond it, shapes inside shapes, wide arrays, objects and
    /// argument lists, long strings through the regular expression functions. Every outcome
    /// is a value or a `JSONataError` (no crash, no hang), on a thread with half the daemon's
    /// stack in a debug build.
    @Test func deepWideAndLongInputsNeverCrash() {
        let summary: String = onThread {
            var rng = Rng(state: 0xDEE9_5EED)
            let depths = [1, 7, 50, Parser.maximumDepth - 1, Parser.maximumDepth, Parser.maximumDepth + 1, 1_000, 5_000]
            let wide = ["[ITEMS]", "{ITEMS}", "$sum([ITEMS])", "$count([ITEMS])", "$string([ITEMS])", "($x := [ITEMS]; $x[-1])"]
            let long = [
                "$match($, /(a|b)+c?/)", "$replace($, /(ab)/, '$1-')", "$split($, /b(?=a)/)", "$contains($, /^(a+)+$/)",
                "$length($uppercase($))", "$substringBefore($, 'c')", "$match($, /(?<=a)b/)", "$replace($, 'ab', 'ba')",
            ]
            let start = wallClock()
            var runs = 0, errors = 0, values = 0
            while wallClock() - start < 3_000 && runs < 2_000 {
                var source: String
                switch rng.below(3) {
                case 0:
                    // up to three shapes nested in each other
                    source = "1"
                    for _ in 0..<(1 + rng.below(3)) {
                        let shape = Self.deepShapes[rng.below(Self.deepShapes.count)]
                        let n = depths[rng.below(depths.count)]
                        source = DeepInputs.nested(shape.open, source, shape.close, n)
                    }
                case 1:
                    let items = Array(repeating: rng.below(2) == 0 ? "1" : "'a': 1", count: 1 + rng.below(20_000)).joined(separator: ",")
                    source = wide[rng.below(wide.count)].replacing("ITEMS", with: items)
                default:
                    source = long[rng.below(long.count)]
                }
                let input = JSON.string(String(repeating: rng.below(2) == 0 ? "ab" : "a", count: rng.below(50_000)))
                do {
                    _ = try JSONataExpression(source).evaluate(input: input, options: .stepFunctions())
                    values += 1
                } catch let error as JSONataError {
                    #expect(error.code.count == 5, "\(error)")
                    errors += 1
                } catch {
                    Issue.record("not a JSONataError: \(error)")
                }
                runs += 1
            }
            return "\(runs) inputs, \(values) values, \(errors) errors"
        }
        print("JSONata deep/wide/long fuzz: \(summary), no crash")
    }

    /// Evaluation builds values of any depth with a tail-recursive loop; every walk over them
    /// (the conversion to JSON, `$string`, `=`, `**`, `$keys`, `$spread`, `$boolean`, paths
    /// through nested arrays, transforms) overflowed the stack at a few thousand levels.
    /// Now the walks that must follow the value are iterative, and what leaves JSONata
    /// fails with `U1001` beyond `JValue.maximumDepth`.
    @Test(arguments: [
        ("$o", "U1001"), ("$a", "U1001"), ("$string($o)", "U1001"), ("$o ~> | $ | {'b': 1} |", "U1001"),
        ("$o = $o2", "true"), ("$a = $a2", "true"), ("$count($o.**)", "20001"), ("$keys($a)", "undefined"),
        ("$count($spread($a))", "1"), ("$boolean($a)", "true"), ("$a.x", "undefined"), ("$count($a[0])", "1"),
        ("$count($a.*)", "1"), ("$o in [$o2]", "false"), ("$count([$o, $o2] ~> $distinct)", "1"),
    ])
    func valuesBuiltDeepAreWalkedOrRefused(_ use: String, _ expected: String) {
        let n = 20_000
        let source = """
            ( $deepObject := function($n, $v) { $n = 0 ? $v : $deepObject($n - 1, {'a': $v}) };
              $deepArray := function($n, $v) { $n = 0 ? $v : $deepArray($n - 1, [[$v]]) };
              $o := $deepObject(\(n), 1); $o2 := $deepObject(\(n), 1); $a := $deepArray(\(n), 1); $a2 := $deepArray(\(n), 1);
              \(use) )
            """
        let outcome: String = onThread {
            do {
                let e = try JSONataExpression(source)
                return try e.evaluate(input: nil, options: .stepFunctions())?.serialized() ?? "undefined"
            } catch let error as JSONataError {
                return error.code
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == expected, "\(use)")
    }

    /// Recursion through every kind of call site, unbounded: each must stop with `U1001` at
    /// the default `maxDepth` on a thread with half the daemon's stack in a debug build
    /// (through a partial application the tail calls run in the trampoline and end).
    ///
    /// A recursion through a higher-order built-in (`$filter`, `$map`, `$sort`, ...) whose
    /// lambda makes a tail call deepened the native stack without any `evaluate`: it
    /// overflowed 4 MiB with `maxDepth` 5.
    @Test(arguments: [
        "1 + $f($n - 1)", "$f($n - 1) + 1", "$sum($map([1], function($x) { $f($n - 1) }))", "[1][$f($n - 1) = 0]",
        "$reduce([1, 2], function($a, $b) { $f($n - 1) })", "$filter([1], function($x) { $f($n - 1) })",
        "{'a': $f($n - 1)}", "'a' & $f($n - 1)", "$f($n - 1).a", "$n - 1 ~> $f",
        "$sort([2, 1], function($a, $b) { $f($n - 1) })", "[1, 2].($f($n - 1))", "$string($f($n - 1))",
        "($x := $f($n - 1); $x)", "$f($n - 1) ? 1 : 2", "-$f($n - 1)", "{'a': 1} ~> | $ | {'b': $f($n - 1)} |",
        "$each({'a': 1}, function($v) { $f($n - 1) })", "$single([1], function($v) { $f($n - 1) })",
        "$f($n - 1)[0]", "$lookup({'a': $f($n - 1)}, 'a')", "$not($f($n - 1))", "[$f($n - 1)]",
    ])
    func unboundedRecursionStopsWithU1001(_ call: String) {
        let source = "($f := function($n) { $n = 0 ? 0 : \(call) }; $f(100000))"
        let outcome: String = onThread {
            do {
                return try JSONataExpression(source).evaluate(input: nil, options: .stepFunctions())?.serialized() ?? "undefined"
            } catch let error as JSONataError {
                return error.code
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == "U1001", "\(call)")
    }

    @Test func tailCallsThroughAPartialApplicationRunInTheTrampoline() {
        let source = "($f := function($n) { $n = 0 ? 0 : ($g := $f(?); $g($n - 1)) }; $f(100000))"
        let outcome = onThread { try? JSONataExpression(source).evaluate(input: nil, options: .stepFunctions()) }
        #expect(outcome == 0)
    }

    @Test(arguments: [
        "(  $f := function($n) { $f($n + 1) + 1 }; $f(0) )",
        "(  $f := function($n) { $f($n + 1) }; $f(0) )",
        "$reduce([1..1000000], function($a, $b) { $a + $b })",
        "$replace('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', /(a*)*b/, 'x')",
        "[1..10000000].[1..10000000]",
    ])
    func runawayExpressionsStopWithU1001(_ source: String) throws {
        let options = JSONataOptions(maxDepth: 300, maxSteps: 2_000_000, timeLimitMilliseconds: 2_000, clock: { wallClock() })
        let e = try JSONataExpression(source)
        #expect(throws: JSONataError.self) { try e.evaluate(input: nil, options: options) }
        do {
            _ = try e.evaluate(input: nil, options: options)
        } catch {
            #expect(error.code == "U1001" || error.code == "D2014", "\(error)")
        }
    }
}
