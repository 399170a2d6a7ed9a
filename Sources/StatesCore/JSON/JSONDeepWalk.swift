/// Walks over JSON values that do not recurse on the thread's stack, for values of any depth.
///
/// The parser stops at `JSON.defaultMaxDepth`, but a workflow builds deeper values (a loop
/// whose Pass state wraps its input, `{"x.$": "$"}`, nests one level per iteration; 256 KiB
/// of `[[[...]]]` is 131,072 levels). The recursive walks (writing, sizes, equality,
/// hashing) follow a value down to `JSON.recursionDepth` levels, where each level costs a
/// few hundred bytes of stack in a debug build, and hand anything deeper to the walks here,
/// whose stack lives on the heap.
extension JSON {
    /// How deep the recursive walks go before they continue on a heap stack.
    static let recursionDepth = 48

    /// One step of an iterative walk, in document order.
    enum WalkStep {
        /// A value that is not an array or an object.
        case scalar(JSON)
        case arrayStart(count: Int)
        case objectStart(count: Int)
        /// Before the element at `index` of the array being walked.
        case element(index: Int)
        /// Before the value of the member at `index` of the object being walked.
        case member(key: String, index: Int)
        case arrayEnd
        case objectEnd
    }

    /// Visits the value in document order with an explicit stack.
    func walkIteratively(_ visit: (WalkStep) -> Void) {
        enum Frame {
            case array([JSON], next: Int)
            case object(JSONObject, next: Int)
        }
        var stack: [Frame] = []
        var pending: JSON? = self
        while true {
            if let value = pending {
                pending = nil
                switch value {
                case .array(let a):
                    visit(.arrayStart(count: a.count))
                    stack.append(.array(a, next: 0))
                case .object(let o):
                    visit(.objectStart(count: o.count))
                    stack.append(.object(o, next: 0))
                default:
                    visit(.scalar(value))
                }
            }
            guard let top = stack.popLast() else { return }
            switch top {
            case .array(let a, let i):
                if i == a.count {
                    visit(.arrayEnd)
                    continue
                }
                visit(.element(index: i))
                stack.append(.array(a, next: i + 1))
                pending = a[i]
            case .object(let o, let i):
                if i == o.count {
                    visit(.objectEnd)
                    continue
                }
                visit(.member(key: o.key(at: i), index: i))
                stack.append(.object(o, next: i + 1))
                pending = o.value(at: i)
            }
        }
    }

    /// `write(to:)` for a value of any depth.
    @inline(never)
    func writeIteratively(to out: inout [UInt8]) {
        walkIteratively { step in
            switch step {
            case .scalar(let v): v.write(to: &out)
            case .arrayStart: out.append(UInt8(ascii: "["))
            case .objectStart: out.append(UInt8(ascii: "{"))
            case .element(let i): if i > 0 { out.append(UInt8(ascii: ",")) }
            case .member(let key, let i):
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONStringFormat.append(key, to: &out)
                out.append(UInt8(ascii: ":"))
            case .arrayEnd: out.append(UInt8(ascii: "]"))
            case .objectEnd: out.append(UInt8(ascii: "}"))
            }
        }
    }

    /// `serializedSize` for a value of any depth.
    @inline(never)
    func serializedSizeIteratively() -> Int {
        var n = 0
        walkIteratively { step in
            switch step {
            case .scalar(let v): n += v.serializedSize
            case .arrayStart, .objectStart, .arrayEnd, .objectEnd: n += 1
            case .element(let i): n += i > 0 ? 1 : 0
            case .member(let key, let i): n += (i > 0 ? 1 : 0) + JSONStringFormat.size(key) + 1
            }
        }
        return n
    }

    /// How many arrays and objects deep the value nests (a scalar: 0), at any depth.
    public func nestingDepth() -> Int {
        var level = 0, deepest = 0
        walkIteratively { step in
            switch step {
            case .arrayStart, .objectStart:
                level += 1
                deepest = max(deepest, level)
            case .arrayEnd, .objectEnd: level -= 1
            default: break
            }
        }
        return deepest
    }

    /// Size bounds of a value of any depth for one pass of `serializedSizeExceeds` (without
    /// the memo: a value this deep is rare, and the bounds are the same).
    @inline(never)
    func sizeBoundsIteratively<Pass: SizePass>(_ pass: Pass.Type) -> SizeBounds {
        var bounds = SizeBounds()
        walkIteratively { step in
            switch step {
            case .scalar(let v): bounds.add(scalar: v, pass)
            case .arrayStart, .objectStart, .arrayEnd, .objectEnd: bounds.add(1)
            case .element(let i): bounds.add(i > 0 ? 1 : 0)
            case .member(let key, let i):
                bounds.add(i > 0 ? 2 : 1)
                bounds.add(Pass.string(key))
            }
        }
        return bounds
    }

    /// `prettyPrinted` for a value of any depth, starting at indentation `level`.
    @inline(never)
    func writePrettyIteratively(to out: inout [UInt8], level: Int, indent: [UInt8]) {
        var level = level
        var counts: [Int] = []
        func newline(_ level: Int) {
            out.append(0x0A)
            for _ in 0..<level { out.append(contentsOf: indent) }
        }
        walkIteratively { step in
            switch step {
            case .scalar(let v): v.write(to: &out)
            case .arrayStart(let n), .objectStart(let n):
                if case .arrayStart = step { out.append(UInt8(ascii: "[")) } else { out.append(UInt8(ascii: "{")) }
                counts.append(n)
                level += 1
            case .element(let i):
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level)
            case .member(let key, let i):
                if i > 0 { out.append(UInt8(ascii: ",")) }
                newline(level)
                JSONStringFormat.append(key, to: &out)
                out.append(contentsOf: ": ".utf8)
            case .arrayEnd, .objectEnd:
                level -= 1
                if counts.removeLast() > 0 { newline(level) }
                out.append(step.isArrayEnd ? UInt8(ascii: "]") : UInt8(ascii: "}"))
            }
        }
    }

    /// `==` for values of any depth: pairs still to compare wait on a heap stack.
    @inline(never)
    static func equalIteratively(_ lhs: JSON, _ rhs: JSON) -> Bool {
        var pairs: [(JSON, JSON)] = [(lhs, rhs)]
        while let (a, b) = pairs.popLast() {
            switch (a, b) {
            case (.array(let x), .array(let y)):
                guard x.count == y.count else { return false }
                for i in x.indices { pairs.append((x[i], y[i])) }
            case (.object(let x), .object(let y)):
                guard x.count == y.count else { return false }
                if x.storageIdentity == y.storageIdentity { continue }
                for i in 0..<x.count {
                    let key = x.key(at: i)
                    guard let other = y[key] else { return false }
                    pairs.append((x.value(at: i), other))
                }
            case (.array, _), (.object, _), (_, .array), (_, .object):
                return false
            default:
                // Scalars: no recursion.
                guard equal(a, b, depth: 0) else { return false }
            }
        }
        return true
    }
}

extension JSON.WalkStep {
    var isArrayEnd: Bool { if case .arrayEnd = self { true } else { false } }
}
