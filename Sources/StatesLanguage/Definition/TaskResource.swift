/// What a Task state's `Resource` names, and how the execution waits for it.
public struct TaskResource: Sendable, Hashable, CustomStringConvertible {
    /// The integration pattern chosen by the resource's suffix.
    public enum Pattern: String, Sendable, Hashable {
        case requestResponse = ""
        case sync = ".sync"
        /// `.sync:2` (nested Step Functions: parsed JSON output).
        case sync2 = ".sync:2"
        case waitForTaskToken = ".waitForTaskToken"
    }

    public enum Kind: Sendable, Hashable {
        /// `arn:aws:states:::SERVICE:ACTION[.suffix]`, an optimized integration.
        case service(name: String, action: String)
        /// `arn:aws:states:::aws-sdk:SERVICE:ACTION[.suffix]`.
        case sdk(service: String, action: String)
        /// A Lambda function ARN used directly as the resource (the legacy form).
        case lambdaFunction
        /// `arn:aws:states:REGION:ACCOUNT:activity:NAME`.
        case activity(name: String)
    }

    public let arn: String
    public let kind: Kind
    public let pattern: Pattern

    public var description: String { arn }

    /// `resourceType` of AWS's `TaskScheduled` event (`lambda`, `sqs`, `aws-sdk:s3`).
    public var resourceType: String {
        switch kind {
        case .service(let name, _): name
        case .sdk(let service, _): "aws-sdk:\(service)"
        case .lambdaFunction: "lambda"
        case .activity: "activity"
        }
    }

    /// `resource` of AWS's `TaskScheduled` event: the action with its suffix (`invoke`,
    /// `sendMessage.waitForTaskToken`), or the ARN for Lambda functions and activities.
    public var resourceName: String {
        switch kind {
        case .service(_, let action), .sdk(_, let action): action + pattern.rawValue
        case .lambdaFunction, .activity: arn
        }
    }

    /// Parses a resource ARN. Returns nil when the text is not a resource Step Functions
    /// recognises (the validator reports it).
    public init?(_ text: String) {
        self.arn = text
        let parts = text.split(separator: ":", maxSplits: 6, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 6, parts[0] == "arn", !parts[1].isEmpty else { return nil }
        let service = parts[2]
        if service == "states", parts[3].isEmpty, parts[4].isEmpty {
            // arn:aws:states:::SERVICE:ACTION[.suffix] or arn:aws:states:::aws-sdk:SERVICE:ACTION
            var rest = Array(parts[5...])
            if rest.count == 2, rest[1].contains(":") {
                rest = [rest[0]] + rest[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            }
            func split(_ action: String, extra: String?) -> (String, Pattern)? {
                if let extra {
                    // `.sync:2` splits into "startExecution.sync" and "2"
                    guard extra == "2", action.hasSuffix(".sync") else { return nil }
                    return (String(action.dropLast(5)), .sync2)
                }
                for p in [Pattern.waitForTaskToken, .sync] where action.hasSuffix(p.rawValue) {
                    return (String(action.dropLast(p.rawValue.count)), p)
                }
                return (action, .requestResponse)
            }
            if rest.first == "aws-sdk" {
                guard rest.count >= 3, !rest[1].isEmpty, !rest[2].isEmpty,
                    let (action, pattern) = split(rest[2], extra: rest.count > 3 ? rest[3] : nil)
                else { return nil }
                kind = .sdk(service: rest[1], action: action)
                self.pattern = pattern
            } else {
                guard rest.count >= 2, !rest[0].isEmpty, !rest[1].isEmpty,
                    let (action, pattern) = split(rest[1], extra: rest.count > 2 ? rest[2] : nil)
                else { return nil }
                kind = .service(name: rest[0], action: action)
                self.pattern = pattern
            }
            return
        }
        if service == "states", parts[5].hasPrefix("activity") {
            let tail = arn.split(separator: ":", omittingEmptySubsequences: false)
            guard tail.count == 7, tail[5] == "activity", !tail[6].isEmpty else { return nil }
            kind = .activity(name: String(tail[6]))
            pattern = .requestResponse
            return
        }
        if service == "lambda", parts[5].hasPrefix("function") {
            kind = .lambdaFunction
            pattern = .requestResponse
            return
        }
        return nil
    }
}
