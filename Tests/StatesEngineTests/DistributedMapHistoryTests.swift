import StatesEngine
import StatesLanguage
import Testing

/// A Distributed Map's events in the parent history: ids and `previousEventId` chains.
///
/// AWS behaviour, from the 49 Distributed Map executions recorded in LocalStack's AWS
/// snapshots (2023-09 to 2025-10): MapStateStarted, MapRunStarted, MapRunSucceeded and
/// MapStateSucceeded each chain to the event before; MapStateExited chains to MapRunSucceeded
/// in every recording up to 2024-08-19 and to MapRunStarted in every recording from
/// 2024-11-13 on (AWS changed it in between). A failed Map Run: MapRunFailed, then
/// MapStateFailed chained to it.
struct DistributedMapHistoryTests {
    static let november2024: Int64 = 1_730_419_200_000  // 2024-11-01T00:00:00Z

    /// `(id, previousEventId, type)` of every AWS event of one run.
    static func chain(_ definition: String, input: JSON, startTime: Int64 = 1_767_225_600_000) throws -> [String] {
        let d = try StateMachineDefinition.parse(definition)
        let runner = LocalRunner(random: RandomSource(seed: 11))
        var handler = NoTaskHandler()
        let outcome = runner.run(definition: d, info: ExecutionInfo.make(stateMachineName: "m", executionName: "e"), input: input,
                                 startTime: startTime, handler: &handler)
        return outcome.events.filter { !$0.isInternal }.map { "\($0.id)<\($0.previousEventId) \($0.type.rawValue)" }
    }

    static func distributed(_ extra: String = "", inner: String = #"{"Type": "Pass", "End": true}"#) -> String {
        """
        {"StartAt": "Before", "States": {
          "Before": {"Type": "Pass", "Next": "M"},
          "M": {"Type": "Map", \(extra) "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "I", "States": {"I": \(inner)}}, "Next": "After"},
          "After": {"Type": "Succeed"}}}
        """
    }

    static let succeeded = [
        "1<0 ExecutionStarted", "2<0 PassStateEntered", "3<2 PassStateExited", "4<3 MapStateEntered", "5<4 MapStateStarted",
        "6<5 MapRunStarted", "7<6 MapRunSucceeded", "8<7 MapStateSucceeded", "9<6 MapStateExited", "10<9 SucceedStateEntered",
        "11<10 SucceedStateExited", "12<11 ExecutionSucceeded",
    ]

    /// Today's chain (recordings from 2024-11-13 on), whatever the Map's fields: MapStateExited
    /// chains to MapRunStarted.
    @Test(arguments: [
        "",
        #""ItemSelector": {"v.$": "$$.Map.Item.Value"},"#,
        #""MaxConcurrency": 1, "ToleratedFailureCount": 1,"#,
        #""ToleratedFailurePercentage": 50, "Label": "L","#,
    ])
    func mapStateExitedChainsToMapRunStarted(fields: String) throws {
        #expect(try Self.chain(Self.distributed(#""ItemsPath": "$.items", "# + fields), input: ["items": [1, 2, 3]]) == Self.succeeded)
    }

    /// Tolerated failures stay inside the Map Run: the parent's chain is the same.
    @Test func toleratedFailuresDoNotShowInTheParent() throws {
        let inner = #"{"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Good"}, "Bad": {"Type": "Fail", "Error": "E"}, "Good": {"Type": "Pass", "End": true}"#
        let d = Self.distributed(#""ItemsPath": "$.items", "ToleratedFailureCount": 1, "#, inner: inner)
        #expect(try Self.chain(d, input: ["items": [1, 2, 3]]) == Self.succeeded)
    }

    /// A Distributed Map nested in a Distributed Map: the inner one runs in the child
    /// executions, so the parent shows one Map Run.
    @Test func nestedDistributedMap() throws {
        let inner = #"{"Type": "Map", "ItemsPath": "$.inner", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}"#
        let d = Self.distributed(#""ItemsPath": "$.outer", "#, inner: inner)
        #expect(try Self.chain(d, input: ["outer": [["inner": [1, 2]], ["inner": [3]]]]) == Self.succeeded)
    }

    /// An execution that AWS ran before its change chains MapStateExited to MapRunSucceeded.
    @Test func executionsStartedBeforeNovember2024ChainToMapRunSucceeded() throws {
        var old = Self.succeeded
        old[8] = "9<7 MapStateExited"
        #expect(try Self.chain(Self.distributed(#""ItemsPath": "$.items", "#), input: ["items": [1]],
                               startTime: Self.november2024 - 86_400_000) == old)
    }

    /// A Map Run that fails: MapRunFailed, MapStateFailed chained to it, ExecutionFailed.
    @Test func failedMapRun() throws {
        let d = Self.distributed(#""ItemsPath": "$.items", "#, inner: #"{"Type": "Fail", "Error": "E", "Cause": "c"}"#)
        #expect(try Self.chain(d, input: ["items": [1]]) == [
            "1<0 ExecutionStarted", "2<0 PassStateEntered", "3<2 PassStateExited", "4<3 MapStateEntered", "5<4 MapStateStarted",
            "6<5 MapRunStarted", "7<6 MapRunFailed", "8<7 MapStateFailed", "9<8 ExecutionFailed",
        ])
    }
}
