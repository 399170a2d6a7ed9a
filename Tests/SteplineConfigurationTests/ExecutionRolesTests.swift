import SteplineConfiguration
import SteplineKafka
import Testing

/// `security.roles` as the task dispatcher asks them: each role's policies, AWS's
/// evaluation, and nothing for a role that is not listed.
@Suite struct ExecutionRolesTests {
    static let yaml = """
        security:
          policies:
            send-orders:
              Version: 2012-10-17
              Statement:
                - {Effect: Allow, Action: "sqs:SendMessage", Resource: "arn:aws:sqs:*:123456789012:orders*"}
                - {Effect: Allow, Action: "sts:AssumeRole", Resource: "arn:aws:iam::123456789012:role/billing"}
            no-fifo: {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "sqs:*", "Resource": "arn:aws:sqs:*:*:*.fifo"}]}
            in-the-region:
              Version: 2012-10-17
              Statement:
                - Effect: Allow
                  Action: lambda:InvokeFunction
                  Resource: "*"
                  Condition: {StringEquals: {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalArn": "arn:aws:iam::123456789012:role/billing"}}
          roles:
            - {arn: "arn:aws:iam::123456789012:role/orders", policies: [send-orders, no-fifo]}
            - {arn: "arn:aws:iam::123456789012:role/billing", policies: [in-the-region]}
        """

    static let orders = "arn:aws:iam::123456789012:role/orders", billing = "arn:aws:iam::123456789012:role/billing"

    @Test func eachRolesPoliciesDecide() throws {
        let roles = try #require(try SecuritySettingsTests.load(Self.yaml).security.executionRoles(region: "eu-west-1"))
        #expect(roles.authorize(role: Self.orders, action: "sqs:SendMessage", resource: "arn:aws:sqs:eu-west-1:123456789012:orders", now: 0)
            == .allowed)
        #expect(roles.authorize(role: Self.orders, action: "sqs:SendMessage", resource: "arn:aws:sqs:eu-west-1:123456789012:billing", now: 0)
            == .implicitlyDenied)
        #expect(roles.authorize(role: Self.orders, action: "sqs:SendMessage", resource: "arn:aws:sqs:eu-west-1:123456789012:orders.fifo",
                                now: 0) == .explicitlyDenied)
        #expect(roles.authorize(role: Self.orders, action: "sts:AssumeRole", resource: Self.billing, now: 0) == .allowed)
        // Condition keys of the role's session: the region asked and the role's ARN.
        #expect(roles.authorize(role: Self.billing, action: "lambda:InvokeFunction", resource: "arn:aws:lambda:eu-west-1:123456789012:function:f",
                                now: 0) == .allowed)
        let elsewhere = try #require(try SecuritySettingsTests.load(Self.yaml).security.executionRoles(region: "us-east-1"))
        #expect(elsewhere.authorize(role: Self.billing, action: "lambda:InvokeFunction", resource: "arn:aws:lambda:eu-west-1:123456789012:function:f",
                                    now: 0) == .implicitlyDenied)
    }

    @Test func aRoleNotListedMayCallNothing() throws {
        let roles = try #require(try SecuritySettingsTests.load(Self.yaml).security.executionRoles(region: "us-east-1"))
        #expect(roles.authorize(role: "arn:aws:iam::123456789012:role/stepline", action: "sqs:SendMessage",
                                resource: "arn:aws:sqs:us-east-1:123456789012:orders", now: 0) == .implicitlyDenied)
    }

    @Test func withoutRolesNothingIsChecked() throws {
        #expect(try SecuritySettingsTests.load("logLevel: info\n").security.executionRoles(region: "us-east-1") == nil)
    }
}
