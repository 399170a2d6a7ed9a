/// The evaluation budget and depth accounting: what makes a runaway expression fail with
/// `U1001` instead of hanging or overflowing the native stack.
///
/// `depth` counts nested evaluations as jsonata-js's `depth` does (a tail call through the
/// trampoline does not deepen), plus one per call of a built-in function; `steps` counts
/// evaluations, and the budget (steps, deadline) is checked every 1,024 of them. The fast
/// paths count the steps the general walk would have counted, in one addition.
extension Evaluator {
    /// Fails with `U1001` when the step budget is spent or the deadline has passed.
    func checkBudget() throws {
        if steps > maxSteps {
            throw JSONataError(code: "U1001", message: "Expression evaluation exceeded its step budget: check for an infinite loop")
        }
        if let deadline, deadline() {
            throw JSONataError(code: "U1001", message: "Expression evaluation timeout: Check for infinite loop")
        }
    }

    /// Checks the budget from built-ins that loop without evaluating (range, sort).
    func tick(_ n: Int = 1) throws {
        steps += n
        try checkBudget()
    }

    /// Counts one evaluation step, checking the budget every 1,024 steps.
    @inline(__always) func countStep() throws {
        steps += 1
        if steps & 1023 == 0 { try checkBudget() }
    }

    /// Counts `n` steps at once (those of a fast walk), checking the budget when they cross
    /// a multiple of 1,024.
    @inline(__always) func countSteps(_ n: Int) throws {
        let before = steps
        steps += n
        if before >> 10 != steps >> 10 { try checkBudget() }
    }

    /// Enters a call of a built-in or host function: one level of depth, which the caller
    /// leaves with `depth -= 1`.
    @inline(__always) func enterCall() throws {
        depth += 1
        if depth > maxDepth {
            depth -= 1
            throw JSONataError(code: "U1001")
        }
    }
}
