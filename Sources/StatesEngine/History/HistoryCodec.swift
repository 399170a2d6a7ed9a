import StatesLanguage

/// A lossless, compact binary encoding of history events, engine-private parts included.
///
/// The store keeps the events of one step as one encoded chunk. Everything `apply` reads
/// survives a round trip: AWS's fields, `thread`, `hidden` and every field of the
/// `EngineNote`. JSON values keep their key order and their number representation
/// (`.int`, `.double` by bit pattern, `.decimal` by its literal).
///
/// Format (version 1), all integers as LEB128 varints (signed ones zigzag-encoded):
///
///     chunk   = version:u8 count:uvar event*
///     event   = type:u8 [name:string if type == 0] id:svar previous:svar timestamp:svar
///               thread:uvar flags:u8 details [note if flags & 1]
///     details = tag:u8 fields...
///     note    = presence:uvar fields present, in bit order
///     payload = 0xFE index:uvar      (the same bytes as an earlier payload of this chunk)
///             | json
///     json    = 0 null | 1 false | 2 true | 3 int:svar | 4 double:u64le | 5 string
///             | 6 count:uvar json* | 7 count:uvar (string json)* | 8 literal:string
///
/// Event types are written as stable one-byte codes (see `typeCodes`); a type without a
/// code is written by name. Top-level payloads (state inputs and outputs, task parameters
/// and results) that repeat within a chunk are written once: a state's input is usually
/// the previous state's output.
///
/// - Important: Codes and tags MUST NOT be renumbered: stored histories are decoded with
///   them. Add new ones at the end, and add a field of `EngineNote` as a new presence bit.
public enum HistoryCodec {
    public static let version: UInt8 = 1

    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { "history chunk: \(message)" }
    }

    /// Encodes events as one chunk.
    public static func encode<C: Collection>(_ events: C) -> [UInt8] where C.Element == HistoryEvent {
        var w = Writer()
        w.bytes.reserveCapacity(64 + events.count * 48)
        w.bytes.append(version)
        w.uvar(UInt64(events.count))
        for e in events { w.event(e) }
        return w.bytes
    }

    /// Decodes a chunk written by `encode`.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> [HistoryEvent] {
        try bytes.withUnsafeBufferPointer { (buffer) throws(DecodingError) -> [HistoryEvent] in
            var r = Reader(buffer: buffer)
            guard try r.u8() == version else { throw DecodingError(message: "unknown version \(buffer.first ?? 0)") }
            let count = Int(try r.uvar())
            var events: [HistoryEvent] = []
            events.reserveCapacity(count)
            for _ in 0..<count { events.append(try r.event()) }
            guard r.position == buffer.count else { throw DecodingError(message: "trailing bytes") }
            return events
        }
    }

    /// Encodes one JSON value alone (inputs and outputs kept outside history chunks).
    public static func encode(json: JSON) -> [UInt8] {
        var w = Writer()
        w.json(json)
        return w.bytes
    }

    public static func decodeJSON(_ bytes: [UInt8]) throws(DecodingError) -> JSON {
        try bytes.withUnsafeBufferPointer { (buffer) throws(DecodingError) -> JSON in
            var r = Reader(buffer: buffer)
            let v = try r.json(depth: 0)
            guard r.position == buffer.count else { throw DecodingError(message: "trailing bytes") }
            return v
        }
    }

    // MARK: Stable codes

    /// One-byte codes of event types. Append only.
    static let typeList: [HistoryEventType] = [
        .activityFailed, .activityScheduled, .activityScheduleFailed, .activityStarted, .activitySucceeded,
        .activityTimedOut, .choiceStateEntered, .choiceStateExited, .executionAborted, .executionFailed,
        .executionStarted, .executionSucceeded, .executionTimedOut, .failStateEntered, .lambdaFunctionFailed,
        .lambdaFunctionScheduled, .lambdaFunctionScheduleFailed, .lambdaFunctionStarted, .lambdaFunctionStartFailed,
        .lambdaFunctionSucceeded, .lambdaFunctionTimedOut, .mapIterationAborted, .mapIterationFailed,
        .mapIterationStarted, .mapIterationSucceeded, .mapStateAborted, .mapStateEntered, .mapStateExited,
        .mapStateFailed, .mapStateStarted, .mapStateSucceeded, .parallelStateAborted, .parallelStateEntered,
        .parallelStateExited, .parallelStateFailed, .parallelStateStarted, .parallelStateSucceeded,
        .passStateEntered, .passStateExited, .succeedStateEntered, .succeedStateExited, .taskFailed,
        .taskScheduled, .taskStarted, .taskStartFailed, .taskStateAborted, .taskStateEntered, .taskStateExited,
        .taskSubmitFailed, .taskSubmitted, .taskSucceeded, .taskTimedOut, .waitStateAborted, .waitStateEntered,
        .waitStateExited, .mapRunAborted, .mapRunFailed, .mapRunStarted, .mapRunSucceeded, .executionRedriven,
        .mapRunRedriven, .evaluationFailed, .heartbeatRecorded, .retryScheduled,
    ]
    static let typeCodes: [HistoryEventType: UInt8] = {
        var m: [HistoryEventType: UInt8] = [:]
        for (i, t) in typeList.enumerated() { m[t] = UInt8(i + 1) }
        return m
    }()

    enum DetailsTag: UInt8 {
        case none = 0, stateEntered, stateExited, executionStarted, output, error, redriven, taskScheduled,
            taskStarted, taskOutput, taskError, scheduled, activityStarted, mapStateStarted, mapIteration,
            mapRunStarted, mapRunRedriven, evaluationFailed
    }

    /// Presence bits of `EngineNote` fields. Append only.
    enum NoteBit: Int, CaseIterable {
        case dueTime = 0, taskToken, taskTimeout, heartbeatTimeout, failure, retrierIndex, items, mapLimits,
            effectiveInput, chainEventID, mapRunArn
    }

    static let payloadReference: UInt8 = 0xFE
}

