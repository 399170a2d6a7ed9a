import ControlPlane
import Foundation
import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import SteplineSecurity
import Testing

/// Encryption at rest through the executor: which executions are sealed (a machine's
/// `EncryptionConfiguration`, `encryption.defaultKey`, an activity's key), AWS's checks and
/// errors, rotation, and a daemon restarted without the key.
@Suite struct ExecutionEncryptionTests {
    static let k1 = "0b0d2c3e-1111-2222-3333-444455556666"
    static let k2 = "7e57c0de-aaaa-bbbb-cccc-ddddeeeeffff"
    static let role = "arn:aws:iam::123456789012:role/r"
    static let wait = #"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":10,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#

    static func key(_ id: String, _ alias: String? = nil, byte: UInt8) throws -> MasterKey {
        try MasterKey(id: id, alias: alias, material: [UInt8](repeating: byte, count: 32))
    }

    static func cmk(_ id: String, reuse: Int? = nil) -> String {
        #"{"type":"CUSTOMER_MANAGED_KMS_KEY","kmsKeyId":"\#(id)"\#(reuse.map { #","kmsDataKeyReusePeriodSeconds":\#($0)"# } ?? "")}"#
    }

    // @unchecked: read-only after init; the runtime and the clock are thread-safe.
    final class Daemon: @unchecked Sendable {
        let dir: String
        let clock: ManualClock
        let runtime: SteplineRuntime
        var service: ExecutionService { runtime.executions }

        /// A runtime over `<dir>/db.sqlite` with these keys (none: no encryption section).
        init(dir: String? = nil, clock: ManualClock = ManualClock(1_700_000_000_000), keys: [MasterKey], defaultKey: String? = nil) throws {
            self.dir = dir ?? NSTemporaryDirectory() + "stepline-enc-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: self.dir, withIntermediateDirectories: true)
            self.clock = clock
            let keyring = try Keyring(keys)
            var cfg = RuntimeConfiguration()
            cfg.encryption = EncryptionPolicy(keyring: keyring, defaultKey: defaultKey.flatMap { keyring.resolve($0, region: cfg.region, account: cfg.account) })
            let store = try SQLiteStore(path: self.dir + "/db.sqlite",
                                        options: .init(synchronous: .normal, sealer: keyring.isEmpty ? nil : DataSealer(keyring: keyring)))
            runtime = SteplineRuntime(store: store, configuration: cfg, clock: clock)
        }

        func machine(_ name: String, _ encryption: String? = nil, definition: String = ExecutionEncryptionTests.wait) async throws -> StateMachineARN {
            try await service.resources.createStateMachine(.init(
                name: name, definition: definition, roleArn: ExecutionEncryptionTests.role, encryptionConfiguration: encryption)).arn
        }

        func start(_ machine: StateMachineARN, _ name: String, marker: String) async throws -> ExecutionARN {
            try await service.startExecution(.init(stateMachineArn: machine, name: name, input: #"{"card":"\#(marker)"}"#)).executionArn
        }

        func history(_ arn: ExecutionARN) async throws -> String {
            try await service.getExecutionHistory(executionArn: arn, maxResults: 1000, nextToken: nil, reverseOrder: false).events
                .map { $0.awsJSON().serialized() }.joined()
        }

        /// The names of the files under the data directory that hold `marker` as plain bytes.
        func filesHolding(_ marker: String) throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: dir).filter { name in
                (try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(name)"))).firstRange(of: Data(marker.utf8)) != nil
            }
        }

        func close() async { await runtime.shutdown() }
        func remove() { try? FileManager.default.removeItem(atPath: dir) }
    }

    static func code(_ body: () async throws -> Void) async -> (String, String)? {
        do {
            try await body()
            return nil
        } catch let e as ServiceError {
            return (e.type, e.message)
        } catch {
            return ("?", "\(error)")
        }
    }

    @Test func aMachinesKeySealsItsExecutionsAndOthersStayPlain() async throws {
        let d = try Daemon(keys: [try Self.key(Self.k1, "alias/app", byte: 1)])
        defer { d.remove() }
        try await d.runtime.recover()
        let sealed = try await d.machine("sealed", Self.cmk("alias/app", reuse: 120))
        let plain = try await d.machine("plain")
        let a = try await d.start(sealed, "a", marker: "SECRET-4b1d")
        let b = try await d.start(plain, "b", marker: "OPEN-77e2")
        #expect(try d.filesHolding("SECRET-4b1d").isEmpty)
        #expect(!(try d.filesHolding("OPEN-77e2")).isEmpty)
        let described = try await d.service.describeExecution(executionArn: a)
        #expect(described.input == ["card": "SECRET-4b1d"] && described.sealingKey == SealingKey(keyID: Self.k1, reusePeriodSeconds: 120))
        #expect(try await d.service.describeExecution(executionArn: b).sealingKey == nil)
        // The Wait ends, the execution succeeds: still nothing in plaintext.
        d.clock.advance(by: 10_000)
        await d.service.timers.fireDue()
        let done = try await d.service.describeExecution(executionArn: a)
        #expect(done.status == .succeeded && done.output == ["card": "SECRET-4b1d"])
        #expect(try await d.history(a).contains("SECRET-4b1d"))
        await d.close()
        #expect(try d.filesHolding("SECRET-4b1d").isEmpty)
    }

