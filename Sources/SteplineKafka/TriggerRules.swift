import ControlPlane
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StatesEngine
import StatesLanguage
import Synchronization

/// A trigger rule: records on `topic` whose value matches `pattern` start `stateMachine`.
public struct TriggerRule: Sendable {
    public enum Source: String, Sendable { case config, api }

    public var name: String
    public var topic: String
    /// The EventBridge event pattern (as written); nil matches every JSON record.
    public var patternText: String?
    /// A state machine name or ARN.
    public var stateMachine: String
    /// EventBridge's input transformer (`pathsMap` + `template`); nil passes the record value.
    public var inputPathsMap: [String: String]?
    public var inputTemplate: String?
    /// A path (`$.detail.id`, `$$.key`, ...) whose value names the execution; nil names it
    /// `<rule>-<topic>-<partition>-<offset>`.
    public var executionName: String?
    /// Send to the dead-letter topic the records of `topic` that are not JSON or match no rule,
    /// and this rule's starts that fail.
    public var deadLetter: Bool
    public var enabled: Bool
    public var source: Source

    // Compiled forms.
    public let pattern: EventPattern?
    public let transformer: InputTransformer?
    let namePath: InputTransformer?

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public init(name: String, topic: String, pattern: String?, stateMachine: String, inputPathsMap: [String: String]? = nil,
                inputTemplate: String? = nil, executionName: String? = nil, deadLetter: Bool = false, enabled: Bool = true,
                source: Source = .api) throws(Invalid)
    {
        guard Self.isValidName(name) else {
            throw Invalid(message: "trigger name '\(name)' must be 1 to 64 letters, digits, '.', '_' or '-'")
        }
        guard !topic.isEmpty, topic.utf8.count <= 249,
            topic.utf8.allSatisfy({ Self.isNameByte($0) })
        else { throw Invalid(message: "trigger '\(name)': topic '\(topic)' is not a valid Kafka topic name") }
        guard !stateMachine.isEmpty else { throw Invalid(message: "trigger '\(name)': stateMachine is required") }
        self.name = name
        self.topic = topic
        self.patternText = pattern
        self.stateMachine = stateMachine
        self.inputPathsMap = inputPathsMap
        self.inputTemplate = inputTemplate
        self.executionName = executionName
        self.deadLetter = deadLetter
        self.enabled = enabled
        self.source = source
        if let pattern {
            do {
                self.pattern = try EventPattern(text: pattern)
            } catch {
                throw Invalid(message: "trigger '\(name)': \(error.message)")
            }
        } else {
            self.pattern = nil
        }
        if let inputTemplate {
            do {
                transformer = try InputTransformer(pathsMap: inputPathsMap ?? [:], template: inputTemplate)
            } catch {
                throw Invalid(message: "trigger '\(name)': input: \(error.reason)")
            }
        } else if inputPathsMap != nil {
            throw Invalid(message: "trigger '\(name)': input.pathsMap needs input.template")
        } else {
            transformer = nil
        }
        if let executionName {
            do {
                namePath = try InputTransformer(pathsMap: ["name": executionName], template: "<name>")
            } catch {
                throw Invalid(message: "trigger '\(name)': executionName: \(error.reason)")
            }
        } else {
            namePath = nil
        }
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy(isNameByte)
    }

    // MARK: JSON form (the trigger API and the store file)

    /// `{"name", "topic", "pattern", "stateMachine", "input": {"pathsMap", "template"},
    /// "executionName", "deadLetter", "enabled", "source"}`.
    public var json: JSON {
        var o = JSONObject()
        o.append("name", .string(name))
        o.append("topic", .string(topic))
        if let patternText { o.append("pattern", .string(patternText)) }
        o.append("stateMachine", .string(stateMachine))
        if let inputTemplate {
            var input = JSONObject()
            if let m = inputPathsMap { input.append("pathsMap", .object(JSONObject(m.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))) }
            input.append("template", .string(inputTemplate))
            o.append("input", .object(input))
        }
        if let executionName { o.append("executionName", .string(executionName)) }
        o.append("deadLetter", .bool(deadLetter))
        o.append("enabled", .bool(enabled))
        o.append("source", .string(source.rawValue))
        return .object(o)
    }

