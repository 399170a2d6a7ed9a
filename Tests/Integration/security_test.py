#!/usr/bin/env python3
"""Issue 17: who may do what, checked on real `stepline serve` processes with boto3, the AWS
CLI and botocore's own signers.

Cases:
- authentication: good credentials; a wrong secret (InvalidSignatureException); an unknown
  key (UnrecognizedClientException); no Authorization header
  (MissingAuthenticationTokenException); a signature from 10 minutes ago; a session token
  where none exists; presigned (query-string) requests, valid and expired; the AWS CLI with
  good and bad credentials; /healthz and /readyz stay open; the secrets are not logged.
- policies: allowed and denied per action and per resource, an explicit Deny over an
  Allow, conditions on the resource's tags and on the request's tags, the trigger API's
  own actions; AccessDeniedException with AWS's message.
- startup: a non-loopback listen without authentication is refused unless
  security.allowUnauthenticated says so (then a warning is logged); an invalid policy stops
  the daemon with the statement and the reason.
- roles: a state machine's role (security.roles) allows sqs:SendMessage on one queue: a task
  to it is published (request-response and .waitForTaskToken), a task to another queue
  fails with SQS's AccessDenied (SQS.AmazonSQSException) and publishes nothing, a Retry and
  a Catch on that error work, a role not listed may send nothing, a Credentials.RoleArn the
  execution's role may not assume fails the task; without security.roles both queues get
  their records.

Usage: security_test.py --binary PATH --case NAME
"""
import argparse, datetime, json, os, shutil, subprocess, sys, tempfile, time, urllib.request, urllib.error, uuid

import boto3
import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from confluent_kafka import Consumer, TopicPartition

from limits_test import Daemon, request, serve_once
from stepline_testkit import sfn_client

ACCOUNT, REGION = "123456789012", "us-east-1"
SM = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
problems = []

KEYS = {
    "admin": ("AKIDADMIN0000000001", "admin-secret-0123456789"),
    "reader": ("AKIDREADER000000001", "reader-secret-0123456789"),
    "operator": ("AKIDOPERATOR0000001", "operator-secret-0123456789"),
    "team": ("AKIDTEAM00000000001", "team-secret-0123456789"),
}

CONFIG = f"""
security:
  authentication: sigv4
  credentials:
    - accessKeyId: {KEYS['admin'][0]}
      secretAccessKey: {KEYS['admin'][1]}
      principal: arn:aws:iam::{ACCOUNT}:user/admin
      policies: [admin]
    - accessKeyId: {KEYS['reader'][0]}
      secretAccessKeyFile: reader.secret
      principal: arn:aws:iam::{ACCOUNT}:user/reader
      policies: [read-only]
    - accessKeyId: {KEYS['operator'][0]}
      secretAccessKeyEnv: OPERATOR_SECRET
      principal: arn:aws:iam::{ACCOUNT}:user/operator
      policies: [operate-orders, no-deletes]
    - accessKeyId: {KEYS['team'][0]}
      secretAccessKey: {KEYS['team'][1]}
      principal: arn:aws:iam::{ACCOUNT}:user/blue
      policies: [blue-team]
  policies:
    admin: {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": ["states:*", "stepline:*", "events:*"], "Resource": "*"}}]}}
    read-only:
      Version: 2012-10-17
      Statement:
        - Sid: Read
          Effect: Allow
          Action: ["states:Describe*", "states:List*", "states:GetExecutionHistory", "stepline:ListTriggers", "stepline:GetTrigger"]
          Resource: "*"
    operate-orders: {{"file": "operate-orders.json"}}
    no-deletes: {{"Version": "2012-10-17", "Statement": {{"Sid": "NoDeletes", "Effect": "Deny", "Action": "states:Delete*", "Resource": "*"}}}}
    blue-team: {{"Version": "2012-10-17", "Statement": [
      {{"Sid": "Run", "Effect": "Allow", "Action": ["states:StartExecution", "states:DescribeStateMachine"], "Resource": "*",
        "Condition": {{"StringEquals": {{"aws:ResourceTag/team": "blue"}}}}}},
      {{"Sid": "Create", "Effect": "Allow", "Action": ["states:CreateStateMachine", "states:TagResource"], "Resource": "*",
        "Condition": {{"StringEquals": {{"aws:RequestTag/team": "blue"}}, "ForAllValues:StringEquals": {{"aws:TagKeys": ["team", "cost"]}}}}}},
      {{"Sid": "Look", "Effect": "Allow", "Action": ["states:DescribeExecution"], "Resource": "*"}}]}}
"""