    @Test func theDefaultKeySealsEveryExecutionAndAMachinesOwnKeyWins() async throws {
        let d = try Daemon(keys: [try Self.key(Self.k1, "alias/default", byte: 1), try Self.key(Self.k2, byte: 2)], defaultKey: "alias/default")
        defer { d.remove() }
        try await d.runtime.recover()
        let none = try await d.start(try await d.machine("none"), "a", marker: "M1")
        let owned = try await d.start(try await d.machine("owned", #"{"type":"AWS_OWNED_KEY"}"#), "b", marker: "M2")
        let own = try await d.start(try await d.machine("own", Self.cmk("arn:aws:kms:us-east-1:123456789012:key/\(Self.k2)")), "c", marker: "M3")
        #expect(try await d.service.describeExecution(executionArn: none).sealingKey == SealingKey(keyID: Self.k1, reusePeriodSeconds: 300))
        #expect(try await d.service.describeExecution(executionArn: owned).sealingKey?.keyID == Self.k1)
        #expect(try await d.service.describeExecution(executionArn: own).sealingKey?.keyID == Self.k2)
        await d.close()
        #expect(try d.filesHolding("\"card\":\"M").isEmpty)
    }

    @Test func encryptionConfigurationsAreCheckedAsAWSChecksThem() async throws {
        let d = try Daemon(keys: [try Self.key(Self.k1, "alias/app", byte: 1)])
        defer { d.remove() }
        let invalid = "InvalidEncryptionConfiguration"
        for (configuration, type, message) in [
            (#"{"type":"CUSTOMER_MANAGED_KMS_KEY"}"#, invalid, "Invalid Encryption Configuration: kmsKeyId is required when type is CUSTOMER_MANAGED_KMS_KEY."),
            (#"{"type":"AWS_OWNED_KEY","kmsKeyId":"alias/app"}"#, invalid, "Invalid Encryption Configuration: kmsKeyId must not be set when type is AWS_OWNED_KEY."),
            (Self.cmk("alias/app", reuse: 59), invalid, "Invalid Encryption Configuration: kmsDataKeyReusePeriodSeconds must be between 60 and 900."),
            (Self.cmk("alias/app", reuse: 901), invalid, "Invalid Encryption Configuration: kmsDataKeyReusePeriodSeconds must be between 60 and 900."),
            (#"{"type":"SOMETHING"}"#, invalid, "Invalid Encryption Configuration: type must be AWS_OWNED_KEY or CUSTOMER_MANAGED_KMS_KEY."),
            (Self.cmk("alias/other"), "KmsAccessDeniedException",
             "Access to the KMS key 'alias/other' was denied: it is not one of this daemon's keys (encryption.keys; keys are named by id, alias/NAME, or an ARN of region us-east-1 and account 123456789012)"),
            (Self.cmk("arn:aws:kms:eu-west-1:123456789012:key/\(Self.k1)"), "KmsAccessDeniedException",
             "Access to the KMS key 'arn:aws:kms:eu-west-1:123456789012:key/\(Self.k1)' was denied: it is not one of this daemon's keys (encryption.keys; keys are named by id, alias/NAME, or an ARN of region us-east-1 and account 123456789012)"),
        ] {
            let got = await Self.code { _ = try await d.machine("m", configuration) }
            #expect(got?.0 == type && got?.1 == message, "\(configuration): \(String(describing: got))")
            let activity = await Self.code { _ = try await d.service.resources.createActivity(name: "a", encryptionConfiguration: configuration) }
            #expect(activity?.0 == type, "\(configuration)")
        }
        // Every way of naming the key is accepted.
        for (i, reference) in [Self.k1, "alias/app", "arn:aws:kms:us-east-1:123456789012:key/\(Self.k1)", "arn:aws:kms:us-east-1:123456789012:alias/app"].enumerated() {
            _ = try await d.machine("ok\(i)", Self.cmk(reference, reuse: 60))
        }
        _ = try await d.machine("owned", #"{"type":"AWS_OWNED_KEY"}"#)
        // UpdateStateMachine checks the same way.
        let m = try await d.machine("updated")
        let update = await Self.code { _ = try await d.service.resources.updateStateMachine(arn: m, .init(encryptionConfiguration: Self.cmk("nope"))) }
        #expect(update?.0 == "KmsAccessDeniedException")
        _ = try await d.service.resources.updateStateMachine(arn: m, .init(encryptionConfiguration: Self.cmk("alias/app")))
        // AWS behaviour: creating the same machine with another encryption is not idempotent.
        let again = await Self.code { _ = try await d.machine("ok0", Self.cmk("alias/app", reuse: 300)) }
        #expect(again?.0 == "StateMachineAlreadyExists")
        _ = try await d.machine("ok0", Self.cmk(Self.k1, reuse: 60))
        await d.close()
        // Without any keys, a customer managed key is refused the same way.
        let bare = try Daemon(keys: [])
        defer { bare.remove() }
        #expect(await Self.code { _ = try await bare.machine("m", Self.cmk("alias/app")) }?.0 == "KmsAccessDeniedException")
        await bare.close()
    }

    @Test func withoutItsKeyAnExecutionAnswersAClearErrorAndIsNotLost() async throws {
        let clock = ManualClock(1_700_000_000_000)
        let d = try Daemon(clock: clock, keys: [try Self.key(Self.k1, "alias/app", byte: 1)])
        defer { d.remove() }
        try await d.runtime.recover()
        let m = try await d.machine("m", Self.cmk("alias/app"))
        let plain = try await d.machine("plain")
        let a = try await d.start(m, "a", marker: "SECRET")
        let p = try await d.start(plain, "p", marker: "OPEN")
        await d.close()
        // Restarted with another key only.
        let without = try Daemon(dir: d.dir, clock: clock, keys: [try Self.key(Self.k2, byte: 2)])
        try await without.runtime.recover()
        let expected = "cannot decrypt the data of execution \(a): the KMS key \(Self.k1) is not configured (encryption.keys)"
        for call in [
            { _ = try await without.service.describeExecution(executionArn: a) },
            { _ = try await without.history(a) },
            { _ = try await without.service.stopExecution(executionArn: a, error: nil, cause: nil) },
        ] as [@Sendable () async throws -> Void] {
            let got = await Self.code(call)
            #expect(got?.0 == "KmsInvalidStateException" && got?.1 == expected, "\(String(describing: got))")
        }
        // The machine's key is gone: it starts nothing (its data would have to be plaintext).
        let start = await Self.code { _ = try await without.start(m, "b", marker: "x") }
        #expect(start?.0 == "KmsInvalidStateException" && start?.1.contains("alias/app") == true)
        // Listings, other executions and the timer loop go on.
        let listed = try await without.service.listExecutions(filter: ExecutionFilter(stateMachineArn: m), maxResults: 10, nextToken: nil)
        #expect(listed.items.map(\.name) == ["a"])
        #expect(try await without.service.describeExecution(executionArn: p).input == ["card": "OPEN"])
        clock.advance(by: 10_000)
        await without.service.timers.fireDue()
        #expect(try await without.service.describeExecution(executionArn: p).status == .succeeded)
        await without.close()
        // The key back: the execution goes on from where it was.
        let back = try Daemon(dir: d.dir, clock: clock, keys: [try Self.key(Self.k1, "alias/app", byte: 1)])
        try await back.runtime.recover()
        await back.service.timers.fireDue()
        let done = try await back.service.describeExecution(executionArn: a)
        #expect(done.status == .succeeded && done.output == ["card": "SECRET"])
        await back.close()
    }

    @Test func rotationSealsNewExecutionsWithTheNewKeyAndOldOnesStayReadable() async throws {
        let clock = ManualClock(1_700_000_000_000)
        let d = try Daemon(clock: clock, keys: [try Self.key(Self.k1, "alias/app", byte: 1)])
        defer { d.remove() }
        try await d.runtime.recover()
        let m = try await d.machine("m", Self.cmk("alias/app"))
        let old = try await d.start(m, "old", marker: "OLD")
        await d.close()
        // The alias moves to a new key; the old key stays listed.
        let rotated = try Daemon(dir: d.dir, clock: clock, keys: [try Self.key(Self.k1, byte: 1), try Self.key(Self.k2, "alias/app", byte: 2)])
        try await rotated.runtime.recover()
        let new = try await rotated.start(m, "new", marker: "NEW")
        #expect(try await rotated.service.describeExecution(executionArn: new).sealingKey?.keyID == Self.k2)
        // The running one keeps its key for what it writes next.
        #expect(try await rotated.service.describeExecution(executionArn: old).sealingKey?.keyID == Self.k1)
        clock.advance(by: 10_000)
        await rotated.service.timers.fireDue()
        #expect(try await rotated.service.describeExecution(executionArn: old).output == ["card": "OLD"])
        #expect(try await rotated.service.describeExecution(executionArn: new).output == ["card": "NEW"])
        await rotated.close()
    }

    @Test func anActivitysKeySealsItsTasks() async throws {
        let d = try Daemon(keys: [try Self.key(Self.k1, "alias/activities", byte: 1)])
        defer { d.remove() }
        try await d.runtime.recover()
        let activity = try await d.service.resources.createActivity(name: "approve", encryptionConfiguration: Self.cmk("alias/activities", reuse: 900))
        let m = try await d.machine("m", definition: #"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"\#(activity.arn)","End":true}}}"#)
        let a = try await d.start(m, "a", marker: "ACT")
        // The execution has no key; the task request for the activity is sealed with the activity's.
        #expect(try await d.service.describeExecution(executionArn: a).sealingKey == nil)
        let rows = try await d.runtime.store.pendingOutbox(afterID: 0, limit: 10)
        #expect(rows.count == 1 && rows[0].sealingKey?.keyID == Self.k1 && rows[0].unreadable == nil)
        #expect(String(decoding: rows[0].payload, as: UTF8.self).contains("ACT"))
        await d.close()
    }
}