    /// Reads a rule from its JSON form; unknown members are errors that name them.
    public static func from(json: JSON, source: Source) throws(Invalid) -> TriggerRule {
        guard case .object(let o) = json else { throw Invalid(message: "a trigger must be a JSON object") }
        let known: Set<String> = ["name", "topic", "pattern", "stateMachine", "input", "executionName", "deadLetter", "enabled", "source"]
        if let unknown = o.orderedKeys.first(where: { !known.contains($0) }) {
            throw Invalid(message: "trigger '\(o["name"]?.stringValue ?? "?")': unknown key '\(unknown)'")
        }
        guard let name = o["name"]?.stringValue else { throw Invalid(message: "a trigger needs a name") }
        guard let topic = o["topic"]?.stringValue else { throw Invalid(message: "trigger '\(name)': topic is required") }
        guard let machine = o["stateMachine"]?.stringValue else { throw Invalid(message: "trigger '\(name)': stateMachine is required") }
        // A pattern given as a string keeps its numbers exactly as written; an object goes
        // through `JSON`, whose doubles are exact only up to 17 significant digits.
        var pattern: String? = nil
        switch o["pattern"] {
        case nil, .null?: pattern = nil
        case .object(let p)?: pattern = JSON.object(p).serialized()
        case .string(let text)?: pattern = text
        default: throw Invalid(message: "trigger '\(name)': pattern must be an event pattern (an object, or its JSON text)")
        }
        var pathsMap: [String: String]? = nil
        var template: String? = nil
        if let input = o["input"] {
            guard case .object(let i) = input else { throw Invalid(message: "trigger '\(name)': input must be an object") }
            if let unknown = i.orderedKeys.first(where: { $0 != "pathsMap" && $0 != "template" }) {
                throw Invalid(message: "trigger '\(name)': unknown key 'input.\(unknown)'")
            }
            if let m = i["pathsMap"] {
                guard case .object(let mo) = m else { throw Invalid(message: "trigger '\(name)': input.pathsMap must map names to paths") }
                var map: [String: String] = [:]
                for (k, v) in mo {
                    guard let s = v.stringValue else { throw Invalid(message: "trigger '\(name)': input.pathsMap.\(k) must be a path string") }
                    map[k] = s
                }
                pathsMap = map
            }
            guard let t = i["template"] else { throw Invalid(message: "trigger '\(name)': input.template is required") }
            template = t.stringValue ?? t.serialized()
        }
        func bool(_ key: String, _ fallback: Bool) throws(Invalid) -> Bool {
            guard let v = o[key] else { return fallback }
            guard let b = v.boolValue else { throw Invalid(message: "trigger '\(name)': \(key) must be true or false") }
            return b
        }
        return try TriggerRule(
            name: name, topic: topic, pattern: pattern, stateMachine: machine, inputPathsMap: pathsMap, inputTemplate: template,
            executionName: o["executionName"]?.stringValue, deadLetter: try bool("deadLetter", false),
            enabled: try bool("enabled", true), source: source)
    }
}

/// The rules in force: those of the configuration file (replaced on reload) and those
/// managed through the trigger API (kept in `<data dir>/triggers.json`).
public final class TriggerRegistry: Sendable {
    public struct Snapshot: Sendable {
        public var rules: [TriggerRule]
        /// Per topic: the enabled rules with a pattern compiled into one matcher, and those
        /// without one (they take every JSON record).
        public var matchers: [String: RuleMatcher<Int>]
        public var matchAll: [String: [Int]]
        public var version: Int

        public var topics: [String] { Set(matchers.keys).union(matchAll.keys).sorted() }

        public func rules(matching event: FlattenedEvent, topic: String) -> [TriggerRule] {
            var indices = matchers[topic]?.matchingRules(for: event) ?? []
            indices += matchAll[topic] ?? []
            return indices.sorted().map { rules[$0] }
        }

        /// Whether any enabled rule of `topic` wants dead letters.
        public func deadLetters(topic: String) -> Bool {
            rules.contains { $0.enabled && $0.topic == topic && $0.deadLetter }
        }
    }

    private let state: Mutex<(config: [TriggerRule], api: [TriggerRule], snapshot: Snapshot)>
    private let file: URL?
    private let loopCheck: TriggerLoopCheck?
    private let changes: AsyncStream<Snapshot>.Continuation
    /// Every new snapshot, for the consumer to resubscribe when the topics change.
    public let updates: AsyncStream<Snapshot>

