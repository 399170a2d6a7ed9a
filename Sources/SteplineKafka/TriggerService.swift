import ControlPlane
import KafkaClient
import StatesLanguage

/// The trigger rules managed at run time (`TriggerControl`, Stepline's `/triggers` API),
/// over the registry that the trigger consumer reads.
public struct TriggerService: TriggerControl {
    let registry: TriggerRegistry
    let region: String
    let account: String

    public init(registry: TriggerRegistry, region: String, account: String) {
        self.registry = registry
        self.region = region
        self.account = account
    }

    public func listTriggers() -> [JSON] { registry.snapshot.rules.map(\.json) }

    public func describeTrigger(name: String) throws -> JSON { try rule(name).json }

    public func putTrigger(name: String, body: [UInt8]) throws -> JSON {
        let parsed: JSON
        do { parsed = try JSON.parse(bytes: body) } catch { throw Self.invalid("the body is not JSON: \(error)") }
        guard case .object(var o) = parsed else {
            throw Self.invalid("the body must be a trigger rule as a JSON object")
        }
        let text = String(decoding: body, as: UTF8.self)  // UTF-8: the parser checked it
        // The pattern as written, so that its numbers are compared exactly.
        if case .object? = o["pattern"], let raw = try? JSON.rawMembers(ofObject: text).last(where: { $0.key == "pattern" }) {
            o["pattern"] = .string(raw.text)
        }
        if let given = o["name"]?.stringValue, given != name {
            throw Self.invalid("the rule's name '\(given)' differs from the path's '\(name)'")
        }
        o["name"] = .string(name)
        o.removeValue(forKey: "source")
        do {
            let rule = try TriggerRule.from(json: .object(o), source: .api)
            try registry.put(rule)
            return rule.json
        } catch let e as TriggerRule.Invalid {
            throw Self.invalid(e.message)
        } catch let e as ServiceError {
            throw e
        } catch {
            throw Self.invalid("\(error)")
        }
    }

    public func deleteTrigger(name: String) throws {
        let deleted: Bool
        do {
            deleted = try registry.delete(name: name)
        } catch let e as TriggerRule.Invalid {
            throw Self.invalid(e.message)
        } catch {
            throw Self.invalid("\(error)")
        }
        if !deleted { throw Self.notFound(name) }
    }

    public func testTrigger(name: String, value: [UInt8], key: String?, topic: String?, partition: Int32?, offset: Int64?) throws -> JSON {
        let rule = try rule(name)
        let record = KafkaRecord(
            topic: topic ?? rule.topic, partition: partition ?? 0, offset: offset ?? 0, key: key.map { Array($0.utf8) }, value: value,
            timestampMilliseconds: nil)
        guard let event = try? value.withUnsafeBufferPointer({ try FlattenedEvent(utf8: $0) }), let json = try? JSON.parse(bytes: value) else {
            throw Self.invalid("the body must be the record value as JSON")
        }
        guard rule.pattern?.matches(event) ?? true else { return ["matches": false] }
        switch TriggerConsumer.startRequest(rule, record: record, value: json, region: region, account: account) {
        case .success(let start):
            return [
                "matches": true, "stateMachineArn": .string(start.stateMachineArn.rawValue), "executionName": .string(start.name ?? ""),
                "input": start.input.flatMap { try? JSON.parse($0) } ?? .object([:]),
            ]
        case .failure(let e):
            return ["matches": true, "error": .string(e.message)]
        }
    }

    private func rule(_ name: String) throws -> TriggerRule {
        guard let rule = registry.snapshot.rules.first(where: { $0.name == name }) else { throw Self.notFound(name) }
        return rule
    }

    static func invalid(_ message: String) -> ServiceError { ServiceError.validation(message) }

    static func notFound(_ name: String) -> ServiceError { ServiceError(.resourceNotFound, "Trigger Does Not Exist: '\(name)'") }
}
