import Foundation
import StatesEngine
import StatesLanguage
import SteplineRuntime
import Testing

/// EXPRESS executions are bounded by AWS's limits, not by STANDARD's: timers at any
/// distance (they are not stored, so the timer horizon must not drop them), no history
/// quota, and a 5-minute duration.
@Suite struct ExpressLimitsTests {
    typealias Fixture = ExecutionServiceTests.Fixture

    /// Waits for a sync start's answer while timers are fired (the clock moves only when told).
    static func syncResult(_ f: Fixture, _ start: Task<ExecutionService.SyncResult, any Error>,
                           advance: Int64) async throws -> ExecutionService.SyncResult
    {
        // Let the start run its first step (it parks on the timer).
        try await Self.parked(f, start)
        f.clock.advance(by: advance)
        for _ in 0..<100 where await f.service.cachedExecutionCount().express > 0 {
            await f.service.timers.fireDue()
            try await Task.sleep(for: .milliseconds(5))
        }
        // Still running: the timer never fired. Fail rather than wait for the answer forever.
        guard await f.service.cachedExecutionCount().express == 0 else {
            start.cancel()
            throw ExpressStillRunning()
        }
        return try await start.value
    }

    struct ExpressStillRunning: Error {}
    struct ExpressNeverParked: Error {}

    /// Waits (2 s at most) until the execution's first step is done and it waits in memory.
    static func parked(_ f: Fixture, _ start: Task<ExecutionService.SyncResult, any Error>) async throws {
        for _ in 0..<400 {
            if await f.service.cachedExecutionCount().express > 0 { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        start.cancel()
        throw ExpressNeverParked()
    }

    @Test func aWaitPastTheTimerHorizonFires() async throws {
        let f = try Fixture { $0.timerHorizonSeconds = 60 }
        try await f.runtime.recover()
        let m = try await f.machine("w", #"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":120,"End":true}}}"#, type: "EXPRESS")
        let start = Task { try await f.service.startSyncExecution(.init(stateMachineArn: m, input: #"{"x":1}"#)) }
        let r = try await Self.syncResult(f, start, advance: 120_000)
        #expect(r.status == .succeeded)
        #expect(r.output == ["x": 1])
        #expect(await f.service.cachedExecutionCount().express == 0)
    }

    @Test func aRetryIntervalPastTheTimerHorizonFires() async throws {
        let f = try Fixture { $0.timerHorizonSeconds = 60 }
        try await f.runtime.recover()
        let m = try await f.machine("r", #"""
            {"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,
              "Branches":[{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Oops","Cause":"always"}}}],
              "Retry":[{"ErrorEquals":["Oops"],"IntervalSeconds":90,"MaxAttempts":1}]}}}
            """#, type: "EXPRESS")
        let start = Task { try await f.service.startSyncExecution(.init(stateMachineArn: m)) }
        let r = try await Self.syncResult(f, start, advance: 90_000)
        #expect(r.status == .failed)
        #expect(r.error == "Oops")
    }

    /// AWS behaviour: an Express execution runs for 5 minutes at most.
    @Test func anExpressExecutionTimesOutAfterFiveMinutes() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("long", #"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":400,"End":true}}}"#, type: "EXPRESS")
        let start = Task { try await f.service.startSyncExecution(.init(stateMachineArn: m)) }
        let r = try await Self.syncResult(f, start, advance: 300_000)
        #expect(r.status == .timedOut)
        #expect(r.stopDate == 1_700_000_000_000 + 300_000)
    }

    /// A loop of states that never blocks is not cut at 25,000 events (STANDARD's quota):
    /// it runs in slices, due again at once, until the 5 minutes are over.
    @Test func aNonBlockingLoopRunsUntilTheDurationLimit() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("loop", #"""
            {"StartAt":"Count","States":{
              "Count":{"Type":"Pass","Next":"Again"},
              "Again":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Count"},
              "Done":{"Type":"Succeed"}}}
            """#, type: "EXPRESS")
        let start = Task { try await f.service.startSyncExecution(.init(stateMachineArn: m)) }
        try await Self.parked(f, start)
        // Three more slices at the same instant: well past 25,000 events, still running.
        for _ in 0..<3 { await f.service.timers.fireDue() }
        #expect(await f.service.cachedExecutionCount().express == 1)
        #expect(f.service.timers.count == 1)
        let r = try await Self.syncResult(f, start, advance: 300_000)
        #expect(r.status == .timedOut)
    }

    /// STANDARD keeps AWS's quota: the same loop fails at 25,000 events.
    @Test func theStandardQuotaStays() async throws {
        let f = try Fixture()
        try await f.runtime.recover()
        let m = try await f.machine("loop", #"""
            {"StartAt":"Count","States":{"Count":{"Type":"Pass","Next":"Again"},
              "Again":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"Count"},
              "Done":{"Type":"Succeed"}}}
            """#)
        let a = try await f.service.startExecution(.init(stateMachineArn: m))
        let d = try await f.service.describeExecution(executionArn: a.executionArn)
        #expect(d.status == .failed)
        #expect(d.error == HistoryLimit.error)
    }
}
