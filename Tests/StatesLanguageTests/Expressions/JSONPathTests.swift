import Testing
@testable import StatesLanguage

@Suite struct JSONPathTests {
    static let store = try! JSON.parse("""
        {"store":{"book":[
          {"category":"reference","author":"Nigel Rees","title":"Sayings of the Century","price":8.95},
          {"category":"fiction","author":"Evelyn Waugh","title":"Sword of Honour","price":12.99},
          {"category":"fiction","author":"Herman Melville","title":"Moby Dick","isbn":"0-553-21311-3","price":8.99},
          {"category":"fiction","author":"J. R. R. Tolkien","title":"The Lord of the Rings","isbn":"0-395-19395-8","price":22.99}],
          "bicycle":{"color":"red","price":19.95}},
         "expensive":10,"a b":1,"delivery-partner":"x","nums":[1,2,3],"mixed":[1,"2",2.5,"x",true],"empty":[],
         "nested":{"x":null},"users":[{"year":1997,"status":0},{"year":1998,"status":1}]}
        """)

    /// `nil` expected means a definite path that selects nothing.
    @Test(arguments: [
        ("$.store.bicycle.color", #""red""#),
        ("$['store']['bicycle']['color']", #""red""#),
        (#"$["store"].bicycle.price"#, "19.95"),
        ("$.store.['bicycle'].color", #""red""#),
        ("$.store.book[0].author", #""Nigel Rees""#),
        ("$.store.book[-1].title", #""The Lord of the Rings""#),
        ("$.store.book[ 1 ].price", "12.99"),
        ("$.store.book[4]", nil),
        ("$.store.book[-5]", nil),
        ("$.store.missing", nil),
        ("$.store.missing.deeper", nil),
        ("$['a b']", "1"),
        ("$.delivery-partner", #""x""#),  // case services...: "$.delivery-partner"
        ("$.nested.x", "null"),
        ("$.nested.x.y", nil),
        ("$.expensive.x", nil),
        ("$.nums[0].x", nil),
        ("$.store.book.length()", "4"),
        ("$.store.bicycle.length()", "2"),
        ("$.store.bicycle.color.length()", "3"),
        ("$.nums.sum()", "6.0"),
        ("$.nums.avg()", "2.0"),
        ("$.nums.min()", "1.0"),
        ("$.nums.max()", "3.0"),
        ("$.nums.first()", "1"),
        ("$.nums.last()", "3"),
        ("$.empty.min()", nil),
        ("$.store.bicycle.keys()", #"["color","price"]"#),
        ("$.store['bicycle','missing']", #"{"bicycle":{"color":"red","price":19.95}}"#),
        ("$.store.book[0]['author','title']", #"{"author":"Nigel Rees","title":"Sayings of the Century"}"#),
    ] as [(String, String?)])
    func definite(_ text: String, _ expected: String?) throws {
        let path = try JSONPath(text)
        #expect(path.isDefinite)
        #expect(path.evaluate(Self.store) == expected.map { try! JSON.parse($0) })
    }

    @Test(arguments: [
        ("$.store.book[*].author", #"["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]"#),
        ("$..author", #"["Nigel Rees","Evelyn Waugh","Herman Melville","J. R. R. Tolkien"]"#),
        ("$.store.*.color", #"["red"]"#),
        ("$.store..price", "[8.95,12.99,8.99,22.99,19.95]"),
        ("$..book[2].title", #"["Moby Dick"]"#),
        ("$..book[-1:].title", #"["The Lord of the Rings"]"#),
        ("$..book[0,1].title", #"["Sayings of the Century","Sword of Honour"]"#),
        ("$.store.book[:2].price", "[8.95,12.99]"),
        ("$.store.book[1:2].price", "[12.99]"),
        ("$.store.book[-2:].price", "[8.99,22.99]"),
        ("$.store.book[2:].price", "[8.99,22.99]"),
        ("$.store.book[1:100].price", "[12.99,8.99,22.99]"),
        ("$.store.book[3:1].price", "[]"),
        ("$.store.book[?(@.isbn)].price", "[8.99,22.99]"),
        ("$.store.book[?(!@.isbn)].price", "[8.95,12.99]"),
        ("$.store.book[?(@.price < 10)].price", "[8.95,8.99]"),
        ("$.store.book[?(@.price <= $['expensive'])].price", "[8.95,8.99]"),
        ("$.store.book[?(@.price>$.expensive)].price", "[12.99,22.99]"),
        ("$.store.book[?(@.author =~ /.*REES/i)].price", "[8.95]"),
        ("$.store.book[?(@.author =~ /.*REES/)].price", "[]"),
        ("$.store.book[?(@.category == 'fiction' && @.price > 20)].title", #"["The Lord of the Rings"]"#),
        ("$.store.book[?(@.category != 'fiction' || @.price > 20)].price", "[8.95,22.99]"),
        ("$.store.book[?((@.price > 20 || @.price < 9) && !(@.isbn))].price", "[8.95]"),
        ("$.store.book[?(@.category in ['reference','x'])].price", "[8.95]"),
        ("$.store.book[?(@.category nin [\"reference\"])].price", "[12.99,8.99,22.99]"),
        ("$.store.book[?(@.title size 9)].price", "[8.99]"),
        ("$.store.book[?(@.isbn empty false)].price", "[8.99,22.99]"),
        ("$.store.book[?(@.author contains 'Tolkien')].price", "[22.99]"),
        ("$.store.book[?(@.isbn exists true)].price", "[8.99,22.99]"),
        ("$.store.book[?(@.isbn != 'x')].price", "[8.95,12.99,8.99,22.99]"),  // Jayway: a missing value is != anything
        ("$.store.bicycle[?(@.color == 'red')].price", "[19.95]"),  // a filter on an object tests the object
        ("$.nums[?(@ > 1)]", "[2,3]"),
        ("$.nums[?(@ == '2')]", "[2]"),  // Jayway converts the right side to the left side's kind
        ("$.mixed[?(@ == 2)]", #"["2"]"#),
        ("$.mixed[?(@ === 2)]", "[]"),
        ("$.nums[?(@ in [1, 3])]", "[1,3]"),
        ("$.users[?(@.status == 0)]", #"[{"year":1997,"status":0}]"#),  // case base.test_base.TestSnfBase.test_state_pass_regex_json_path_base
        ("$..book[?(@.price < 9)].price", "[8.95,8.99]"),
        ("$.store.book[*]['author','price']", #"[{"author":"Nigel Rees","price":8.95},{"author":"Evelyn Waugh","price":12.99},{"author":"Herman Melville","price":8.99},{"author":"J. R. R. Tolkien","price":22.99}]"#),
        ("$.store.book[*].length()", "[4,4,5,5]"),
        ("$.missing[*]", "[]"),
        ("$.missing.deeper[1:5].x", "[]"),  // case base...test_json_path_array_wildcard_or_slice_with_no_input
        ("$.expensive[*]", "[]"),
        ("$.expensive[0:1]", "[]"),
        ("$.nums[?(@.x > 1)]", "[]"),
    ])
    func indefinite(_ text: String, _ expected: String) throws {
        let path = try JSONPath(text)
        #expect(!path.isDefinite)
        #expect(path.evaluate(Self.store)?.serialized() == expected)
        #expect(try path.resolve(Self.store).serialized() == expected)
    }

    @Test func deepScanVisitsParentsBeforeChildren() throws {
        let doc = try JSON.parse(#"{"a":{"b":1,"c":{"b":2}},"b":[{"b":3}]}"#)
        #expect(try JSONPath("$..b").evaluate(doc)?.serialized() == #"[[{"b":3}],1,2,3]"#)
        #expect(try JSONPath("$..*").evaluate(doc)?.serialized() == #"[{"b":1,"c":{"b":2}},[{"b":3}],1,{"b":2},2,{"b":3},3]"#)
        #expect(try JSONPath("$..[0]").evaluate(doc)?.serialized() == #"[{"b":3}]"#)
    }

    @Test(arguments: [
        "", "a.b", "$.", "$..", "$.a.", "$a", "$[", "$[]", "$.a b", "$['a'", "$[1:2:3]", "$[?(@.a]", "$.foo(",
        "$.a..", "$...a", "$.length(1)", "$.unknownFunction()", "$.a.length().b", "$[?(@.a === )]", "@.a", "$[a]",
        "$[?(@.a ~~ 1)]", "$['a' 'b']", "$[*", "$[1,]", "$[?(@.a == 'x)]", "$[?(1)]", "$.*x", "$[?(@.a == [1,)]",
        "$..length()", "$[?(@.a type 'string')]",
    ])
    func rejected(_ text: String) {
        #expect(throws: JSONPathError.self) { try JSONPath(text) }
    }

    @Test(arguments: [
        ("$", true), ("$.a", true), ("$['a']", true), ("$.a[0]", true), ("$.a.b[2].c", true), (" $.a ", true),
        ("$.a[*]", false), ("$..a", false), ("$.a[-1]", false), ("$.a[0,1]", false), ("$.a.length()", false),
        ("$['a','b']", false), ("$.a[?(@.x)]", false), ("$.a[1:2]", false),
    ])
    func referencePaths(_ text: String, _ isReference: Bool) throws {
        #expect(try JSONPath(text).isReferencePath == isReference)
    }

    // AWS behaviour: case scenarios.test_base_scenarios.TestBaseScenarios.test_escape_sequence_parsing.ESCAPE_SEQUENCES_JSONPATH:
    // inside ['...'] the backslash protects the quote and is kept in the name.
    @Test func bracketNamesKeepBackslashes() throws {
        let input = try JSON.parse(#"{"Test\\\"\"Name\"": "Value\"\\"}"#)
        let path = try JSONPath(#"$['Test\""Name"']"#)
        #expect(path.evaluate(input) == .string("Value\"\\"))
        #expect(try JSONPath(#"$['it\'s']"#).evaluate(["it\\'s": 1]) == .int(1))
    }

    // Jayway's explanations, which AWS quotes after "Invalid path '<path>' : ".
    @Test(arguments: [
        // Cases scenarios...test_invalid_jsonpath.ST.INVALID_JSONPATH_IN_INPUTPATH / _IN_OUTPUTPATH / _IN_TIMEOUTSECONDSPATH.
        ("$.NoSuchInputPath", #"{"int-literal":0}"#, "No results for path: $['NoSuchInputPath']"),
        // Case scenarios...test_catch_states_runtime.
        ("$.no.such.result.path", #"{"Payload":{}}"#, "Missing property in path $['no']"),
        ("$.a.b.c", #"{"a":{}}"#, "Missing property in path $['a']['b']"),
        ("$.a[5]", #"{"a":[]}"#, "No results for path: $['a'][5]"),
        ("$.a[5].b", #"{"a":[]}"#, "No results for path: $['a'][5]['b']"),
        ("$.a[0]", #"{"a":null}"#, "The path $['a'] is null"),
        ("$.a[0]", #"{"a":{"x":1}}"#, #"Filter: [0] can only be applied to arrays. Current context is: {"x":1}"#),
        ("$.a.b", #"{"a":5}"#,
         "Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.Integer'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."),
        ("$.a.b", #"{"a":null}"#,
         "Expected to find an object with property ['b'] in path $['a'] but found 'null'. This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."),
        ("$.a.min()", #"{"a":[]}"#, "Aggregation function attempted to calculate value using empty array"),
    ])
    func jaywayMessages(_ text: String, _ document: String, _ message: String) throws {
        let path = try JSONPath(text)
        let error = #expect(throws: JSONPathNotFound.self) { try path.resolve(JSON.parse(document)) }
        #expect(error?.jaywayMessage == message)
        #expect(error?.invalidPathMessage == "Invalid path '\(text)' : \(message)")
    }

    @Test func normalizedText() throws {
        #expect(try JSONPath("$.a['b'][0][1:2][*]..c[?(@.x)].length()").normalizedText == "$['a']['b'][0][1:2][*]..['c'][?].length()")
    }
}

@Suite struct ResultPathTests {
    @Test(arguments: [
        ("$", #"{"a":1}"#, #""r""#, #""r""#),
        ("$.result", #"{"a":1}"#, #"{"x":1}"#, #"{"a":1,"result":{"x":1}}"#),
        ("$.a", #"{"a":1,"b":2}"#, "3", #"{"a":3,"b":2}"#),  // an existing member keeps its place
        ("$.x.y.z", #"{"a":1}"#, "true", #"{"a":1,"x":{"y":{"z":true}}}"#),  // missing objects are created
        ("$.a.b", #"{"a":{"c":1}}"#, "2", #"{"a":{"c":1,"b":2}}"#),
        ("$.list[1]", #"{"list":[1,2,3]}"#, #""two""#, #"{"list":[1,"two",3]}"#),
        ("$.list[0].k", #"{"list":[{"k":0}]}"#, "1", #"{"list":[{"k":1}]}"#),
        ("$['a b']", "{}", "1", #"{"a b":1}"#),
    ])
    func assigns(_ path: String, _ input: String, _ value: String, _ expected: String) throws {
        let result = try JSONPath(path).assigning(JSON.parse(value), into: JSON.parse(input))
        #expect(result.serialized() == expected)
    }

    @Test(arguments: [
        ("$.a", #""text""#),
        ("$.a", "[1,2]"),
        ("$.a.b", #"{"a":5}"#),
        ("$.a.b", #"{"a":[1]}"#),
        ("$.a[0]", #"{"a":{"0":1}}"#),
        ("$.a[3]", #"{"a":[1]}"#),
        ("$.a[0]", "{}"),
        ("$.a[*]", #"{"a":[1]}"#),
        ("$..a", #"{"a":1}"#),
    ])
    func failsWithResultPathMatchFailure(_ path: String, _ input: String) throws {
        let root = try JSON.parse(input)
        let error = #expect(throws: StatesError.self) { try JSONPath(path).assigning(1, into: root) }
        #expect(error?.name == "States.ResultPathMatchFailure")
        #expect(error?.cause == "Unable to apply ReferencePath \(path) to input \(root.serialized())")
    }

    @Test func failureLeavesTheInputUnchanged() throws {
        var root = try JSON.parse(#"{"a":{"b":5}}"#)
        let before = root
        #expect(throws: StatesError.self) { try JSONPath("$.a.b.c").assign(1, into: &root) }
        #expect(root.serialized() == before.serialized())
    }
}
