/// The transform operator `| pattern | update [, delete] |`, applied to a clone of its input.
extension Evaluator {
    func transform(_ expr: Node, _ env: Frame, _ obj: JValue?) throws -> JValue? {
        guard let obj else { return nil }
        let cloneFn = env.lookup("clone")
        guard case .function? = cloneFn else {
            throw JSONataError(code: "T2013", position: expr.position)
        }
        let result = try apply(cloneFn, [obj], nil, env)
        guard let matches = try evaluate(expr.pattern!, result, env) else { return result }
        let list: ContiguousArray<JValue>
        if case .array(let a) = matches { list = a.items } else { list = [matches] }
        for match in list {
            if let update = try evaluate(expr.update!, match, env) {
                guard case .object(let u) = update else {
                    throw JSONataError(code: "T2011", position: expr.update!.position, value: update)
                }
                if case .object(let m) = match {
                    for i in 0..<u.count { m.set(u.keys[i], u.values[i]) }
                }
            }
            if let del = expr.delete, let deletions = try evaluate(del, match, env) {
                var names: [String] = []
                switch deletions {
                case .string(let s): names = [s]
                case .array(let a):
                    for v in a.items {
                        guard case .string(let s) = v else {
                            throw JSONataError(code: "T2012", position: del.position, value: deletions)
                        }
                        names.append(s)
                    }
                default:
                    throw JSONataError(code: "T2012", position: del.position, value: deletions)
                }
                if case .object(let m) = match {
                    for n in names { m.remove(n) }
                }
            }
        }
        return result
    }
}
