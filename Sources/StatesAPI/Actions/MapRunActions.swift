import StatesEngine
import StatesLanguage
import StatesStore
import SteplineRuntime
import Synchronization
import ControlPlane

/// Map runs (Distributed Map): derived from the parent execution's history.
///
/// A Distributed Map's iterations run inside the parent execution (their events are stored
/// with it, hidden from its AWS history): a map run's counts come from those events.
/// UpdateMapRun's changes are shown by DescribeMapRun but do not change a run in progress
/// (docs/api.md).
enum MapRuns {
    struct Summary {
        var arn: String
        var executionArn: String
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
    static let index = Mutex<[String: String]>([:])
    static let overrides = Mutex<[String: Override]>([:])

    /// The map runs of one execution, from its history.
    static func summaries(executionArn: String, _ s: APIServices) async throws -> [Summary] {
        let events: [HistoryEvent]
        do {
            events = try await s.executions.store.history(executionArn: executionArn, fromSequence: 0)
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
                var sum = Summary(arn: arn, executionArn: executionArn, startDate: e.timestamp,
                                  limits: e.note?.mapLimits ?? MapLimits(maxConcurrency: 0))
                sum.total = lengths[e.thread] ?? 0
                open[e.thread] = out.count
                out.append(sum)
            case .mapRunRedriven:
                // The same map run again: its unsuccessful child executions run again.
                guard case .mapRunRedriven(let arn, let count) = e.details, let i = out.firstIndex(where: { $0.arn == arn })
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
    static func find(_ arn: String, _ s: APIServices) async throws -> Summary {
        guard let p = ARNs.parse(arn), p.type == "mapRun", p.names.count == 2, let slash = p.names[0].firstIndex(of: "/")
        else { throw ServiceError.invalidArn(arn) }
        let notFound = ServiceError(.resourceNotFound, "Resource not found: '\(arn)'")
        if let execution = index.withLock({ $0[arn] }) {
            guard let r = try await summaries(executionArn: execution, s).first(where: { $0.arn == arn }) else { throw notFound }
            return r
        }
        let machine = "arn:aws:states:\(p.region):\(p.account):stateMachine:\(p.names[0][..<slash])"
        var token: String? = nil
        for _ in 0..<10 {
            let page = try await s.executions.listExecutions(filter: ExecutionFilter(stateMachineArn: machine), maxResults: 1000,
                                                             nextToken: token)
            for e in page.items {
                if let r = try await summaries(executionArn: e.arn, s).first(where: { $0.arn == arn }) { return r }
            }
            guard let n = page.next else { break }
            token = n
        }
        throw notFound
    }

    static func counts(_ r: Summary) -> JSON {
        let running = r.status == "RUNNING" ? r.started - r.succeeded - r.failed - r.aborted : 0
        let pending = r.status == "RUNNING" ? max(0, r.total - r.started) : 0
        return [
            "pending": .int(Int64(pending)), "running": .int(Int64(running)), "succeeded": .int(Int64(r.succeeded)),
            "failed": .int(Int64(r.failed)), "timedOut": 0, "aborted": .int(Int64(r.aborted + (r.status == "RUNNING" ? 0 : max(0, r.total - r.started)))),
            "total": .int(Int64(r.total)), "resultsWritten": .int(Int64(r.succeeded)), "failuresNotRedrivable": 0,
            "pendingRedrive": 0,
        ]
    }
}

extension StepFunctionsAPI {
    static func registerMapRunActions(_ h: inout [String: Handler]) {
        h["DescribeMapRun"] = { req, s in
            let r = try await MapRuns.find(try req.requiredString("mapRunArn"), s)
            let o = MapRuns.overrides.withLock { $0[r.arn] }
            var out = JSONObject(minimumCapacity: 14)
            out.append("mapRunArn", .string(r.arn))
            out.append("executionArn", .string(r.executionArn))
            out.append("status", .string(r.status))
            out.append("startDate", Shapes.date(r.startDate))
            if let d = r.stopDate { out.append("stopDate", Shapes.date(d)) }
            out.append("maxConcurrency", .int(Int64(o?.maxConcurrency ?? r.limits.maxConcurrency)))
            out.append("toleratedFailurePercentage", .double(o?.toleratedFailurePercentage ?? r.limits.toleratedFailurePercentage ?? 0))
            out.append("toleratedFailureCount", .int(Int64(o?.toleratedFailureCount ?? r.limits.toleratedFailureCount ?? 0)))
            out.append("itemCounts", MapRuns.counts(r))
            out.append("executionCounts", MapRuns.counts(r))
            out.append("redriveCount", .int(Int64(r.redriveCount)))
            if let d = r.redriveDate { out.append("redriveDate", Shapes.date(d)) }
            return .object(out)
        }
        h["ListMapRuns"] = { req, s in
            let arn = try req.requiredString("executionArn")
            _ = try await s.executions.describeExecution(executionArn: arn)
            let runs = try await MapRuns.summaries(executionArn: arn, s)
            let size = req.maxResults ?? 100
            let offset = req.nextToken.flatMap(Int.init) ?? 0
            guard offset >= 0 else { throw ServiceError.invalidToken }
            let page = runs.dropFirst(offset).prefix(size)
            return Shapes.page("mapRuns", page.map { r in
                var o: JSONObject = ["executionArn": .string(r.executionArn), "mapRunArn": .string(r.arn),
                                     "stateMachineArn": .string(r.arn.replacingFirst(":mapRun:", with: ":stateMachine:").droppingLastComponent),
                                     "startDate": Shapes.date(r.startDate)]
                if let d = r.stopDate { o["stopDate"] = Shapes.date(d) }
                return .object(o)
            }, next: offset + page.count < runs.count ? String(offset + page.count) : nil)
        }
        h["UpdateMapRun"] = { req, s in
            let arn = try req.requiredString("mapRunArn")
            let max = req.int("maxConcurrency"), pct = req.double("toleratedFailurePercentage"), count = req.int("toleratedFailureCount")
            guard max != nil || pct != nil || count != nil else {
                throw ServiceError.validation("At least one of the parameters maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be specified")
            }
            let r = try await MapRuns.find(arn, s)
            guard r.status == "RUNNING" else {
                throw ServiceError.validation("Cannot update a completed Map Run")
            }
            MapRuns.overrides.withLock { m in
                var o = m[arn] ?? MapRuns.Override()
                if let max { o.maxConcurrency = max }
                if let pct { o.toleratedFailurePercentage = pct }
                if let count { o.toleratedFailureCount = count }
                m[arn] = o
            }
            return [:]
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