// MARK: - Writer

extension HistoryCodec {
    struct Writer {
        var bytes: [UInt8] = []
        /// Payloads written so far in this chunk: hash of their encoded bytes → (offset, length).
        var payloads: [Int: [(Int, Int)]] = [:]
        /// The same, by the identity of an object's storage or an array's buffer → offset: a
        /// step's events often pass one value along (a state's output is the next state's
        /// input), and that one is found without being encoded again. The events, which
        /// hold these values, outlive the writer, so an identity is never reused meanwhile.
        var identities: [UnsafeRawPointer: Int] = [:]

        mutating func u8(_ b: UInt8) { bytes.append(b) }

        mutating func uvar(_ v: UInt64) {
            var v = v
            while v >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }

        mutating func svar(_ v: Int64) { uvar(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

        mutating func string(_ s: String) {
            var s = s
            s.withUTF8 { utf8 in
                uvar(UInt64(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }

        mutating func optionalString(_ s: String?) {
            if let s {
                u8(1)
                string(s)
            } else {
                u8(0)
            }
        }

        mutating func optionalInt(_ v: Int64?) {
            if let v {
                u8(1)
                svar(v)
            } else {
                u8(0)
            }
        }

        mutating func json(_ v: JSON) {
            switch v {
            case .null: u8(0)
            case .bool(let b): u8(b ? 2 : 1)
            case .int(let i):
                u8(3)
                svar(i)
            case .double(let d):
                u8(4)
                var bits = d.bitPattern
                for _ in 0..<8 {
                    bytes.append(UInt8(truncatingIfNeeded: bits))
                    bits >>= 8
                }
            case .string(let s):
                u8(5)
                string(s)
            case .decimal(let n):
                u8(8)
                string(n.literal)
            case .array(let a):
                u8(6)
                uvar(UInt64(a.count))
                for e in a { json(e) }
            case .object(let o):
                u8(7)
                uvar(UInt64(o.count))
                for (k, e) in zip(o.orderedKeys, o.orderedValues) {
                    string(k)
                    json(e)
                }
            }
        }

        mutating func optionalJSON(_ v: JSON?) {
            if let v {
                u8(1)
                json(v)
            } else {
                u8(0)
            }
        }

        /// A top-level payload: written once per chunk, referenced after that.
        mutating func payload(_ v: JSON) {
            let identity: UnsafeRawPointer?
            switch v {
            case .null, .bool, .int, .double, .decimal:
                json(v)
                return
            case .object(let o):
                identity = o.storageIdentity.map { unsafeBitCast($0, to: UnsafeRawPointer.self) }
            case .array(let a):
                identity = a.withUnsafeBufferPointer { $0.baseAddress.map { UnsafeRawPointer($0) } }
            case .string:
                identity = nil
            }
            if let identity, let offset = identities[identity] {
                u8(HistoryCodec.payloadReference)
                uvar(UInt64(offset))
                return
            }
            let start = bytes.count
            json(v)
            let length = bytes.count - start
            if length < 8 { return }
            let found: Int? = bytes.withUnsafeBytes { raw in
                let encoded = UnsafeRawBufferPointer(rebasing: raw[start..<start + length])
                var hasher = Hasher()
                hasher.combine(bytes: encoded)
                let hash = hasher.finalize()
                for (offset, n) in payloads[hash, default: []] where n == length {
                    if memoryEqual(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n]), encoded) { return offset }
                }
                payloads[hash, default: []].append((start, length))
                return nil
            }
            if let offset = found {
                bytes.removeSubrange(start...)
                u8(HistoryCodec.payloadReference)
                uvar(UInt64(offset))
            }
            if let identity { identities[identity] = found ?? start }
        }

        mutating func event(_ e: HistoryEvent) {
            if let code = HistoryCodec.typeCodes[e.type] {
                u8(code)
            } else {
                u8(0)
                string(e.type.rawValue)
            }
            svar(e.id)
            svar(e.previousEventId)
            svar(e.timestamp)
            uvar(UInt64(e.thread.rawValue))
            u8((e.note != nil ? 1 : 0) | (e.hidden ? 2 : 0))
            details(e.details)
            if let note = e.note { self.note(note) }
        }

        mutating func details(_ d: EventDetails) {
            switch d {
            case .none:
                u8(DetailsTag.none.rawValue)
            case .stateEntered(let name, let input):
                u8(DetailsTag.stateEntered.rawValue)
                string(name)
                payload(input)
            case .stateExited(let name, let output, let assigned):
                u8(DetailsTag.stateExited.rawValue)
                string(name)
                payload(output)
                if let assigned {
                    uvar(UInt64(assigned.count) + 1)
                    for (k, v) in assigned {
                        string(k)
                        json(v)
                    }
                } else {
                    uvar(0)
                }
            case .executionStarted(let s):
                u8(DetailsTag.executionStarted.rawValue)
                payload(s.input)
                optionalString(s.roleArn)
                optionalString(s.stateMachineAliasArn)
                optionalString(s.stateMachineVersionArn)
            case .output(let o):
                u8(DetailsTag.output.rawValue)
                payload(o)
            case .error(let error, let cause):
                u8(DetailsTag.error.rawValue)
                optionalString(error)
                optionalString(cause)
            case .redriven(let count):
                u8(DetailsTag.redriven.rawValue)
                svar(Int64(count))
            case .taskScheduled(let t):
                u8(DetailsTag.taskScheduled.rawValue)
                string(t.resourceType)
                string(t.resource)
                string(t.region)
                payload(t.parameters)
                optionalInt(t.timeoutInSeconds)
                optionalInt(t.heartbeatInSeconds)
                optionalJSON(t.taskCredentials)
            case .taskStarted(let resourceType, let resource):
                u8(DetailsTag.taskStarted.rawValue)
                string(resourceType)
                string(resource)
            case .taskOutput(let resourceType, let resource, let output):
                u8(DetailsTag.taskOutput.rawValue)
                string(resourceType)
                string(resource)
                payload(output)
            case .taskError(let resourceType, let resource, let error, let cause):
                u8(DetailsTag.taskError.rawValue)
                string(resourceType)
                string(resource)
                optionalString(error)
                optionalString(cause)
            case .scheduled(let s):
                u8(DetailsTag.scheduled.rawValue)
                string(s.resource)
                payload(s.input)
                optionalInt(s.timeoutInSeconds)
                optionalInt(s.heartbeatInSeconds)
                optionalJSON(s.taskCredentials)
            case .activityStarted(let worker):
                u8(DetailsTag.activityStarted.rawValue)
                optionalString(worker)
            case .mapStateStarted(let length):
                u8(DetailsTag.mapStateStarted.rawValue)
                svar(Int64(length))
            case .mapIteration(let name, let index):
                u8(DetailsTag.mapIteration.rawValue)
                string(name)
                svar(Int64(index))
            case .mapRunStarted(let arn):
                u8(DetailsTag.mapRunStarted.rawValue)
                string(arn)
            case .mapRunRedriven(let arn, let count):
                u8(DetailsTag.mapRunRedriven.rawValue)
                string(arn)
                svar(Int64(count))
            case .evaluationFailed(let error, let cause, let location, let state):
                u8(DetailsTag.evaluationFailed.rawValue)
                string(error)
                optionalString(cause)
                optionalString(location)
                string(state)
            }
        }

        mutating func note(_ n: EngineNote) {
            var presence: UInt64 = 0
            func mark(_ bit: NoteBit, _ present: Bool) { if present { presence |= 1 << UInt64(bit.rawValue) } }
            mark(.dueTime, n.dueTime != nil)
            mark(.taskToken, n.taskToken != nil)
            mark(.taskTimeout, n.taskTimeout != nil)
            mark(.heartbeatTimeout, n.heartbeatTimeout != nil)
            mark(.failure, n.failure != nil)
            mark(.retrierIndex, n.retrierIndex != nil)
            mark(.items, n.items != nil)
            mark(.mapLimits, n.mapLimits != nil)
            mark(.effectiveInput, n.effectiveInput != nil)
            mark(.chainEventID, n.chainEventID != nil)
            mark(.mapRunArn, n.mapRunArn != nil)
            uvar(presence)
            if let v = n.dueTime { svar(v) }
            if let v = n.taskToken { string(v) }
            if let v = n.taskTimeout { svar(v) }
            if let v = n.heartbeatTimeout { svar(v) }
            if let v = n.failure {
                string(v.name)
                optionalString(v.cause)
            }
            if let v = n.retrierIndex { svar(Int64(v)) }
            if let v = n.items {
                uvar(UInt64(v.count))
                for item in v { json(item) }
            }
            if let v = n.mapLimits {
                svar(Int64(v.maxConcurrency))
                optionalInt(v.toleratedFailureCount.map(Int64.init))
                if let p = v.toleratedFailurePercentage {
                    u8(1)
                    json(.double(p))
                } else {
                    u8(0)
                }
            }
            if let v = n.effectiveInput { payload(v) }
            if let v = n.chainEventID { svar(v) }
            if let v = n.mapRunArn { string(v) }
        }
    }
}

private func memoryEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    for i in 0..<a.count where a[i] != b[i] { return false }
    return true
}

// MARK: - Reader

extension HistoryCodec {
    struct Reader {
        let buffer: UnsafeBufferPointer<UInt8>
        var position = 0
        /// Payloads decoded so far, by the offset at which they were written.
        var payloads: [Int: JSON] = [:]