OPERATE_ORDERS = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Orders", "Effect": "Allow", "Action": "states:*", "Resource": [f"{SM}orders-*", f"arn:aws:states:{REGION}:{ACCOUNT}:execution:orders-*"]},
    {"Sid": "List", "Effect": "Allow", "Action": "states:ListStateMachines", "Resource": "*"},
]}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        problems.append(what)
    return cond


def client(port, who=None, key=None, secret=None, token=None):
    key, secret = (key, secret) if key else KEYS[who]
    return boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token,
                        config=Config(retries={"max_attempts": 0}, inject_host_prefix=False))


def error_of(call):
    try:
        call()
        return None, None
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")


def start(binary, work, config=CONFIG):
    with open(os.path.join(work, "reader.secret"), "w") as f:
        f.write(KEYS["reader"][1] + "\n")
    with open(os.path.join(work, "operate-orders.json"), "w") as f:
        json.dump(OPERATE_ORDERS, f)
    return Daemon(binary, work, config, env={"OPERATOR_SECRET": KEYS["operator"][1], "STEPLINE_LOG_LEVEL": "debug"}).start()


def signed_raw(port, method, path, body=b"", headers=None, who="admin", query=""):
    """A request signed by botocore's SigV4 (header form), sent with urllib: (status, body)."""
    url = f"http://127.0.0.1:{port}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(*KEYS[who]), "states", REGION).add_auth(req)
    return send(req.prepare())


