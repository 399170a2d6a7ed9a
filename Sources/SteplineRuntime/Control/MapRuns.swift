import ControlPlane
import StatesEngine
import StatesLanguage
import StatesStore
import Synchronization

/// Map runs (Distributed Map): derived from the parent execution's history.
///
/// A Distributed Map's iterations run inside the parent execution (their events are stored
/// with it, hidden from its AWS history): a map run's counts come from those events.
/// UpdateMapRun's changes are shown by DescribeMapRun but do not change a run in progress
/// (docs/api.md).
final class MapRuns: Sendable {
    struct Summary {
        var arn: MapRunARN
        var executionArn: ExecutionARN
        var status = "RUNNING"
        var startDate: Int64
        var stopDate: Int64?
        var limits: MapLimits
        var total = 0
        var started = 0
        var succeeded = 0
        var failed = 0
        var aborted = 0
        var redriveCount = 0
        var redriveDate: Int64?
    }

    struct Override {
        var maxConcurrency: Int?
        var toleratedFailurePercentage: Double?
        var toleratedFailureCount: Int?
    }

    /// Map run ARN → execution ARN, learned by `find`.
    let index = Mutex<[MapRunARN: ExecutionARN]>([:])
    /// UpdateMapRun's changes, shown by DescribeMapRun.
    let overrides = Mutex<[MapRunARN: Override]>([:])
    let executions: ExecutionService

    init(executions: ExecutionService) { self.executions = executions }

    /// The map runs of one execution, from its history.
    func summaries(executionArn: ExecutionARN) async throws -> [Summary] {
        let events: [HistoryEvent]
        do {
            events = try await executions.store.history(executionArn: executionArn, fromSequence: 0)
        } catch StoreError.notFound {
            throw ServiceError.executionDoesNotExist(executionArn)
        }
        var out: [Summary] = []
        var open: [ThreadID: Int] = [:]
        var lengths: [ThreadID: Int] = [:]
        for e in events {
            switch e.type {
            case .mapStateStarted:
                if case .mapStateStarted(let n) = e.details { lengths[e.thread] = n }
            case .mapRunStarted:
                guard case .mapRunStarted(let arn) = e.details else { continue }
                var sum = Summary(arn: MapRunARN(arn), executionArn: executionArn, startDate: e.timestamp,
                                  limits: e.note?.mapLimits ?? MapLimits(maxConcurrency: 0))
                sum.total = lengths[e.thread] ?? 0
                open[e.thread] = out.count
                out.append(sum)
            case .mapRunRedriven:
                // The same map run again: its unsuccessful child executions run again.
                guard case .mapRunRedriven(let arn, let count) = e.details, let i = out.firstIndex(where: { $0.arn == MapRunARN(arn) })
                else { continue }
                out[i].status = "RUNNING"
                out[i].stopDate = nil
                out[i].redriveCount = count
                out[i].redriveDate = e.timestamp
                out[i].started = out[i].succeeded
                out[i].failed = 0
                out[i].aborted = 0
                if let limits = e.note?.mapLimits { out[i].limits = limits }
                open[e.thread] = i
            case .mapIterationStarted, .mapIterationSucceeded, .mapIterationFailed, .mapIterationAborted:
                guard e.hidden, let i = open[e.thread] else { continue }
                switch e.type {
                case .mapIterationStarted: out[i].started += 1
                case .mapIterationSucceeded: out[i].succeeded += 1
                case .mapIterationFailed: out[i].failed += 1
                default: out[i].aborted += 1
                }
            case .mapRunSucceeded, .mapRunFailed, .mapRunAborted:
                guard let i = open.removeValue(forKey: e.thread) else { continue }
                out[i].status = e.type == .mapRunSucceeded ? "SUCCEEDED" : e.type == .mapRunFailed ? "FAILED" : "ABORTED"
                out[i].stopDate = e.timestamp
            case .executionFailed, .executionAborted, .executionTimedOut:
                for (_, i) in open {
                    out[i].status = "ABORTED"
                    out[i].stopDate = e.timestamp
                }
                open = [:]
            default:
                break
            }
        }
        index.withLock { m in for r in out { m[r.arn] = executionArn } }
        return out
    }