        init(buffer: UnsafeBufferPointer<UInt8>) { self.buffer = buffer }

        func fail(_ message: String) -> DecodingError { DecodingError(message: "\(message) at byte \(position)") }

        mutating func u8() throws(DecodingError) -> UInt8 {
            guard position < buffer.count else { throw fail("unexpected end") }
            defer { position += 1 }
            return buffer[position]
        }

        mutating func uvar() throws(DecodingError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try u8()
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
                if shift > 63 { throw fail("varint too long") }
            }
        }

        mutating func svar() throws(DecodingError) -> Int64 {
            let u = try uvar()
            return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
        }

        mutating func int() throws(DecodingError) -> Int {
            let v = try svar()
            guard let i = Int(exactly: v) else { throw fail("integer out of range") }
            return i
        }

        mutating func string() throws(DecodingError) -> String {
            let n = Int(try uvar())
            guard n <= buffer.count - position else { throw fail("string past the end") }
            let s = String(decoding: UnsafeBufferPointer(rebasing: buffer[position..<position + n]), as: UTF8.self)
            position += n
            return s
        }

        mutating func optionalString() throws(DecodingError) -> String? {
            try u8() == 0 ? nil : try string()
        }

        mutating func optionalInt() throws(DecodingError) -> Int64? {
            try u8() == 0 ? nil : try svar()
        }

