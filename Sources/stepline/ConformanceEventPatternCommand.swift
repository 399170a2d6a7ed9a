import ArgumentParser
import StatesLanguage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `stepline conformance event-pattern`: answers event-pattern conformance cases, one per
/// line, in the protocol of `../shared/conformance/event-patterns/run.py --lines`.
struct ConformanceEventPatternCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event-pattern",
        abstract: "Answer event-pattern conformance cases read from stdin, one JSON case per line.",
        discussion: """
            Each input line is a case ({"id", "pattern" | "pattern_text", "event"?}); each output \
            line is {"id", "matches": bool}, or {"id", "valid": bool} for a validity case. Run the \
            corpus with: python3 run.py --cmd "stepline conformance event-pattern" --lines
            """
    )

    func run() throws {
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            print(EventPatternConformance.answer(caseLine: line))
            // The runner waits for each answer before it sends the next case.
            fflush(nil)  // all output streams; stdout itself is not concurrency-safe to name
        }
    }
}