    /// - Parameters:
    ///   - file: where API-managed rules are kept (nil: in memory only).
    ///   - loopCheck: refuses rules that would feed themselves (nil: no check).
    /// - Throws: `TriggerRule.Invalid` when the rules (of the file and those kept) loop.
    public init(config: [TriggerRule], file: URL?, loopCheck: TriggerLoopCheck? = nil) throws {
        self.file = file
        self.loopCheck = loopCheck
        var api: [TriggerRule] = []
        if let file, let data = FileManager.default.contents(atPath: file.path) {
            let json = try JSON.parse(bytes: Array(data))
            for item in json.arrayValue ?? [] { api.append(try TriggerRule.from(json: item, source: .api)) }
        }
        if let loop = loopCheck?.firstLoop(in: config + api) {
            let kept = loop.index >= config.count ? " (a rule kept in \(file?.path ?? "memory"): delete it there, or fix it)" : ""
            throw TriggerRule.Invalid(message: loop.message + kept)
        }
        let snapshot = Self.compile(config + api, version: 1)
        state = Mutex((config, api, snapshot))
        (updates, changes) = AsyncStream.makeStream(of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    static func compile(_ rules: [TriggerRule], version: Int) -> Snapshot {
        var byTopic: [String: [(rule: Int, pattern: EventPattern)]] = [:]
        var all: [String: [Int]] = [:]
        for (i, r) in rules.enumerated() where r.enabled {
            if let pattern = r.pattern {
                byTopic[r.topic, default: []].append((rule: i, pattern: pattern))
            } else {
                all[r.topic, default: []].append(i)
            }
        }
        return Snapshot(rules: rules, matchers: byTopic.mapValues { RuleMatcher($0) }, matchAll: all, version: version)
    }

    /// Replaces the configuration file's rules (a reload).
    public func replaceConfigRules(_ rules: [TriggerRule]) throws(TriggerRule.Invalid) {
        let snap: Snapshot = try state.withLock { (s) throws(TriggerRule.Invalid) -> Snapshot in
            for r in rules where s.api.contains(where: { $0.name == r.name }) {
                throw TriggerRule.Invalid(message: "trigger '\(r.name)' is defined both in the configuration file and through the API")
            }
            if let loop = loopCheck?.firstLoop(in: rules + s.api) { throw TriggerRule.Invalid(message: loop.message) }
            s.config = rules
            s.snapshot = Self.compile(s.config + s.api, version: s.snapshot.version + 1)
            return s.snapshot
        }
        changes.yield(snap)
    }

    /// Creates or replaces an API-managed rule.
    public func put(_ rule: TriggerRule) throws {
        let snap: Snapshot = try state.withLock { s in
            if s.config.contains(where: { $0.name == rule.name }) {
                throw TriggerRule.Invalid(message: "trigger '\(rule.name)' is defined in the configuration file; change it there")
            }
            var api = s.api.filter { $0.name != rule.name }
            var r = rule
            r.source = .api
            api.append(r)
            if let loop = loopCheck?.firstLoop(in: s.config + api) { throw TriggerRule.Invalid(message: loop.message) }
            try persist(api)
            s.api = api
            s.snapshot = Self.compile(s.config + s.api, version: s.snapshot.version + 1)
            return s.snapshot
        }
        changes.yield(snap)
    }

    /// Deletes an API-managed rule; false when there is none of that name.
    public func delete(name: String) throws -> Bool {
        let snap: Snapshot? = try state.withLock { s in
            if s.config.contains(where: { $0.name == name }) {
                throw TriggerRule.Invalid(message: "trigger '\(name)' is defined in the configuration file; remove it there")
            }
            guard s.api.contains(where: { $0.name == name }) else { return nil }
            let api = s.api.filter { $0.name != name }
            try persist(api)
            s.api = api
            s.snapshot = Self.compile(s.config + s.api, version: s.snapshot.version + 1)
            return s.snapshot
        }
        guard let snap else { return false }
        changes.yield(snap)
        return true
    }

    private func persist(_ api: [TriggerRule]) throws {
        guard let file else { return }
        let text = JSON.array(api.map(\.json)).prettyPrinted() + "\n"
        let tmp = file.appendingPathExtension("tmp")
        // 0600: the rules are the daemon's, as the rest of its data directory.
        guard FileManager.default.createFile(atPath: tmp.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TriggerRule.Invalid(message: "cannot write \(tmp.path): \(String(cString: strerror(errno)))")
        }
        // rename(2) replaces the file atomically: a crash leaves the old rules or the new.
        guard rename(tmp.path, file.path) == 0 else {
            throw TriggerRule.Invalid(message: "cannot write \(file.path): \(String(cString: strerror(errno)))")
        }
    }

    func changesFinish() { changes.finish() }
}

/// Refuses trigger rules that would feed themselves through a topic Stepline writes.
///
/// Two loops are certain from the rules alone, and refused:
/// - a rule on the dead-letter topic that asks for dead letters: every record of that
///   topic that matches no rule would be published to it again, forever. As dead letters
///   go only to topics whose rules ask for them, refusing the rule is enough: no record of
///   the dead-letter topic becomes a dead letter again;
/// - rules on the execution status topic whose patterns match the status events of the
///   machines they start, directly (a rule whose machine's RUNNING event starts it again)
///   or through other rules (A starts B, whose events start A). Each rule's pattern is tried
///   on the events its machine would publish (source, detail-type, status, ARNs, name);
///   a pattern that also asks for more (an input field, say) is not taken for a loop.
///
/// Loops through the workflows' own integrations (a machine that `putEvents` or sends to the
/// topic that starts it) depend on the definitions and are the user's design, as on
/// EventBridge; they are not refused (see docs/integrations.md).
public struct TriggerLoopCheck: Sendable {
    public var topics: IntegrationTopics
    public var region: String
    public var account: String

    public init(topics: IntegrationTopics, region: String, account: String) {
        self.topics = topics
        self.region = region
        self.account = account
    }

    /// The first loop among `rules` (the enabled ones): the index of a rule in it and why.
    public func firstLoop(in rules: [TriggerRule]) -> (index: Int, message: String)? {
        for (i, r) in rules.enumerated() where r.enabled && r.deadLetter && r.topic == topics.deadLetters {
            return (i, "trigger '\(r.name)': deadLetter on the dead-letter topic '\(r.topic)' would feed itself (a record that matches no rule would come back as a dead letter); set deadLetter to false")
        }
        // On the status topic: rule i → rule j when j's pattern matches an event of i's
        // machine (an execution i starts makes j start one).
        let status = rules.indices.filter { rules[$0].enabled && rules[$0].topic == topics.executionStatus }
        guard !status.isEmpty else { return nil }
        let events = Dictionary(uniqueKeysWithValues: status.map { ($0, statusEvents(of: rules[$0])) })
        var edges: [Int: [Int]] = [:]
        for i in status {
            for j in status where events[i]!.contains(where: { rules[j].pattern?.matches($0) ?? true }) {
                edges[i, default: []].append(j)
            }
        }
        // A cycle through rule i: a path from i back to i. The last rules first: the one a
        // PUT adds is named.
        for i in status.reversed() {
            var seen: Set<Int> = []
            var path: [Int: Int] = [:]  // node → the node it was reached from
            var stack = [i]
            while let n = stack.popLast() {
                for m in edges[n] ?? [] {
                    if m == i {
                        var cycle = [n]
                        while let p = path[cycle.last!] { cycle.append(p) }
                        let names = ([i] + cycle.reversed().dropFirst() + [i]).map { "'\(rules[$0].name)'" }
                        let how = names.count == 2
                            ? "the status events of its own state machine '\(rules[i].stateMachine)' match its pattern"
                            : "its executions' status events start one another (\(names.joined(separator: " → ")))"
                        return (i, "trigger '\(rules[i].name)' on the execution status topic '\(topics.executionStatus)' would feed itself: \(how); narrow the pattern, e.g. with a condition on detail.stateMachineArn that leaves those machines out")
                    }
                    if seen.insert(m).inserted {
                        path[m] = n
                        stack.append(m)
                    }
                }
            }
        }
        return nil
    }

    /// The status events the machine `rule` starts would publish (one per status).
    func statusEvents(of rule: TriggerRule) -> [FlattenedEvent] {
        // A version or alias ARN publishes under the machine's ARN.
        let machineArn = rule.stateMachine.hasPrefix("arn:")
            ? rule.stateMachine.split(separator: ":", omittingEmptySubsequences: false).prefix(7).joined(separator: ":")
            : ARNs.stateMachine(region: region, account: account, name: rule.stateMachine)
        let machineName = String(machineArn.split(separator: ":", omittingEmptySubsequences: false).last ?? "")
        let name = TriggerConsumer.executionName("\(rule.name)-\(rule.topic)-0-0")
        let executionArn = ARNs.execution(region: region, account: account, machine: machineName, name: name)
        return ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].compactMap { status in
            let terminal = status != "RUNNING"
            let event: JSON = [
                "version": "0", "id": "00000000-0000-0000-0000-000000000000",
                "detail-type": .string(ExecutionStatusEvent.detailType), "source": .string(ExecutionStatusEvent.source),
                "account": .string(account), "time": "2024-01-01T00:00:00Z", "region": .string(region),
                "resources": [.string(executionArn)],
                "detail": [
                    "executionArn": .string(executionArn), "stateMachineArn": .string(machineArn), "name": .string(name),
                    "status": .string(status), "startDate": 1_704_067_200_000, "stopDate": terminal ? 1_704_067_200_000 : .null,
                    "input": "{}", "inputDetails": ["included": true],
                    "output": status == "SUCCEEDED" ? "{}" : .null, "outputDetails": status == "SUCCEEDED" ? ["included": true] : .null,
                    "error": status == "FAILED" ? "States.TaskFailed" : .null, "cause": status == "FAILED" ? "" : .null,
                    "redriveCount": 0, "redriveDate": .null,
                    "redriveStatus": terminal && status != "SUCCEEDED" ? "REDRIVABLE" : "NOT_REDRIVABLE",
                    "stateMachineVersionArn": .null, "stateMachineAliasArn": .null,
                ],
            ]
            return try? FlattenedEvent(text: event.serialized())
        }
    }
}