        mutating func json(depth: Int) throws(DecodingError) -> JSON {
            guard depth < 10_000 else { throw fail("nesting too deep") }
            switch try u8() {
            case 0: return .null
            case 1: return .bool(false)
            case 2: return .bool(true)
            case 3: return .int(try svar())
            case 4:
                guard buffer.count - position >= 8 else { throw fail("double past the end") }
                var bits: UInt64 = 0
                for i in 0..<8 { bits |= UInt64(buffer[position + i]) << UInt64(8 * i) }
                position += 8
                return .double(Double(bitPattern: bits))
            case 5: return .string(try string())
            case 6:
                let n = Int(try uvar())
                guard n <= buffer.count - position else { throw fail("array past the end") }
                var a: [JSON] = []
                a.reserveCapacity(n)
                for _ in 0..<n { a.append(try json(depth: depth + 1)) }
                return .array(a)
            case 7:
                let n = Int(try uvar())
                guard n <= buffer.count - position else { throw fail("object past the end") }
                var o = JSONObject(minimumCapacity: n)
                for _ in 0..<n {
                    let k = try string()
                    o[k] = try json(depth: depth + 1)
                }
                return .object(o)
            case 8:
                let literal = try string()
                guard let n = JSONDecimal(literal) else { throw fail("number literal \(literal.prefix(40)) not in the JSON grammar") }
                return .decimal(n)
            case let tag: throw fail("unknown JSON tag \(tag)")
            }
        }

