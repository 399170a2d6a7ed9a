import StatesEngine
import StatesLanguage
import Testing

/// Where AWS writes a JSONPath-mode value into a string (a cause, a Fail state's CausePath),
/// it writes it as Java prints it: `{a=[1, x]}`, not JSON.
@Suite struct JavaTextTests {
    @Test(arguments: [
        (#"{"a":[1,"x"],"b":{}}"#, #"{a=[1, x], b={}}"#),
        (#"["x",null,1.5]"#, "[x, null, 1.5]"),
        (#""NoNumber""#, "NoNumber"),
    ])
    func causesQuoteValuesAsJavaPrintsThem(_ value: String, _ quoted: String) throws {
        let map = #"""
            {"StartAt":"S","States":{"S":{"Type":"Map","ItemsPath":"$.items","MaxConcurrencyPath":"$.v",
              "ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}
            """#
        let f = try FailedRun.run(map, input: ["items": [1], "v": try JSON.parse(value)])
        #expect(f.error == "States.Runtime")
        #expect(f.cause == FailedRun.prefix + "The MaxConcurrencyPath field refers to value \"\(quoted)\" which is not a valid integer: $.v")
    }

    @Test func failStateCausePathWritesTheValueAsJava() throws {
        let fail = #"{"StartAt":"S","States":{"S":{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}}}"#
        let f = try FailedRun.run(fail, input: ["e": "Boom", "c": ["a": [1, "x"], "n": .null]])
        #expect(f.error == "Boom" && f.cause == "{a=[1, x], n=null}")
    }
}
