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
                taskToken: try req.requiredString("taskToken", length: 1...2048),
                output: try req.requiredString("output", length: 0...262_144))
            return [:]
        }
        h["SendTaskFailure"] = { req, s in
            try await s.executions.taskFailed(
                token: try req.requiredString("taskToken", length: 1...2048),
                error: try req.string("error", length: 0...256), cause: try req.string("cause", length: 0...32_768))
            return [:]
        }
        h["SendTaskHeartbeat"] = { req, s in
            try await s.executions.taskHeartbeat(token: try req.requiredString("taskToken", length: 1...2048))
            return [:]
        }
        h["GetActivityTask"] = { req, s in
            let arn = try req.requiredString("activityArn", length: 1...256)
            let worker = try req.string("workerName", length: 1...80)
            _ = try await s.resources.describeActivity(arn: arn)
            guard let task = try await s.activities.poll(activityArn: arn, workerName: worker, timeout: activityPollTimeout)
            else { return [:] }
            return ["taskToken": .string(task.token), "input": .string(task.parameters.serialized())]
        }
    }
}