        mutating func optionalJSON() throws(DecodingError) -> JSON? {
            // Not a ternary: `nil` would become `JSON.null` (JSON is ExpressibleByNilLiteral).
            if try u8() == 0 { return Optional<JSON>.none }
            return try json(depth: 0)
        }

        mutating func payload() throws(DecodingError) -> JSON {
            let start = position
            guard position < buffer.count else { throw fail("unexpected end") }
            if buffer[position] == HistoryCodec.payloadReference {
                position += 1
                let at = Int(try uvar())
                guard let v = payloads[at] else { throw fail("dangling payload reference \(at)") }
                return v
            }
            let v = try json(depth: 0)
            payloads[start] = v
            return v
        }

        mutating func event() throws(DecodingError) -> HistoryEvent {
            let code = try u8()
            let type: HistoryEventType
            if code == 0 {
                let name = try string()
                guard let t = HistoryEventType(rawValue: name) else { throw fail("unknown event type \(name)") }
                type = t
            } else {
                guard Int(code) <= HistoryCodec.typeList.count else { throw fail("unknown event type code \(code)") }
                type = HistoryCodec.typeList[Int(code) - 1]
            }
            let id = try svar()
            let previous = try svar()
            let timestamp = try svar()
            let threadRaw = try uvar()
            guard let thread = UInt32(exactly: threadRaw) else { throw fail("thread out of range") }
            let flags = try u8()
            let details = try self.details()
            let note = flags & 1 != 0 ? try self.note() : nil
            return HistoryEvent(id: id, previousEventId: previous, timestamp: timestamp, type: type, details: details,
                                thread: ThreadID(rawValue: thread), note: note, hidden: flags & 2 != 0)
        }

