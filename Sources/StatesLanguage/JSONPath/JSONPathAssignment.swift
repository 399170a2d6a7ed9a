/// Writing through a reference path: how `ResultPath` places a result into the state input.
///
/// `$` replaces the whole input. Otherwise each `.name` step descends into an object,
/// creating the member as `{}` when it is missing and more names follow; the last step
/// sets the member (an existing member keeps its position, a new one goes last). An `[n]`
/// step replaces an existing array element.
///
/// AWS behaviour: when the path cannot be applied (the input or an intermediate member is
/// not an object, an index is out of range or meets a non-array), the state fails with
/// `States.ResultPathMatchFailure` and the cause
/// `Unable to apply ReferencePath <path> to input <input JSON>`.
/// (Not in the conformance corpus; wording as AWS reports it in user reports.)
extension JSONPath {
    /// `root` with `value` placed at this path.
    ///
    /// - Throws: `StatesError` named `States.ResultPathMatchFailure` when the path cannot be
    ///   applied to `root`, or when this is not a reference path.
    public func assigning(_ value: JSON, into root: JSON) throws(StatesError) -> JSON {
        var result = root
        try assign(value, into: &result)
        return result
    }

    /// Places `value` at this path inside `root`, in place (no copy when `root` is uniquely
    /// referenced). On failure `root` is left unchanged.
    ///
    /// - Throws: `StatesError` named `States.ResultPathMatchFailure`.
    public func assign(_ value: JSON, into root: inout JSON) throws(StatesError) {
        guard isReferencePath, let steps = storage.direct, Self.set(value, steps, 0, in: &root) else {
            throw StatesError(StatesError.Name.resultPathMatchFailure,
                              cause: "Unable to apply ReferencePath \(text) to input \(root.serialized())")
        }
    }

    /// Returns false, leaving `node` unchanged, when `steps[i...]` cannot be applied.
    private static func set(_ value: JSON, _ steps: ContiguousArray<DirectStep>, _ i: Int, in node: inout JSON) -> Bool {
        guard i < steps.count else {
            node = value
            return true
        }
        switch steps[i] {
        case .name(let name, _):
            guard case .object(var object) = node else { return false }
            node = .null  // drop the second reference so that `object` is mutated in place
            defer { node = .object(object) }
            if let k = object.indexOf(name) {
                return object.modifyValue(at: k) { child in set(value, steps, i + 1, in: &child) }
            }
            if i + 1 == steps.count {
                object.append(name, value)
                return true
            }
            guard case .name = steps[i + 1] else { return false }
            var child = JSON.object(JSONObject())
            guard set(value, steps, i + 1, in: &child) else { return false }
            object.append(name, child)
            return true
        case .index(let index):
            guard case .array(var array) = node, index >= 0, index < array.count else { return false }
            node = .null
            defer { node = .array(array) }
            var child = array[index]
            array[index] = .null
            let ok = set(value, steps, i + 1, in: &child)
            array[index] = child
            return ok
        }
    }
}
