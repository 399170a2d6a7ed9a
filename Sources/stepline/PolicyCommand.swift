import ArgumentParser
import Foundation
import SteplineSecurity

/// `stepline policy simulate`: AWS's `simulate-custom-policy`, offline, with the evaluator
/// that `serve` uses.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Evaluate IAM policies offline.", subcommands: [Simulate.self])

    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the decision (Allowed, ExplicitlyDenied, ImplicitlyDenied) and the statements that made it.")

        @Option(name: .customLong("policy"), help: "A policy document (JSON file); repeat for several.")
        var policies: [String]
        @Option(help: "The action, e.g. states:StartExecution.")
        var action: String
        @Option(help: "The resource's ARN, or *.")
        var resource: String
        @Option(help: "The principal's ARN (sets aws:PrincipalArn, aws:PrincipalAccount, aws:username).")
        var principal: String?
        @Option(name: .customLong("context"), help: "A condition key: KEY=VALUE; repeat a key for several values.")
        var context: [String] = []

        func run() throws {
            var loaded: [Policy] = []
            for path in policies {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("cannot read the policy file \(path)")
                }
                do {
                    loaded.append(try Policy(name: path, text: text))
                } catch {
                    throw ValidationError("\(error)")
                }
            }
            var keys = RequestContext()
            for item in context {
                guard let eq = item.firstIndex(of: "=") else { throw ValidationError("--context \(item): expected KEY=VALUE") }
                let key = String(item[..<eq])
                keys[key] = (keys[key] ?? []) + [String(item[item.index(after: eq)...])]
            }
            let evaluation = PolicyEvaluator.evaluate(
                loaded, AuthorizationRequest(action: action, resource: resource, principal: principal, context: keys),
                now: Date().timeIntervalSince1970)
            print(evaluation.decision.rawValue)
            for statement in evaluation.statements { print("  \(statement)") }
            if evaluation.decision != .allowed { throw ExitCode(1) }
        }
    }
}