    /// Finds a map run: its ARN names the state machine (`...:mapRun:MACHINE/LABEL:ID`);
    /// the machine's recent executions are searched once, then remembered.
    func find(_ arn: MapRunARN) async throws -> Summary {
        guard let p = ARNs.parse(arn.rawValue), p.type == "mapRun", p.names.count == 2, let slash = p.names[0].firstIndex(of: "/")
        else { throw ServiceError.invalidArn(arn) }
        let notFound = ServiceError(.resourceNotFound, "Resource not found: '\(arn)'")
        if let execution = index.withLock({ $0[arn] }) {
            guard let r = try await summaries(executionArn: execution).first(where: { $0.arn == arn }) else { throw notFound }
            return r
        }
        let machine = StateMachineARN("arn:aws:states:\(p.region):\(p.account):stateMachine:\(p.names[0][..<slash])")
        var nextToken: String? = nil
        for _ in 0..<10 {
            let page = try await executions.listExecutions(filter: ExecutionFilter(stateMachineArn: machine), maxResults: 1000,
                                                             nextToken: nextToken)
            for e in page.items {
                if let r = try await summaries(executionArn: e.arn).first(where: { $0.arn == arn }) { return r }
            }
            guard let n = page.next else { break }
            nextToken = n
        }
        throw notFound
    }

    static func counts(_ r: Summary) -> MapRunCounts {
        let running = r.status == "RUNNING" ? r.started - r.succeeded - r.failed - r.aborted : 0
        let pending = r.status == "RUNNING" ? max(0, r.total - r.started) : 0
        return MapRunCounts(
            pending: pending, running: running, succeeded: r.succeeded, failed: r.failed, timedOut: 0,
            aborted: r.aborted + (r.status == "RUNNING" ? 0 : max(0, r.total - r.started)), total: r.total,
            resultsWritten: r.succeeded)
    }

    func describe(_ arn: MapRunARN) async throws -> MapRunDescription {
        let r = try await find(arn)
        let o = overrides.withLock { $0[r.arn] }
        return MapRunDescription(
            mapRunArn: r.arn, executionArn: r.executionArn, status: r.status, startDate: r.startDate,
            stopDate: r.stopDate, maxConcurrency: o?.maxConcurrency ?? r.limits.maxConcurrency,
            toleratedFailurePercentage: o?.toleratedFailurePercentage ?? r.limits.toleratedFailurePercentage ?? 0,
            toleratedFailureCount: o?.toleratedFailureCount ?? r.limits.toleratedFailureCount ?? 0, counts: Self.counts(r),
            redriveCount: r.redriveCount, redriveDate: r.redriveDate)
    }

    func list(_ executionArn: ExecutionARN, _ page: PageRequest) async throws -> ResultPage<MapRunListItem> {
        _ = try await executions.describeExecution(executionArn: executionArn)
        let runs = try await summaries(executionArn: executionArn)
        let size = page.maxResults ?? 100
        let offset = page.nextToken.flatMap(Int.init) ?? 0
        guard offset >= 0 else { throw ServiceError.invalidToken }
        let items = runs.dropFirst(offset).prefix(size).map { r in
            MapRunListItem(executionArn: r.executionArn, mapRunArn: r.arn,
                           stateMachineArn: StateMachineARN(r.arn.rawValue.replacingFirst(":mapRun:", with: ":stateMachine:").droppingLastComponent),
                           startDate: r.startDate, stopDate: r.stopDate)
        }
        return ResultPage(items: Array(items), nextToken: offset + items.count < runs.count ? String(offset + items.count) : nil)
    }

    func update(_ input: UpdateMapRunInput) async throws {
        let arn = input.mapRunArn
        guard input.maxConcurrency != nil || input.toleratedFailurePercentage != nil || input.toleratedFailureCount != nil else {
            throw ServiceError.validation("At least one of the parameters maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be specified")
        }
        let r = try await find(arn)
        guard r.status == "RUNNING" else {
            throw ServiceError.validation("Cannot update a completed Map Run")
        }
        overrides.withLock { m in
            var o = m[arn] ?? Override()
            if let max = input.maxConcurrency { o.maxConcurrency = max }
            if let pct = input.toleratedFailurePercentage { o.toleratedFailurePercentage = pct }
            if let count = input.toleratedFailureCount { o.toleratedFailureCount = count }
            m[arn] = o
        }
    }
}
extension String {
    fileprivate func replacingFirst(_ a: String, with b: String) -> String {
        guard let r = range(of: a) else { return self }
        return replacingCharacters(in: r, with: b)
    }

    fileprivate var droppingLastComponent: String {
        guard let i = lastIndex(of: ":") else { return self }
        return String(self[..<i])
    }
}
