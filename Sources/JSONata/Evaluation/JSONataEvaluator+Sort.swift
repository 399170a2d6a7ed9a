/// The order-by step `^(...)`: a stable merge sort on the terms' values.
extension Evaluator {
    func evaluateSort(_ expr: Node, _ input: JArray, _ env: Frame) throws -> JArray {
        let isTupleSort = input.isTupleStream
        if input.count <= 1 { return input }
        // evaluate each term once per item, then merge-sort on the keys
        var keys: [[JValue?]] = []
        keys.reserveCapacity(input.count)
        for item in input.items {
            var row: [JValue?] = []
            for term in expr.sortTerms {
                if isTupleSort {
                    row.append(try evaluate(term.expression, item.asObject?["@"], frame(from: item, env)))
                } else {
                    row.append(try evaluate(term.expression, item, env))
                }
            }
            keys.append(row)
        }
        let position = expr.position
        let terms = expr.sortTerms
        func swap(_ a: Int, _ b: Int) throws -> Bool {
            var comp = 0
            var index = 0
            while comp == 0 && index < terms.count {
                defer { index += 1 }
                let aa = keys[a][index], bb = keys[b][index]
                guard let aa else {
                    comp = bb == nil ? 0 : 1
                    continue
                }
                guard let bb else {
                    comp = -1
                    continue
                }
                switch (aa, bb) {
                case (.number(let x), .number(let y)):
                    if x == y { continue }
                    comp = x < y ? -1 : 1
                case (.string(let x), .string(let y)):
                    if x == y { continue }
                    comp = Builtins.utf16Less(x, y) ? -1 : 1
                case (.number, .string), (.string, .number):
                    throw JSONataError(code: "T2007", position: position, value: aa, value2: bb)
                default:
                    let bad: JValue
                    switch aa {
                    case .number, .string: bad = bb
                    default: bad = aa
                    }
                    throw JSONataError(code: "T2008", position: position, value: bad)
                }
                if terms[index].descending { comp = -comp }
            }
            return comp == 1
        }
        let order = try Builtins.mergeSort(Array(0..<input.count), swap)
        let out = JArray(ContiguousArray(order.map { input.items[$0] }))
        out.isTupleStream = isTupleSort
        out.isSequence = true
        return out
    }
}
