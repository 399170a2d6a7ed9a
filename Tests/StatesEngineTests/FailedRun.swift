import StatesEngine
import StatesLanguage
import Testing

/// Runs a definition that must fail, for tests of causes and EvaluationFailed events.
enum FailedRun {
    struct Failure {
        var error: String?
        var cause: String?
        /// EvaluationFailed's location, if the history has one.
        var location: String?
    }

    /// The prefix of the causes of a state named `S` entered as the first state.
    static let prefix = "An error occurred while executing the state 'S' (entered at the event id #2). "

    static func run(_ text: String, input: JSON = [:]) throws -> Failure {
        let definition = try StateMachineDefinition.parse(text)
        var handler = NoTaskHandler()
        let outcome = LocalRunner(random: RandomSource(seed: 5)).run(
            definition: definition, info: ExecutionInfo.make(stateMachineName: "m", executionName: "e"), input: input,
            startTime: 1_700_000_000_000, handler: &handler)
        #expect(outcome.state.status == .failed)
        var location: String? = nil
        for event in outcome.events {
            if case .evaluationFailed(_, _, let l, _) = event.details { location = l }
        }
        return Failure(error: outcome.state.error?.name, cause: outcome.state.error?.cause, location: location)
    }
}
