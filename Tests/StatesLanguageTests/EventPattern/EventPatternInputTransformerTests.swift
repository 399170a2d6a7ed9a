import Testing
@testable import StatesLanguage

@Suite struct EventPatternInputTransformerTests {
    static let event: JSON = try! JSON.parse(
        #"{"id": "7bf7", "detail-type": "EC2 Instance State-change Notification", "time": "2015-11-11T21:29:54Z", "resources": ["arn:1", "arn:2"], "detail": {"instance-id": "i-1234", "state": "running", "count": 3, "tags": {"env": "prod"}, "quote": "say \"hi\"", "ok": true}}"#)

    static let input = TransformInput(
        value: event, key: "order-1", headers: [("trace", "abc"), ("trace", "def"), ("tenant", "t1")], topic: "orders",
        partition: 2, offset: 42, timestampMilliseconds: 1_700_000_000_123, ruleName: "new-orders",
        ruleARN: "arn:aws:events:us-east-1:123456789012:rule/new-orders")

    static func apply(_ map: [(String, String)], _ template: String) throws -> TransformOutput {
        try InputTransformer(pathsMap: map.map { (name: $0.0, path: $0.1) }, template: template).apply(to: input)
    }

    @Test func valuesOutsideQuotesAreJSON() throws {
        let out = try Self.apply(
            [("count", "$.detail.count"), ("tags", "$.detail.tags"), ("ok", "$.detail.ok"), ("state", "$.detail.state")],
            #"{"n": <count>, "t": <tags>, "ok": <ok>, "s": <state>, "list": [<count>, <count>]}"#)
        #expect(out == .json(["n": 3, "t": ["env": "prod"], "ok": true, "s": "running", "list": [3, 3]]))
    }

    @Test func valuesInsideQuotesAreEscapedContent() throws {
        let out = try Self.apply(
            [("id", "$.detail.instance-id"), ("q", "$.detail.quote"), ("n", "$.detail.count"), ("tags", "$.detail.tags")],
            #"{"message": "Instance <id> (<n>) said <q>", "tags": "<tags>"}"#)
        #expect(out == .json(["message": #"Instance i-1234 (3) said say "hi""#, "tags": "{env:prod}"]))
    }

    @Test func wholeTemplateAsJSONString() throws {
        let out = try Self.apply(
            [("instance", "$.detail.instance-id"), ("state", "$.detail.state")], #""<instance> is in state <state>""#)
        #expect(out == .json("i-1234 is in state running"))
    }

    @Test func textTemplate() throws {
        let out = try Self.apply(
            [("instance", "$.detail.instance-id"), ("tags", "$.detail.tags"), ("gone", "$.nope")],
            "Instance <instance> has tags <tags>.<gone>")
        #expect(out == .text(#"Instance i-1234 has tags {"env":"prod"}."#))
        #expect(out.asJSON == .string(#"Instance i-1234 has tags {"env":"prod"}."#))
    }

    @Test func missingPathsGiveNull() throws {
        let out = try Self.apply(
            [("gone", "$.detail.nothing"), ("deep", "$.detail.state.deeper"), ("idx", "$.resources[5]")],
            #"{"a": <gone>, "b": "x<deep>y", "c": <idx>}"#)
        #expect(out == .json(["a": nil, "b": "xy", "c": nil]))
    }

    @Test func pathForms() throws {
        let out = try Self.apply(
            [("first", "$.resources[0]"), ("quoted", "$['detail']['instance-id']"), ("dq", #"$["detail"].state"#),
             ("all", "$")],
            #"{"first": <first>, "quoted": <quoted>, "dq": <dq>, "same": <all>}"#)
        #expect(out == .json(["first": "arn:1", "quoted": "i-1234", "dq": "running", "same": Self.event]))
    }

    @Test func recordEnvelope() throws {
        let out = try Self.apply(
            [("key", "$$.key"), ("topic", "$$.topic"), ("p", "$$.partition"), ("o", "$$.offset"), ("ts", "$$.timestamp"),
             ("trace", "$$.headers.trace"), ("headers", "$$.headers"), ("state", "$$.value.detail.state")],
            #"{"key": <key>, "where": "<topic>/<p>@<o>", "ts": <ts>, "trace": <trace>, "h": <headers>, "s": <state>}"#)
        #expect(
            out
                == .json([
                    "key": "order-1", "where": "orders/2@42", "ts": 1_700_000_000_123, "trace": "def",
                    "h": ["trace": "def", "tenant": "t1"], "s": "running",
                ]))
    }

    @Test func predefinedPlaceholders() throws {
        let out = try Self.apply(
            [], #"{"rule": "<aws.events.rule-name>", "arn": <aws.events.rule-arn>, "at": "<aws.events.event.ingestion-time>", "e": <aws.events.event.json>}"#)
        #expect(
            out
                == .json([
                    "rule": "new-orders", "arn": "arn:aws:events:us-east-1:123456789012:rule/new-orders",
                    "at": "2023-11-14T22:13:20Z", "e": Self.event,
                ]))
    }

    @Test func unknownPlaceholdersStayText() throws {
        let out = try Self.apply([("a", "$.id")], #"{"x": "<a> <b> a<b"}"#)
        #expect(out == .json(["x": "7bf7 <b> a<b"]))
    }

    @Test func escapedQuotesInTemplateStrings() throws {
        let out = try Self.apply([("a", "$.id"), ("n", "$.detail.count")], #"{"x": "q\"<a>\"", "n": <n>}"#)
        #expect(out == .json(["x": #"q"7bf7""#, "n": 3]))
    }

    @Test(arguments: [
        ([("bad name", "$.a")], "must be 1 to 256"),
        ([("aws.events.x", "$.a")], "reserved prefix"),
        ([("a", "detail.x")], "must start with $"),
        ([("a", "$.")], "empty name"),
        ([("a", "$[x]")], "expected an index"),
        ([("a", "$.b"), ("a", "$.c")], "given twice"),
    ])
    func invalidDefinitions(map: [(String, String)], reason: String) {
        do {
            _ = try InputTransformer(pathsMap: map.map { (name: $0.0, path: $0.1) }, template: "{}")
            Issue.record("accepted")
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func dictionaryPathsMapAndDocumentedExample() throws {
        let event = try JSON.parse(#"{"detail": {"instance-id": "i-1", "state": "running"}}"#)
        let t = try InputTransformer(
            pathsMap: ["instance": "$.detail.instance-id", "state": "$.detail.state", "key": "$$.key"],
            template: #"{"instance": <instance>, "message": "<instance> is <state>", "record": "<key>"}"#)
        let out = try t.apply(to: TransformInput(value: event, key: "k1", topic: "ec2", partition: 0, offset: 7))
        #expect(out == .json(["instance": "i-1", "message": "i-1 is running", "record": "k1"]))
    }

    @Test func iso8601() {
        #expect(InputTransformer.iso8601(milliseconds: 0) == "1970-01-01T00:00:00Z")
        #expect(InputTransformer.iso8601(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00Z")
        #expect(InputTransformer.iso8601(milliseconds: -1) == "1969-12-31T23:59:59Z")
        #expect(InputTransformer.iso8601(milliseconds: 4_102_444_799_999) == "2099-12-31T23:59:59Z")
    }
}
