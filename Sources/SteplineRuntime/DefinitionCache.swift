import StatesEngine
import StatesLanguage
import StatesStore
import Synchronization
import ControlPlane

/// Parsed definitions by revision id: an execution replays with the definition it started with.
public final class DefinitionCache: Sendable {
    private let store: any StatesStore
    private let cache = Mutex<[String: StateMachineDefinition]>([:])

    public init(store: any StatesStore) { self.store = store }

    public func put(_ revisionId: String, _ definition: StateMachineDefinition) {
        cache.withLock { $0[revisionId] = definition }
    }

    public func definition(revisionId: String, type: String) async throws -> StateMachineDefinition {
        if let d = cache.withLock({ $0[revisionId] }) { return d }
        guard let text = try await store.definition(revisionId: revisionId) else {
            throw ServiceError.internalError("definition revision \(revisionId) is not stored")
        }
        let d = try StateMachineDefinition.parse(
            text, options: DefinitionOptions(machineType: type == "EXPRESS" ? .express : .standard))
        put(revisionId, d)
        return d
    }
}
