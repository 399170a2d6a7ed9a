import ArgumentParser
import SteplineSecurity

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `stepline conformance iam-policy`: answers IAM policy-evaluation cases, one per line,
/// with the evaluator `serve` uses.
struct ConformanceIAMPolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iam-policy",
        abstract: "Answer IAM policy-evaluation cases read from stdin, one JSON case per line.",
        discussion: """
            Each input line is {"policies": [...], "action", "resource", "resourceAccount"?, \
            "principal"?, "context"?: {"key": "value" | ["v1", "v2"]}}; each output line is \
            {"decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied"}, or {"error": "..."} \
            for an invalid policy. Identity policies only; a resource of another account than the \
            principal's is implicitly denied.
            """
    )

    func run() throws {
        while let line = readLine(strippingNewline: true) {
            if line.allSatisfy({ $0 == " " || $0 == "\t" || $0 == "\r" }) { continue }
            print(PolicyConformance.answer(caseLine: line))
            fflush(nil)
        }
    }
}
