/// The answer to one case of the event-pattern conformance corpus
/// (`../shared/conformance/event-patterns`), shared by `stepline conformance event-pattern`
/// and the test suite so both judge the same code path.
///
/// A case is a JSON object with `id`, `pattern` (or `pattern_text`, the pattern as a string),
/// and for a match case `event`. Pattern and event are read from their source text, so
/// numbers keep their spelling.
public enum EventPatternConformance {
    /// The answer line for one case line: `{"id": ..., "matches": bool}` for a match case,
    /// `{"id": ..., "valid": bool}` for a validity case (with `"error"` when rejected), and
    /// `{"error": ...}` when the line is not a case.
    public static func answer(caseLine: String) -> String {
        answerValue(caseLine: caseLine).serialized()
    }

    static func answerValue(caseLine: String) -> JSON {
        let members: [(key: String, text: String)]
        do {
            members = try JSON.rawMembers(ofObject: caseLine)
        } catch {
            return ["error": .string("case is not a JSON object: \(error)")]
        }
        func member(_ name: String) -> String? { members.last { $0.key == name }?.text }
        var answer = JSONObject()
        if let idText = member("id"), let id = try? JSON.parse(idText) { answer["id"] = id }

        let patternText: String
        if let text = member("pattern") {
            patternText = text
        } else if let text = member("pattern_text"), case .string(let s)? = try? JSON.parse(text) {
            patternText = s
        } else {
            answer["error"] = "case has neither pattern nor pattern_text"
            return .object(answer)
        }
        let pattern: EventPattern
        do {
            pattern = try EventPattern(text: patternText)
        } catch {
            if member("event") == nil { answer["valid"] = false }
            answer["error"] = .string(error.message)
            return .object(answer)
        }
        guard let eventText = member("event") else {
            answer["valid"] = true
            return .object(answer)
        }
        do {
            answer["matches"] = .bool(try pattern.matches(eventText: eventText))
        } catch {
            answer["error"] = .string("event is not JSON: \(error)")
        }
        return .object(answer)
    }
}
