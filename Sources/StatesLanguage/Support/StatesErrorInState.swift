extension StatesError {
    /// The error as the state machine reports it when it happens while a state runs:
    /// the cause is prefixed with the state and the id of its `...StateEntered` event.
    ///
    /// AWS behaviour: `An error occurred while executing the state 'pass' (entered at the
    /// event id #2). The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could
    /// not be found in the input '{"int-literal":0}'` (case
    /// `scenarios.*test_invalid_jsonpath.INVALID_JSONPATH_IN_STRING_EXPR_JSONPATH*`). Every
    /// `States.Runtime` and `States.QueryEvaluationError` cause in the corpus that comes from
    /// evaluating a state's fields has this prefix.
    public func inState<ID: BinaryInteger>(_ stateName: String, enteredEventID: ID) -> StatesError {
        let prefix = "An error occurred while executing the state '\(stateName)' (entered at the event id #\(enteredEventID))."
        return StatesError(name, cause: cause.map { "\(prefix) \($0)" } ?? prefix, framing: framing.union(.inState))
    }
}
