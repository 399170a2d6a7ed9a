// Event-pattern matching micro-benchmark: events matched per second against 1, 10, 100 and
// 1,000 trigger rules, by the compiled RuleMatcher and by testing each pattern in turn.
//
//   swift run -c release EventPatternBenchmark [seconds-per-measurement [rule-count...]]
import StatesLanguage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

let sources = (0..<40).map { "com.example.service\($0)" }
let types = ["OrderPlaced", "OrderShipped", "PaymentFailed", "UserSignedUp", "InvoiceIssued", "RefundRequested"]
let regions = ["eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1"]

/// A trigger rule of one of several realistic shapes.
func rule(_ i: Int, _ rng: inout Rng) -> String {
    let source = sources[rng.below(sources.count)]
    let type = types[rng.below(types.count)]
    switch i % 6 {
    case 0:
        return #"{"source": ["\#(source)"], "detail-type": ["\#(type)"]}"#
    case 1:
        return #"{"source": ["\#(source)"], "detail": {"amount": [{"numeric": [">", \#(rng.below(1000))]}], "currency": ["EUR", "USD"]}}"#
    case 2:
        return #"{"detail-type": ["\#(type)"], "region": [{"prefix": "\#(regions[rng.below(regions.count)].prefix(3))"}], "detail": {"customer": {"tier": [{"anything-but": ["free", "trial"]}]}}}"#
    case 3:
        return #"{"source": [{"wildcard": "com.example.service\#(rng.below(10))*"}], "detail": {"items": {"sku": [{"prefix": "SKU-\#(rng.below(100))"}]}}}"#
    case 4:
        return #"{"$or": [{"detail-type": ["\#(type)"]}, {"detail": {"flags": [{"equals-ignore-case": "URGENT"}]}}], "source": ["\#(source)"]}"#
    default:
        return #"{"detail": {"coupon": [{"exists": false}], "amount": [{"numeric": [">=", \#(rng.below(500)), "<", \#(500 + rng.below(500))]}]}, "detail-type": ["\#(type)"]}"#
    }
}

func event(_ rng: inout Rng) -> String {
    let items = (0..<(1 + rng.below(4))).map { _ in
        #"{"sku": "SKU-\#(rng.below(1000))", "qty": \#(1 + rng.below(5)), "price": \#(rng.below(10000)).\#(rng.below(100))}"#
    }
    let coupon = rng.below(3) == 0 ? #", "coupon": "SAVE10""# : ""
    return #"""
        {"version": "0", "id": "\#(rng.next())", "detail-type": "\#(types[rng.below(types.count)])", "source": "\#(sources[rng.below(sources.count)])", "account": "123456789012", "time": "2024-05-06T07:08:09Z", "region": "\#(regions[rng.below(regions.count)])", "resources": ["arn:aws:x:\#(rng.below(100))"], "detail": {"orderId": "o-\#(rng.next())", "amount": \#(rng.below(1000)).\#(rng.below(100)), "currency": "\#(["EUR", "USD", "GBP"][rng.below(3)])", "customer": {"id": "c-\#(rng.below(10000))", "tier": "\#(["free", "gold", "trial", "silver"][rng.below(4)])", "email": "x\#(rng.below(100))@example.com"}, "items": [\#(items.joined(separator: ", "))], "flags": ["\#(["urgent", "Urgent", "normal"][rng.below(3)])"]\#(coupon)}}
        """#
}

/// CPU time of this thread, in seconds: unlike wall time it does not count the time other
/// processes of this shared machine hold the cores.
func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` over the events repeatedly, in five rounds of `seconds / 5` of CPU time;
/// returns the best round's events per CPU second.
func measure(_ seconds: Double, _ events: [String], _ body: (String) -> Int) -> (rate: Double, matches: Int) {
    var best = 0.0
    var matchesPerPass = 0
    for _ in 0..<5 {
        var processed = 0
        var matched = 0
        let start = threadCPUSeconds()
        var elapsed = 0.0
        repeat {
            for e in events { matched &+= body(e) }
            processed += events.count
            elapsed = threadCPUSeconds() - start
        } while elapsed < seconds / 5
        best = max(best, Double(processed) / elapsed)
        matchesPerPass = matched / max(1, processed / events.count)
    }
    return (best, matchesPerPass)
}

func formatted(_ rate: Double) -> String {
    let n = Int(rate.rounded())
    var s = String(n)
    var i = s.count - 3
    while i > 0 {
        s.insert(",", at: s.index(s.startIndex, offsetBy: i))
        i -= 3
    }
    return s
}

let seconds = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 1 : 1
var rng = Rng(state: 2024)
let events = (0..<200).map { _ in event(&rng) }
let allRules = (0..<1000).map { rule($0, &rng) }
let allPatterns = allRules.map { try! EventPattern(text: $0) }
let averageSize = events.map(\.utf8.count).reduce(0, +) / events.count

print("Event-pattern matching: \(events.count) distinct events of about \(averageSize) bytes, \(seconds) s per measurement")
print("events per CPU second of one thread, parsing of the event text included (once per event in both columns); best of 5 rounds")
print("rules   | RuleMatcher events/s | one-by-one events/s | speed-up | matching rules per event")
print("--------|----------------------|---------------------|----------|-------------------------")
let counts = CommandLine.arguments.count > 2 ? CommandLine.arguments.dropFirst(2).compactMap { Int($0) } : [1, 10, 100, 1000]
for n in counts {
    let patterns = Array(allPatterns.prefix(n))
    let matcher = RuleMatcher(patterns.enumerated().map { (rule: $0.offset, pattern: $0.element) })
    let compiled = measure(seconds, events) { try! matcher.matchingRules(forEventText: $0).count }
    // PATTERN_BENCH_COMPILED_ONLY=1 skips the one-by-one column (for profiling).
    let compiledOnly = getenv("PATTERN_BENCH_COMPILED_ONLY") != nil
    let oneByOne = compiledOnly ? compiled : measure(seconds, events) { text in
        let flat = try! FlattenedEvent(text: text)
        var c = 0
        for p in patterns where p.matches(flat) { c += 1 }
        return c
    }
    precondition(compiled.matches == oneByOne.matches, "the two matchers disagree")
    let speedup = compiled.rate / oneByOne.rate
    print(
        "\(String(n).padding(7)) | \(formatted(compiled.rate).padding(20)) | \(formatted(oneByOne.rate).padding(19)) | \(String(format1(speedup)).padding(8)) | \(format1(Double(compiled.matches) / Double(events.count), unit: ""))"
    )
}

func format1(_ x: Double, unit: String = "x") -> String {
    let r = (x * 10).rounded() / 10
    return "\(r)\(unit)"
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