def send(prepared):
    r = urllib.request.Request(prepared.url, data=prepared.body or None, method=prepared.method, headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


# --- cases ---------------------------------------------------------------------------------

def authentication(binary, work):
    d = start(binary, work)
    try:
        admin = client(d.port, "admin")
        admin.create_state_machine(name="orders-a", definition=PASS, roleArn=ROLE)
        check(len(admin.list_state_machines()["stateMachines"]) == 1, "good credentials: boto3 creates and lists")
        code, msg = error_of(lambda: client(d.port, key=KEYS["admin"][0], secret="wrong").list_state_machines())
        check(code == "InvalidSignatureException" and msg.startswith("The request signature we calculated does not match"),
              f"a wrong secret is InvalidSignatureException ({code}: {msg})")
        code, msg = error_of(lambda: client(d.port, key="AKIDNOBODY000000000", secret="x").list_state_machines())
        check(code == "UnrecognizedClientException" and msg == "The security token included in the request is invalid.",
              f"an unknown key is UnrecognizedClientException ({code}: {msg})")
        status, _, body = request(d.port, "POST", "/", b"{}", {"X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                                                              "Content-Type": "application/x-amz-json-1.0"})
        err = json.loads(body)
        check(status == 400 and err.get("__type") == "MissingAuthenticationTokenException",
              f"no Authorization header is MissingAuthenticationTokenException ({status} {err})")
        code, msg = error_of(lambda: client(d.port, "admin", token="a-token").list_state_machines())
        check(code == "UnrecognizedClientException", f"a session token where the key has none is refused ({code})")
        # A signature made ten minutes ago.
        real = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: real() - datetime.timedelta(minutes=10)
        try:
            code, msg = error_of(lambda: client(d.port, "admin").list_state_machines())
        finally:
            botocore.auth.get_current_datetime = real
        check(code == "InvalidSignatureException" and msg.startswith("Signature expired"), f"an expired signature is refused ({code}: {msg})")
        # Presigned requests (the query-string form), as botocore makes them.
        req = AWSRequest(method="GET", url=f"http://127.0.0.1:{d.port}/triggers")
        SigV4QueryAuth(Credentials(*KEYS["admin"]), "states", REGION, expires=60).add_auth(req)
        status, body = send(req.prepare())
        check(status == 200 and "triggers" in json.loads(body), f"a presigned GET /triggers is answered ({status})")
        botocore.auth.get_current_datetime = lambda: real() - datetime.timedelta(minutes=2)
        try:
            req = AWSRequest(method="GET", url=f"http://127.0.0.1:{d.port}/triggers")
            SigV4QueryAuth(Credentials(*KEYS["admin"]), "states", REGION, expires=60).add_auth(req)
        finally:
            botocore.auth.get_current_datetime = real
        status, body = send(req.prepare())
        check(status == 400 and b"Signature expired" in body, f"an expired presigned request is refused ({status} {body[:120]!r})")
        status, body = signed_raw(d.port, "POST", "/", b"{}", {"X-Amz-Target": "AWSStepFunctions.ListStateMachines",
                                                              "Content-Type": "application/x-amz-json-1.0"})
        check(status == 200, f"botocore's SigV4Auth on a raw request is accepted ({status})")
        # The AWS CLI, with its credentials in the environment.
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEYS["reader"][0], AWS_SECRET_ACCESS_KEY=KEYS["reader"][1], AWS_DEFAULT_REGION=REGION)
        env.pop("AWS_SESSION_TOKEN", None)
        cli = subprocess.run(["aws", "stepfunctions", "list-state-machines", "--endpoint-url", f"http://127.0.0.1:{d.port}"],
                             env=env, capture_output=True, text=True, timeout=60)
        check(cli.returncode == 0 and "orders-a" in cli.stdout, f"the AWS CLI lists with good credentials ({cli.returncode} {cli.stderr[-200:]})")
        env["AWS_SECRET_ACCESS_KEY"] = "wrong"
        cli = subprocess.run(["aws", "stepfunctions", "list-state-machines", "--endpoint-url", f"http://127.0.0.1:{d.port}"],
                             env=env, capture_output=True, text=True, timeout=60)
        check(cli.returncode != 0 and "InvalidSignatureException" in cli.stderr, f"the AWS CLI with a wrong secret fails ({cli.stderr.strip()[-160:]})")
        for path in ("/healthz", "/readyz"):
            status, _, _ = request(d.port, "GET", path)
            check(status == 200, f"{path} answers without credentials")
        log = d.log()
        check(all(secret not in log for _, secret in KEYS.values()), "no secret appears in the log (debug level)")
    finally:
        d.stop()


def policies(binary, work):
    d = start(binary, work)
    try:
        admin, reader, operator, team = (client(d.port, w) for w in ("admin", "reader", "operator", "team"))
        for name, tags in (("orders-a", []), ("billing", []), ("blue-m", [{"key": "team", "value": "blue"}]),
                           ("red-m", [{"key": "team", "value": "red"}])):
            admin.create_state_machine(name=name, definition=PASS, roleArn=ROLE, tags=tags)
        check(len(reader.list_state_machines()["stateMachines"]) == 4, "read-only: ListStateMachines allowed")
        check(reader.describe_state_machine(stateMachineArn=SM + "billing")["name"] == "billing", "read-only: DescribeStateMachine allowed")
        code, msg = error_of(lambda: reader.create_state_machine(name="x", definition=PASS, roleArn=ROLE))
        check(code == "AccessDeniedException" and msg == f"User: arn:aws:iam::{ACCOUNT}:user/reader is not authorized to perform: states:CreateStateMachine on resource: {SM}x because no identity-based policy allows the states:CreateStateMachine action",
              f"read-only: CreateStateMachine denied with AWS's message ({code}: {msg})")
        code, _ = error_of(lambda: reader.start_execution(stateMachineArn=SM + "billing"))
        check(code == "AccessDeniedException", "read-only: StartExecution denied")
        # Per resource.
        ex = operator.start_execution(stateMachineArn=SM + "orders-a")
        check(ex["executionArn"].endswith(":orders-a:" + ex["executionArn"].split(":")[-1]), "per resource: StartExecution on orders-* allowed")
        check(operator.describe_execution(executionArn=ex["executionArn"])["stateMachineArn"] == SM + "orders-a",
              "per resource: DescribeExecution of an orders-* execution allowed")
        code, msg = error_of(lambda: operator.start_execution(stateMachineArn=SM + "billing"))
        check(code == "AccessDeniedException" and f"on resource: {SM}billing" in msg, f"per resource: StartExecution on billing denied ({code})")
        # An explicit Deny wins over the Allow of states:* on orders-*.
        code, msg = error_of(lambda: operator.delete_state_machine(stateMachineArn=SM + "orders-a"))
        check(code == "AccessDeniedException" and msg.endswith("with an explicit deny in an identity-based policy"),
              f"an explicit Deny overrides an Allow ({code}: {msg})")
        check(admin.describe_state_machine(stateMachineArn=SM + "orders-a")["status"] == "ACTIVE", "the denied delete changed nothing")
        # Conditions on tags.
        check("executionArn" in team.start_execution(stateMachineArn=SM + "blue-m"), "aws:ResourceTag/team = blue: StartExecution allowed")
        code, _ = error_of(lambda: team.start_execution(stateMachineArn=SM + "red-m"))
        check(code == "AccessDeniedException", "aws:ResourceTag/team = red: StartExecution denied")
        code, _ = error_of(lambda: team.create_state_machine(name="blue-2", definition=PASS, roleArn=ROLE, tags=[{"key": "team", "value": "blue"}]))
        check(code is None, f"aws:RequestTag/team = blue: CreateStateMachine allowed ({code})")
        code, _ = error_of(lambda: team.create_state_machine(name="blue-3", definition=PASS, roleArn=ROLE))
        check(code == "AccessDeniedException", "no aws:RequestTag/team: CreateStateMachine denied")
        code, _ = error_of(lambda: team.create_state_machine(name="blue-4", definition=PASS, roleArn=ROLE,
                                                           tags=[{"key": "team", "value": "blue"}, {"key": "owner", "value": "x"}]))
        check(code == "AccessDeniedException", "ForAllValues on aws:TagKeys: an extra tag key is denied")
        # The trigger API's own actions.
        rule = json.dumps({"topic": "orders", "stateMachine": "orders-a"}).encode()
        status, body = signed_raw(d.port, "PUT", "/triggers/t1", rule, {"Content-Type": "application/json"}, who="reader")
        check(status == 403 and b"stepline:PutTrigger" in body, f"read-only: PUT /triggers is denied ({status} {body[:160]!r})")
        status, body = signed_raw(d.port, "PUT", "/triggers/t1", rule, {"Content-Type": "application/json"}, who="admin")
        check(status == 200, f"admin: PUT /triggers allowed ({status} {body[:160]!r})")
        status, body = signed_raw(d.port, "GET", "/triggers/t1", who="reader")
        check(status == 200 and json.loads(body)["name"] == "t1", f"read-only: GET /triggers/t1 allowed ({status})")
    finally:
        d.stop()


def startup(binary, work):
    exposed = Daemon(binary, work, "logLevel: info\n")
    exposed.env["STEPLINE_LISTEN"] = "0.0.0.0:0"
    exposed.start(wait=False)
    exposed.proc.wait(timeout=30)
    status, out = exposed.proc.returncode, exposed.log()
    check(status == 2 and "security.allowUnauthenticated" in out, f"a non-loopback listen without authentication is refused ({status}: {out.strip()[-200:]})")
    d = Daemon(binary, work, "security:\n  allowUnauthenticated: true\n")
    d.env["STEPLINE_LISTEN"] = f"0.0.0.0:{d.port}"
    d.start()
    try:
        check("anyone who reaches the port may do anything" in d.log(), "with allowUnauthenticated it starts and logs a warning")
    finally:
        d.stop()
    bad = CONFIG.replace('"Effect": "Deny", "Action": "states:Delete*"', '"Effect": "Deny", "Principal": "*", "Action": "states:Delete*"')
    with open(os.path.join(work, "operate-orders.json"), "w") as f:
        json.dump(OPERATE_ORDERS, f)  # only the policy under test is wrong
    status, out = serve_once(binary, work, bad, env={"OPERATOR_SECRET": "x"})
    check(status == 2 and "security.policies.no-deletes: statement 'NoDeletes': Policy document should not specify a principal" in out,
          f"an invalid policy stops the daemon naming the statement ({status}: {out.strip()[-240:]})")
    status, out = serve_once(binary, work, "security:\n  authentication: sigv4\n")
    check(status == 2 and "needs at least one entry in security.credentials" in out, f"sigv4 without credentials is refused ({out.strip()[-160:]})")


def tls(binary, work):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    config = CONFIG + f"api:\n  tls: {{certificate: {cert}, privateKey: {key}}}\n"
    with open(os.path.join(work, "reader.secret"), "w") as f:
        f.write(KEYS["reader"][1])
    with open(os.path.join(work, "operate-orders.json"), "w") as f:
        json.dump(OPERATE_ORDERS, f)
    d = Daemon(binary, work, config, env={"OPERATOR_SECRET": "x", "STEPLINE_LOG_LEVEL": "info"})
    d.start(wait=False)
    import ssl, time
    ctx = ssl.create_default_context(cafile=cert)
    deadline = time.time() + 40
    ready = False
    while time.time() < deadline and not ready:
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{d.port}/readyz", context=ctx, timeout=2) as r:
                ready = r.status == 200
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    try:
        check(ready, "HTTPS: /readyz answers over TLS with the self-signed certificate verified")
        sfn = boto3.client("stepfunctions", endpoint_url=f"https://127.0.0.1:{d.port}", region_name=REGION, verify=cert,
                           aws_access_key_id=KEYS["admin"][0], aws_secret_access_key=KEYS["admin"][1],
                           config=Config(retries={"max_attempts": 0}))
        sfn.create_state_machine(name="over-tls", definition=PASS, roleArn=ROLE)
        check([m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["over-tls"], "HTTPS: boto3 (certificate verified) creates and lists")
        check("address=https://127.0.0.1:" in d.log(), "the log says https")
        try:
            status, _, _ = request(d.port, "GET", "/healthz", timeout=3)
            plain = f"answered {status}"
        except Exception as e:
            plain = type(e).__name__
        check(not plain.startswith("answered 200"), f"plain HTTP to the HTTPS port gets no answer ({plain})")
    finally:
        d.stop()
    status, out = serve_once(binary, work, "api:\n  tls: {certificate: /nonexistent.pem, privateKey: /nonexistent.key}\n")
    check(status == 2 and "api.tls.certificate: cannot read a PEM certificate from /nonexistent.pem" in out,
          f"a missing certificate stops the daemon naming the key ({status}: {out.strip()[-200:]})")
    status, out = serve_once(binary, work, f"api:\n  tls: {{certificate: {cert}, privateKey: {cert}}}\n")
    check(status == 2 and "api.tls.privateKey" in out, f"a certificate given as the key stops the daemon ({out.strip()[-160:]})")


SEND_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/"
ROLES_CONFIG = f"""
security:
  policies:
    send-orders: {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:{REGION}:{ACCOUNT}:orders"}}]}}
    send-billing: {{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}}]}}
  roles:
    - {{arn: "{SEND_ROLE}", policies: [send-orders]}}
    - {{arn: "arn:aws:iam::{ACCOUNT}:role/billing", policies: [send-billing]}}
"""


def send_task(resource="arn:aws:states:::sqs:sendMessage", body=None, **extra):
    task = {"Type": "Task", "Resource": resource,
            "Parameters": {"QueueUrl.$": "States.Format('" + QUEUE_URL + "{}', $.queue)", "MessageBody": body or {"id.$": "$.id"}},
            "End": True}
    task.update(extra)
    states = {"Send": task}
    if "Catch" in extra:
        states["Denied"] = {"Type": "Pass", "End": True}
    return json.dumps({"StartAt": "Send", "States": states})


def finished(sfn, arn, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.1)
    return sfn.describe_execution(executionArn=arn)


def records(bootstrap, topic, wait=3.0):
    """The values and headers of every record of `topic` (none if it does not exist)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"roles-{uuid.uuid4()}", "auto.offset.reset": "earliest",
                  "log_level": 3})
    try:
        meta = c.list_topics(timeout=10).topics.get(topic)
        if meta is None:
            return []
        c.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
        out, deadline = [], time.time() + wait
        while time.time() < deadline:
            m = c.poll(0.2)
            if m is not None and m.error() is None:
                out.append((json.loads(m.value()), dict((k, v.decode()) for k, v in (m.headers() or []))))
        return out
    finally:
        c.close()


def roles(binary, work):
    machines = {
        "send": (SEND_ROLE, send_task()),
        "send-wait": (SEND_ROLE, send_task("arn:aws:states:::sqs:sendMessage.waitForTaskToken", {"id.$": "$.id", "token.$": "$$.Task.Token"})),
        "send-caught": (SEND_ROLE, send_task(
            Retry=[{"ErrorEquals": ["SQS.AmazonSQSException"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            Catch=[{"ErrorEquals": ["SQS.AmazonSQSException"], "ResultPath": "$.error", "Next": "Denied"}])),
        "unlisted": (f"arn:aws:iam::{ACCOUNT}:role/other", send_task()),
        "as-billing": (SEND_ROLE, send_task(Credentials={"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/billing"})),
    }

    def run(d, sfn, machine, queue, id):
        arn = sfn.start_execution(stateMachineArn=SM + machine, input=json.dumps({"queue": queue, "id": id}))["executionArn"]
        return arn, finished(sfn, arn)

    d = Daemon(binary, work, ROLES_CONFIG).start()
    try:
        sfn = sfn_client(d.port)
        for name, (role, definition) in machines.items():
            sfn.create_state_machine(name=name, definition=definition, roleArn=role)
        _, out = run(d, sfn, "send", "orders", "o-1")
        check(out["status"] == "SUCCEEDED", f"the role allows sqs:SendMessage on orders: the task succeeds ({out['status']} {out.get('cause', '')[:200]})")
        arn, out = run(d, sfn, "send", "billing", "b-1")
        cause = out.get("cause", "")
        check(out["status"] == "FAILED" and out.get("error") == "SQS.AmazonSQSException",
              f"not on billing: the execution fails with SQS.AmazonSQSException ({out['status']} {out.get('error')})")
        check(cause.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/orders/")
              and f"is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:{REGION}:{ACCOUNT}:billing because no identity-based policy allows the sqs:sendmessage action (Service: AmazonSQS; Status Code: 403; Error Code: AccessDenied; Request ID: " in cause,
              f"the cause is SQS's AccessDenied ({cause})")
        events = sfn.get_execution_history(executionArn=arn)["events"]
        failed = [e for e in events if e["type"] == "TaskFailed"]
        check(len(failed) == 1 and failed[0]["taskFailedEventDetails"]["error"] == "SQS.AmazonSQSException"
              and failed[0]["taskFailedEventDetails"]["resourceType"] == "sqs",
              f"the history has TaskFailed with the error ({[e['type'] for e in events]})")
        # .waitForTaskToken: allowed, its record carries the token and the callback ends it; denied, nothing leaves.
        wait_arn = sfn.start_execution(stateMachineArn=SM + "send-wait", input=json.dumps({"queue": "orders", "id": "o-2"}))["executionArn"]
        deadline, token = time.time() + 15, None
        while time.time() < deadline and token is None:
            token = next((v["token"] for v, _ in records(d.bootstrap, "orders", wait=1) if v.get("id") == "o-2"), None)
        check(token is not None, "send-wait to orders: the record with the task token is published")
        if token:
            sfn.send_task_success(taskToken=token, output=json.dumps({"done": True}))
            check(finished(sfn, wait_arn)["status"] == "SUCCEEDED", "send-wait to orders: the callback ends it")
        _, out = run(d, sfn, "send-wait", "billing", "b-2")
        check(out["status"] == "FAILED" and out.get("error") == "SQS.AmazonSQSException",
              f"send-wait to billing fails with SQS.AmazonSQSException ({out['status']} {out.get('error')})")
        # Retry, then Catch, on the denial.
        arn, out = run(d, sfn, "send-caught", "billing", "b-3")
        caught = json.loads(out.get("output") or "{}").get("error", {})
        check(out["status"] == "SUCCEEDED" and caught.get("Error") == "SQS.AmazonSQSException" and "sqs:sendmessage" in caught.get("Cause", ""),
              f"a Catch on SQS.AmazonSQSException routes to its state ({out['status']} {caught})")
        types = [e["type"] for e in sfn.get_execution_history(executionArn=arn)["events"]]
        check(types.count("TaskScheduled") == 2 and types.count("TaskFailed") == 2,
              f"a Retry on it tries again once ({types})")
        _, out = run(d, sfn, "unlisted", "orders", "o-3")
        check(out["status"] == "FAILED" and out.get("error") == "SQS.AmazonSQSException" and "assumed-role/other/" in out.get("cause", ""),
              f"a role not in security.roles may send nothing ({out['status']} {out.get('error')})")
        _, out = run(d, sfn, "as-billing", "billing", "b-4")
        check(out["status"] == "FAILED" and out.get("error") == "States.TaskFailed"
              and f"is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{ACCOUNT}:role/billing" in out.get("cause", ""),
              f"Credentials.RoleArn that the execution's role may not assume fails the task ({out.get('error')}: {out.get('cause', '')[:200]})")
        orders = [v["id"] for v, _ in records(d.bootstrap, "orders")]
        check(sorted(orders) == ["o-1", "o-2"], f"orders got the allowed records only ({orders})")
        billing = records(d.bootstrap, "billing")
        check(billing == [], f"no record left for billing ({billing})")
    finally:
        d.stop()
    # Without security.roles, every task may call what it calls.
    shutil.rmtree(os.path.join(work, "data"), ignore_errors=True)
    d = Daemon(binary, work, "logLevel: info\n").start()
    try:
        sfn = sfn_client(d.port)
        sfn.create_state_machine(name="send", definition=machines["send"][1], roleArn=SEND_ROLE)
        for queue in ("orders", "billing"):
            _, out = run(d, sfn, "send", queue, queue + "-free")
            check(out["status"] == "SUCCEEDED", f"without roles: the task to {queue} succeeds ({out['status']} {out.get('cause', '')[:160]})")
            got = [v["id"] for v, _ in records(d.bootstrap, queue)]
            check(got == [queue + "-free"], f"without roles: {queue} gets its record ({got})")
    finally:
        d.stop()


CASES = {"authentication": authentication, "policies": policies, "startup": startup, "tls": tls, "roles": roles}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix=f"stepline-security-{args.case}-")
    try:
        CASES[args.case](os.path.abspath(args.binary), work)
    except Exception as e:
        import traceback
        traceback.print_exc()
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(problems)} problem(s)" if problems else "all checks passed")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
