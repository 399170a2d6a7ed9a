import StatesLanguage

/// Step Functions Local's `MockConfigFile`: per state machine, named test cases map state
/// names to mocked responses; a mocked response answers each invocation (counted per state,
/// retries included) with `Return` (the task result) or `Throw` (`Error` and `Cause`).
///
/// ```json
/// {"StateMachines": {"Orders": {"TestCases": {"HappyPath": {"Charge": "ChargeOK"}}}},
///  "MockedResponses": {"ChargeOK": {"0": {"Return": {"id": 1}}, "1-2": {"Throw": {"Error": "E"}}}}}
/// ```
public struct MockConfiguration: Sendable {
    public struct Response: Sendable {
        public var first: Int
        public var last: Int
        public var outcome: TaskOutcome
    }

    /// State machine name → test case name → state name → mocked response name.
    public let testCases: [String: [String: [String: String]]]
    /// Mocked response name → responses by invocation range.
    public let responses: [String: [Response]]

    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public init(json: JSON) throws(FormatError) {
        guard case .object(let root) = json else { throw FormatError(description: "The mock file must be a JSON object") }
        var cases: [String: [String: [String: String]]] = [:]
        if let machines = root["StateMachines"] {
            guard case .object(let m) = machines else { throw FormatError(description: "'StateMachines' must be an object") }
            for (machine, value) in m {
                guard case .object(let mo) = value, case .object(let tcs)? = mo["TestCases"] else {
                    throw FormatError(description: "StateMachines.\(machine) must have a 'TestCases' object")
                }
                var byCase: [String: [String: String]] = [:]
                for (name, tc) in tcs {
                    guard case .object(let states) = tc else {
                        throw FormatError(description: "TestCases.\(name) must map state names to mocked response names")
                    }
                    var map: [String: String] = [:]
                    for (state, response) in states {
                        guard let r = response.stringValue else {
                            throw FormatError(description: "TestCases.\(name).\(state) must be the name of a mocked response")
                        }
                        map[state] = r
                    }
                    byCase[name] = map
                }
                cases[machine] = byCase
            }
        }
        var responses: [String: [Response]] = [:]
        if let mocked = root["MockedResponses"] {
            guard case .object(let m) = mocked else { throw FormatError(description: "'MockedResponses' must be an object") }
            for (name, value) in m {
                guard case .object(let byIndex) = value else {
                    throw FormatError(description: "MockedResponses.\(name) must map invocation indexes to responses")
                }
                var list: [Response] = []
                for (key, r) in byIndex {
                    let bounds = key.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                    guard (1...2).contains(bounds.count), let first = bounds[0], let last = bounds.last!, first <= last, first >= 0 else {
                        throw FormatError(description: "MockedResponses.\(name): '\(key)' is not an invocation index or range such as \"0\" or \"1-2\"")
                    }
                    list.append(Response(first: first, last: last, outcome: try Self.outcome(r, at: "MockedResponses.\(name).\(key)")))
                }
                responses[name] = list.sorted { $0.first < $1.first }
            }
        }
        testCases = cases
        self.responses = responses
        for (machine, byCase) in cases {
            for (tc, states) in byCase {
                for (state, r) in states where responses[r] == nil {
                    throw FormatError(description: "StateMachines.\(machine).TestCases.\(tc).\(state) names '\(r)', which is not in MockedResponses")
                }
            }
        }
    }

    private static func outcome(_ json: JSON, at path: String) throws(FormatError) -> TaskOutcome {
        guard case .object(let o) = json else { throw FormatError(description: "\(path) must be an object") }
        if let r = o["Return"] {
            return .succeeded(r)
        }
        if case .object(let t)? = o["Throw"] {
            return .failed(t["Error"]?.stringValue, t["Cause"]?.stringValue)
        }
        throw FormatError(description: "\(path) must have 'Return' or 'Throw'")
    }

    /// The handler for one test case of one state machine.
    public func handler(stateMachine: String, testCase: String) throws(FormatError) -> MockTaskHandler {
        guard let byCase = testCases[stateMachine] else {
            throw FormatError(description: "The mock file has no state machine named '\(stateMachine)' (it has: \(testCases.keys.sorted().joined(separator: ", ")))")
        }
        guard let states = byCase[testCase] else {
            throw FormatError(description: "State machine '\(stateMachine)' has no test case '\(testCase)' (it has: \(byCase.keys.sorted().joined(separator: ", ")))")
        }
        return MockTaskHandler(mocks: states.mapValues { responses[$0]! })
    }
}

/// Answers tasks from a mock test case, counting invocations per state.
public struct MockTaskHandler: TaskHandler {
    let mocks: [String: [MockConfiguration.Response]]
    var invocations: [String: Int] = [:]

    public mutating func handle(_ request: TaskRequest) -> TaskOutcome {
        let n = invocations[request.stateName, default: 0]
        invocations[request.stateName] = n + 1
        guard let list = mocks[request.stateName] else {
            return .failed("Stepline.MockNotFound", "The test case has no mocked response for state '\(request.stateName)'")
        }
        guard let response = list.first(where: { $0.first <= n && n <= $0.last }) else {
            return .failed("Stepline.MockNotFound",
                           "The mocked response for state '\(request.stateName)' has no entry for invocation \(n)")
        }
        return response.outcome
    }
}