        mutating func details() throws(DecodingError) -> EventDetails {
            let raw = try u8()
            guard let tag = DetailsTag(rawValue: raw) else { throw fail("unknown details tag \(raw)") }
            switch tag {
            case .none: return .none
            case .stateEntered: return .stateEntered(name: try string(), input: try payload())
            case .stateExited:
                let name = try string()
                let output = try payload()
                let n = try uvar()
                var assigned: [(String, JSON)]? = nil
                if n > 0 {
                    var pairs: [(String, JSON)] = []
                    for _ in 0..<(n - 1) { pairs.append((try string(), try json(depth: 0))) }
                    assigned = pairs
                }
                return .stateExited(name: name, output: output, assigned: assigned)
            case .executionStarted:
                let input = try payload()
                return .executionStarted(ExecutionStartedDetails(
                    input: input, roleArn: try optionalString(), stateMachineAliasArn: try optionalString(),
                    stateMachineVersionArn: try optionalString()))
            case .output: return .output(try payload())
            case .error: return .error(error: try optionalString(), cause: try optionalString())
            case .redriven: return .redriven(count: try int())
            case .taskScheduled:
                return .taskScheduled(TaskScheduledDetails(
                    resourceType: try string(), resource: try string(), region: try string(), parameters: try payload(),
                    timeoutInSeconds: try optionalInt(), heartbeatInSeconds: try optionalInt(), taskCredentials: try optionalJSON()))
            case .taskStarted: return .taskStarted(resourceType: try string(), resource: try string())
            case .taskOutput: return .taskOutput(resourceType: try string(), resource: try string(), output: try payload())
            case .taskError:
                return .taskError(resourceType: try string(), resource: try string(), error: try optionalString(),
                                  cause: try optionalString())
            case .scheduled:
                return .scheduled(ScheduledDetails(
                    resource: try string(), input: try payload(), timeoutInSeconds: try optionalInt(),
                    heartbeatInSeconds: try optionalInt(), taskCredentials: try optionalJSON()))
            case .activityStarted: return .activityStarted(workerName: try optionalString())
            case .mapStateStarted: return .mapStateStarted(length: try int())
            case .mapIteration: return .mapIteration(name: try string(), index: try int())
            case .mapRunStarted: return .mapRunStarted(mapRunArn: try string())
            case .mapRunRedriven: return .mapRunRedriven(mapRunArn: try string(), count: try int())
            case .evaluationFailed:
                return .evaluationFailed(error: try string(), cause: try optionalString(), location: try optionalString(),
                                         state: try string())
            }
        }

        mutating func note() throws(DecodingError) -> EngineNote {
            let presence = try uvar()
            func has(_ bit: NoteBit) -> Bool { presence & (1 << UInt64(bit.rawValue)) != 0 }
            if presence >> UInt64(NoteBit.allCases.count) != 0 { throw fail("unknown note fields \(presence)") }
            let dueTime = has(.dueTime) ? try svar() : nil
            let token = has(.taskToken) ? try string() : nil
            let taskTimeout = has(.taskTimeout) ? try svar() : nil
            let heartbeatTimeout = has(.heartbeatTimeout) ? try svar() : nil
            var failure: StatesError? = nil
            if has(.failure) { failure = StatesError(try string(), cause: try optionalString()) }
            let retrierIndex = has(.retrierIndex) ? try int() : nil
            var items: [JSON]? = nil
            if has(.items) {
                let n = Int(try uvar())
                guard n <= buffer.count - position else { throw fail("items past the end") }
                var a: [JSON] = []
                a.reserveCapacity(n)
                for _ in 0..<n { a.append(try json(depth: 0)) }
                items = a
            }
            var limits: MapLimits? = nil
            if has(.mapLimits) {
                let max = try int()
                let count = try optionalInt().map { Int($0) }
                var percentage: Double? = nil
                if try u8() != 0 { percentage = try json(depth: 0).doubleValue }
                limits = MapLimits(maxConcurrency: max, toleratedFailureCount: count, toleratedFailurePercentage: percentage)
            }
            var effectiveInput: JSON? = Optional<JSON>.none
            if has(.effectiveInput) { effectiveInput = try payload() }
            let chain = has(.chainEventID) ? try svar() : nil
            let mapRunArn = has(.mapRunArn) ? try string() : nil
            return EngineNote(
                dueTime: dueTime, taskToken: token, taskTimeout: taskTimeout, heartbeatTimeout: heartbeatTimeout,
                failure: failure, retrierIndex: retrierIndex, items: items, mapLimits: limits,
                effectiveInput: effectiveInput, chainEventID: chain, mapRunArn: mapRunArn)
        }
    }
}
