import StatesEngine
import StatesLanguage
import Testing

/// A workflow cannot build a value deeper than the store reads back (the JSON parser's 512
/// levels): a loop that wraps its input once more at each turn fails with `States.Runtime`
/// at the state that goes past it. Before, it ran on to the history quota, and the history
/// and output it left were deeper than anything could read (DescribeExecution answered
/// InternalFailure).
@Suite struct PayloadDepthTests {
    static let wrapLoop = #"""
        {"StartAt": "Wrap", "States": {
          "Wrap": {"Type": "Pass", "Parameters": {"x.$": "$"}, "Next": "Again"},
          "Again": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "IsPresent": true, "Next": "Done"}], "Default": "Wrap"},
          "Done": {"Type": "Succeed"}}}
        """#

    @Test func aLoopThatWrapsItsInputFailsPastTheParsersDepth() throws {
        let f = try FailedRun.run(Self.wrapLoop)
        #expect(f.error == "States.Runtime")
        #expect(f.cause == "The state/task 'Wrap' returned a result whose nesting depth (513) exceeds the maximum allowed (512).")
    }

    @Test func deepButAllowedValuesPass() throws {
        var value: JSON = 1
        for _ in 0..<511 { value = .array([value]) }
        #expect(value.nestingDepth() == 511)
        var memo = JSONSizeMemo()
        #expect(value.payloadProblem(sizeLimit: payloadSizeLimit, memo: &memo) == nil)
        value = .object(["a": value])
        #expect(value.payloadProblem(sizeLimit: payloadSizeLimit, memo: &memo) == nil)
        value = .array([value])
        #expect(value.payloadProblem(sizeLimit: payloadSizeLimit, memo: &memo) == .tooDeep(513))
        // Shallow payloads are only measured: the size limit still decides first.
        let big = JSON.array(Array(repeating: .string(String(repeating: "x", count: 1000)), count: 300))
        #expect(big.payloadProblem(sizeLimit: payloadSizeLimit, memo: &memo) == .tooLarge)
    }
}
