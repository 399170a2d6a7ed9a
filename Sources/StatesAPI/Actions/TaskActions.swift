import StatesEngine
import StatesLanguage
import SteplineRuntime

/// Callbacks and activity workers.
extension StepFunctionsAPI {
    /// GetActivityTask waits at most this long (AWS: 60 s).
    static let activityPollTimeout: Duration = .seconds(60)

    static func registerTaskActions(_ h: inout [String: Handler]) {
        h["SendTaskSuccess"] = { req, s in
            try await s.executions.sendTaskSuccess(
                taskToken: try req.requiredString("taskToken"),
                output: try req.requiredString("output"))
            return [:]
        }
        h["SendTaskFailure"] = { req, s in
            try await s.executions.taskFailed(
                token: try req.requiredString("taskToken"),
                error: try req.string("error"), cause: try req.string("cause"))
            return [:]
        }
        h["SendTaskHeartbeat"] = { req, s in
            try await s.executions.taskHeartbeat(token: try req.requiredString("taskToken"))
            return [:]
        }
        h["GetActivityTask"] = { req, s in
            let arn = try req.requiredString("activityArn")
            let worker = try req.string("workerName")
            _ = try await s.resources.describeActivity(arn: arn)
            guard let task = try await s.activities.poll(activityArn: arn, workerName: worker, timeout: activityPollTimeout)
            else { return [:] }
            return ["taskToken": .string(task.token), "input": .string(task.parameters.serialized())]
        }
    }
}
