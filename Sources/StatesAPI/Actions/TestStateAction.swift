import ControlPlane
import StatesLanguage

extension StepFunctionsAPI {
    static func registerTestStateAction(_ h: inout [String: Handler]) {
        h["TestState"] = { req, control in try await control.testState(req.body) }
    }
}
