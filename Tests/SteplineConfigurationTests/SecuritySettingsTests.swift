import Foundation
import SteplineConfiguration
import SteplineSecurity
import Testing

/// The `security` section and `api.tls`: what each key does and each bad value's message.
@Suite struct SecuritySettingsTests {
    static let admin = """
        security:
          authentication: sigv4
          credentials:
            - accessKeyId: AKIDADMIN0000000001
              secretAccessKey: s3cr3t-value
              principal: arn:aws:iam::123456789012:user/admin
              policies: [admin]
          policies:
            admin: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "states:*", "Resource": "*"}]}
        """

    static func load(_ yaml: String, environment: [String: String] = [:]) throws -> ServeConfiguration {
        try ServeConfiguration.load(yaml: yaml, baseDirectory: "/etc/stepline", environment: environment)
    }

    static func message(_ yaml: String, environment: [String: String] = [:]) -> String? {
        do {
            _ = try load(yaml, environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func theDefaultIsNoAuthenticationOnLoopback() throws {
        let c = try Self.load("logLevel: info\n")
        #expect(c.security.authentication == .none)
        #expect(c.security.exposureProblem(host: c.host) == nil)
        #expect(c.security.exposureProblem(host: "0.0.0.0")?.contains("security.allowUnauthenticated: true") == true)
        #expect(try Self.load("security:\n  allowUnauthenticated: true\n").security.exposureProblem(host: "0.0.0.0") == nil)
        #expect(try Self.load(Self.admin).security.exposureProblem(host: "0.0.0.0") == nil)
    }

    @Test func credentialsAndPolicies() throws {
        let s = try Self.load(Self.admin).security
        #expect(s.authentication == .sigv4)
        #expect(s.principals.map(\.key.id) == ["AKIDADMIN0000000001"])
        #expect(s.principals[0].key.principal == "arn:aws:iam::123456789012:user/admin")
        #expect(s.policies(named: s.principals[0].policies).map(\.name) == ["admin"])
        // The secret stays out of the key's description (logs interpolate it).
        #expect(!"\(s.principals[0].key)".contains("s3cr3t"))
    }

    @Test func secretsFromAFileOrTheEnvironment() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stepline-sec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "from-a-file\n".write(to: dir.appendingPathComponent("k.secret"), atomically: true, encoding: .utf8)
        let yaml = """
            security:
              credentials:
                - {accessKeyId: A1, secretAccessKeyFile: k.secret, principal: "arn:aws:iam::1:user/a"}
                - {accessKeyId: A2, secretAccessKeyEnv: SECRET_TWO, principal: "arn:aws:iam::1:user/b"}
            """
        let c = try ServeConfiguration.load(yaml: yaml, baseDirectory: dir.path, environment: ["SECRET_TWO": "from-the-env"])
        #expect(c.security.keys.map(\.secret) == ["from-a-file", "from-the-env"])
    }

    @Test func policiesWrittenInYAMLKeepTheirText() throws {
        let yaml = """
            security:
              policies:
                p:
                  Version: 2012-10-17
                  Statement:
                    - Effect: Allow
                      Action: states:List*
                      Resource: "*"
            """
        #expect(try Self.load(yaml).security.policies["p"]?.version == .v2012)
    }

    @Test(arguments: [
        ("security:\n  authentication: kerberos\n", "security.authentication: expected none or sigv4, got 'kerberos'"),
        ("security:\n  mode: x\n", "unknown key 'security.mode' in the configuration"),
        ("security:\n  allowUnauthenticated: maybe\n", "security.allowUnauthenticated: expected true or false"),
        ("security:\n  credentials:\n    - {secretAccessKey: s, principal: 'arn:aws:iam::1:user/a'}\n", "security.credentials[0].accessKeyId is required"),
        ("security:\n  credentials:\n    - {accessKeyId: A, principal: 'arn:aws:iam::1:user/a'}\n",
         "security.credentials[0]: give exactly one of secretAccessKey, secretAccessKeyFile, secretAccessKeyEnv"),
        ("security:\n  credentials:\n    - {accessKeyId: A, secretAccessKey: s, secretAccessKeyEnv: E, principal: 'arn:aws:iam::1:user/a'}\n",
         "security.credentials[0]: give exactly one of secretAccessKey, secretAccessKeyFile, secretAccessKeyEnv"),
        ("security:\n  credentials:\n    - {accessKeyId: A, secretAccessKeyEnv: NOPE, principal: 'arn:aws:iam::1:user/a'}\n",
         "security.credentials[0].secretAccessKeyEnv: the environment variable NOPE is not set"),
        ("security:\n  credentials:\n    - {accessKeyId: A, secretAccessKeyFile: /nonexistent/k, principal: 'arn:aws:iam::1:user/a'}\n",
         "security.credentials[0].secretAccessKeyFile: cannot read /nonexistent/k"),
        ("security:\n  credentials:\n    - {accessKeyId: A, secretAccessKey: s, principal: alice}\n",
         "security.credentials[0].principal: expected the principal's ARN, e.g. arn:aws:iam::123456789012:user/alice"),
        ("security:\n  credentials:\n    - {accessKeyId: A, secretAccessKey: s, principal: 'arn:aws:iam::1:user/a', policies: [nope]}\n",
         "security.credentials[0].policies[0]: no policy named 'nope' in security.policies"),
        ("security:\n  credentials:\n    - {accessKeyId: A, secretAccessKey: s, principal: 'arn:aws:iam::1:user/a'}\n    - {accessKeyId: A, secretAccessKey: t, principal: 'arn:aws:iam::1:user/b'}\n",
         "security.credentials[1].accessKeyId: 'A' is given twice"),
        ("security:\n  policies:\n    p: {\"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"states:*\"}]}\n",
         "security.policies.p: statement 1: Policy statement must contain resources (Resource or NotResource)"),
        ("security:\n  policies:\n    p: '{\"Version\": \"2012-10-17\", \"Statement\": {\"Sid\": \"A\", \"Effect\": \"Permit\", \"Action\": \"*\", \"Resource\": \"*\"}}'\n",
         "security.policies.p: statement 'A': Invalid effect: 'Permit' (Allow or Deny)"),
        ("security:\n  policies:\n    p: {file: /nonexistent/p.json}\n", "security.policies.p.file: cannot read /nonexistent/p.json"),
        ("security:\n  policies:\n    p: 5\n", "security.policies.p: expected a policy document (a mapping or JSON text) or {file: PATH}"),
        ("security:\n  roles:\n    - {arn: 'arn:aws:iam::1:user/u'}\n", "security.roles[0].arn: expected a role ARN, e.g. arn:aws:iam::123456789012:role/orders"),
    ])
    func badValuesAreNamed(_ yaml: String, _ expected: String) {
        #expect(Self.message(yaml) == expected)
    }

    @Test func secretsAreNotEchoedInErrors() {
        let m = Self.message("security:\n  credentials:\n    - {accessKeyId: A, secretAccessKey: hunter2-secret, principal: nobody}\n")
        #expect(m != nil && !m!.contains("hunter2"))
    }

    @Test func tlsFilesAreRelativeToTheConfiguration() throws {
        let c = try Self.load("api:\n  tls: {certificate: cert.pem, privateKey: /keys/key.pem}\n")
        #expect(c.tls == ServeConfiguration.TLSFiles(certificate: "/etc/stepline/cert.pem", privateKey: "/keys/key.pem"))
    }
}
