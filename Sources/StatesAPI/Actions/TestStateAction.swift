import StatesEngine
import StatesLanguage
import SteplineRuntime
import ControlPlane

extension StepFunctionsAPI {
    static func registerTestStateAction(_ h: inout [String: Handler]) {
        h["TestState"] = { req, s in
            do {
                return try TestStateRunner.run(req.body, now: s.runtime.now())
            } catch let error as TestStateRunner.Failure {
                throw ServiceError(error.type, error.message)
            }
        }
    }
}
