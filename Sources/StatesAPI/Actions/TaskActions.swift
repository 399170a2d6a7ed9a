import ControlPlane
import StatesEngine
import StatesLanguage

/// Callbacks and activity workers.
extension StepFunctionsAPI {
    static func registerTaskActions(_ h: inout [String: Handler]) {
        h["SendTaskSuccess"] = { req, control in
            try await control.sendTaskSuccess(TaskToken(try req.requiredString("taskToken")), output: try req.requiredString("output"))
            return [:]
        }
        h["SendTaskFailure"] = { req, control in
            try await control.sendTaskFailure(TaskToken(try req.requiredString("taskToken")), error: req.string("error"), cause: req.string("cause"))
            return [:]
        }
        h["SendTaskHeartbeat"] = { req, control in
            try await control.sendTaskHeartbeat(TaskToken(try req.requiredString("taskToken")))
            return [:]
        }
        h["GetActivityTask"] = { req, control in
            guard let task = try await control.getActivityTask(ActivityARN(try req.requiredString("activityArn")), workerName: req.string("workerName"))
            else { return [:] }
            return ["taskToken": .string(task.taskToken.rawValue), "input": .string(task.input.serialized())]
        }
    }
}
