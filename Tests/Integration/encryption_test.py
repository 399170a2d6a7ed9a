#!/usr/bin/env python3
"""Issue 17: encryption at rest, checked on real `stepline serve` processes with boto3.

A daemon with two keys (`encryption.keys`, files of 32 random bytes in base64) runs
executions of machines whose EncryptionConfiguration names a key (CUSTOMER_MANAGED_KMS_KEY):
one parked on a Wait, one on an activity task (the activity has a key of its own), one that
succeeds through variables and a Map; every input carries a unique marker. Then:

- every file under the data directory (the database, its WAL and shared memory, anything
  else) is searched for the marker as plain bytes: not found, while the daemon runs and
  after SIGTERM (an unencrypted machine's marker is found: the search works);
- restarted, the executions read back (DescribeExecution input and output,
  GetExecutionHistory), the activity task is handed out again from the sealed outbox and
  completes its execution;
- restarted without the machine's key: DescribeExecution, GetExecutionHistory and
  StartExecution answer KmsInvalidStateException naming the key; the daemon stays up,
  lists, and serves the unencrypted machine;
- restarted with `encryption.defaultKey`: a machine without EncryptionConfiguration is
  sealed too;
- AWS's checks: InvalidEncryptionConfiguration, KmsAccessDeniedException, the range of
  kmsDataKeyReusePeriodSeconds; DescribeStateMachine echoes the configuration;
- a bad key file stops the daemon naming `encryption.keys[0].file`; no key material in any
  log line or answer.

Usage: encryption_test.py --binary PATH
"""
import argparse, base64, json, os, shutil, sys, tempfile, time, uuid

from botocore.config import Config
from botocore.exceptions import ClientError

import boto3
from limits_test import Daemon, serve_once

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/r"
APP_KEY, ACT_KEY, DEFAULT_KEY = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
MATERIAL = {name: base64.b64encode(os.urandom(32)).decode() for name in ("app", "act", "default")}
problems = []

WAIT = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"}, "Done": {"Type": "Pass", "End": True}}}
QUICK = {"StartAt": "Remember", "States": {
    "Remember": {"Type": "Pass", "Assign": {"kept.$": "$.card"}, "Next": "Each"},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "ResultPath": "$.results", "Next": "Done",
             "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}},
    "Done": {"Type": "Pass", "Parameters": {"card.$": "$.card", "results.$": "$.results", "kept.$": "$kept"}, "End": True}}}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        problems.append(what)
    return cond


def config(keys=("app", "act"), default=None):
    ids = {"app": (APP_KEY, "alias/app"), "act": (ACT_KEY, "alias/activities"), "default": (DEFAULT_KEY, "alias/default")}
    lines = ["logLevel: info", "encryption:", "  keys:"]
    for k in keys:
        lines.append(f"    - {{id: {ids[k][0]}, alias: {ids[k][1]}, file: keys/{k}.key}}")
    if default:
        lines.append(f"  defaultKey: {default}")
    return "\n".join(lines) + "\n"


def client(port):
    return boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}, parameter_validation=False))


def error_of(call):
    try:
        call()
        return None, None
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"].get("Message", "")


def files_holding(data, marker):
    """The files under `data` that hold `marker` as plain bytes."""
    found = []
    for root, _, names in os.walk(data):
        for name in names:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as f:
                    if marker.encode() in f.read():
                        found.append(os.path.relpath(path, data))
            except OSError:
                pass
    return found


def wait_status(sfn, arn, status, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if sfn.describe_execution(executionArn=arn)["status"] == status:
            return True
        time.sleep(0.1)
    return False


def no_material(text, what):
    leaked = [k for k, m in MATERIAL.items() if m in text or m.rstrip("=") in text]
    check(not leaked, f"no key material in {what}" + (f" (leaked: {leaked})" if leaked else ""))


def run(binary, work):
    os.makedirs(os.path.join(work, "keys"))
    for name, material in MATERIAL.items():
        with open(os.path.join(work, "keys", f"{name}.key"), "w") as f:
            f.write(material + "\n")
    marker = f"SECRET-{uuid.uuid4()}"
    plain_marker = f"PLAIN-{uuid.uuid4()}"
    data = os.path.join(work, "data")

    d = Daemon(binary, work, config()).start()
    try:
        sfn = client(d.port)
        # AWS's checks of EncryptionConfiguration.
        cmk = lambda key, **more: {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": key, **more}
        create = lambda name, enc, definition=WAIT: sfn.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=ROLE, encryptionConfiguration=enc)
        code, message = error_of(lambda: create("x", {"type": "CUSTOMER_MANAGED_KMS_KEY"}))
        check(code == "InvalidEncryptionConfiguration" and "kmsKeyId is required" in message, f"CUSTOMER_MANAGED_KMS_KEY needs kmsKeyId ({code}: {message})")
        code, message = error_of(lambda: create("x", {"type": "AWS_OWNED_KEY", "kmsKeyId": "alias/app"}))
        check(code == "InvalidEncryptionConfiguration", f"AWS_OWNED_KEY takes no kmsKeyId ({code}: {message})")
        code, message = error_of(lambda: create("x", cmk("alias/nope")))
        check(code == "KmsAccessDeniedException" and "alias/nope" in message, f"a key that is not configured ({code}: {message})")
        code, message = error_of(lambda: create("x", cmk("alias/app", kmsDataKeyReusePeriodSeconds=30)))
        check(code in ("ValidationException", "InvalidEncryptionConfiguration"), f"a reuse period under 60 s ({code}: {message})")
        code, _ = error_of(lambda: sfn.create_activity(name="x", encryptionConfiguration=cmk("alias/nope")))
        check(code == "KmsAccessDeniedException", f"CreateActivity checks its key too ({code})")

        sealed = create("sealed", cmk(f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/app", kmsDataKeyReusePeriodSeconds=120))["stateMachineArn"]
        quick = create("quick", cmk(APP_KEY), QUICK)["stateMachineArn"]
        activity = sfn.create_activity(name="approve", encryptionConfiguration=cmk("alias/activities"))["activityArn"]
        task = {"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": activity, "End": True}}}
        tasked = create("tasked", cmk("alias/app"), task)["stateMachineArn"]
        # An activity without a key of its own: its tasks are sealed with the execution's.
        plain_activity = sfn.create_activity(name="plain-approve")["activityArn"]
        tasked2 = create("tasked2", cmk("alias/app"), {"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": plain_activity, "End": True}}})["stateMachineArn"]
        plain = sfn.create_state_machine(name="plain", definition=json.dumps(WAIT), roleArn=ROLE)["stateMachineArn"]
        described = sfn.describe_state_machine(stateMachineArn=sealed)
        check(described["encryptionConfiguration"] == {"type": "CUSTOMER_MANAGED_KMS_KEY", "kmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/app",
                                                        "kmsDataKeyReusePeriodSeconds": 120},
              f"DescribeStateMachine echoes the configuration ({described.get('encryptionConfiguration')})")
        no_material(json.dumps(described, default=str), "DescribeStateMachine")

        parked = sfn.start_execution(stateMachineArn=sealed, name="parked", input=json.dumps({"card": marker}))["executionArn"]
        done = sfn.start_execution(stateMachineArn=quick, name="done",
                                   input=json.dumps({"card": marker, "items": [f"{marker}-1", f"{marker}-2"]}))["executionArn"]
        waiting = sfn.start_execution(stateMachineArn=tasked, name="waiting", input=json.dumps({"card": marker}))["executionArn"]
        waiting2 = sfn.start_execution(stateMachineArn=tasked2, name="waiting2", input=json.dumps({"card": marker}))["executionArn"]
        open_arn = sfn.start_execution(stateMachineArn=plain, name="open", input=json.dumps({"card": plain_marker}))["executionArn"]
        check(wait_status(sfn, done, "SUCCEEDED"), "the execution through variables and a Map succeeds")
        out = json.loads(sfn.describe_execution(executionArn=done)["output"])
        check(out == {"card": marker, "results": [f"{marker}-1", f"{marker}-2"], "kept": marker}, f"its output reads back ({out})")
        found = files_holding(data, marker)
        check(found == [], f"while running: no file of the data directory holds the marker ({found}; files: {sorted(os.listdir(data))})")
        check(files_holding(data, plain_marker) != [], "the unencrypted machine's marker is found (the search works)")
    finally:
        d.stop()
    found = files_holding(data, marker)
    check(found == [], f"after SIGTERM: no file holds the marker ({found})")

    # Restart with the keys: everything reads back, the activity task is handed out again.
    d = Daemon(binary, work, config()).start()
    try:
        sfn = client(d.port)
        e = sfn.describe_execution(executionArn=done)
        check(marker in e["input"] and marker in e["output"], "after a restart: DescribeExecution's input and output")
        history = json.dumps(sfn.get_execution_history(executionArn=done, maxResults=1000)["events"], default=str)
        check(marker in history and f"{marker}-2" in history, "after a restart: GetExecutionHistory (the Map's results included)")
        check(marker in sfn.describe_execution(executionArn=parked)["input"], "the parked execution's input")
        t = sfn.get_activity_task(activityArn=activity, workerName="w")
        check(marker in t.get("input", ""), f"the activity task, from the sealed outbox ({t.get('input')})")
        sfn.send_task_success(taskToken=t["taskToken"], output=json.dumps({"approved": marker}))
        check(wait_status(sfn, waiting, "SUCCEEDED"), "the activity's execution completes")
    finally:
        d.stop()
    check(files_holding(data, marker) == [], "the answered task left no plaintext either")

    # Without the machines' key: clear errors, no crash, the rest goes on.
    d = Daemon(binary, work, config(keys=("act",))).start()
    try:
        sfn = client(d.port)
        for what, call in [("DescribeExecution", lambda: sfn.describe_execution(executionArn=parked)),
                           ("GetExecutionHistory", lambda: sfn.get_execution_history(executionArn=done)),
                           ("StartExecution", lambda: sfn.start_execution(stateMachineArn=sealed, input="{}"))]:
            code, message = error_of(call)
            check(code == "KmsInvalidStateException" and ("alias/app" in message or APP_KEY in message),
                  f"without the key, {what} answers {code}: {message}")
            check(marker not in (message or ""), f"{what}'s error does not show the data")
        listed = [x["name"] for x in sfn.list_executions(stateMachineArn=sealed)["executions"]]
        check(listed == ["parked"], f"ListExecutions still lists ({listed})")
        check(plain_marker in sfn.describe_execution(executionArn=open_arn)["input"], "the unencrypted execution reads")
        check("outbox: a row cannot be decrypted" in d.log() and APP_KEY in d.log(), "the outbox row that cannot be decrypted is logged, naming its key")
        check(d.proc.poll() is None, "the daemon is still up")
    finally:
        d.stop()

    # defaultKey: a machine without EncryptionConfiguration is sealed too.
    default_marker = f"DEFAULT-{uuid.uuid4()}"
    d = Daemon(binary, work, config(keys=("app", "act", "default"), default="alias/default")).start()
    try:
        sfn = client(d.port)
        arn = sfn.start_execution(stateMachineArn=plain, name="by-default", input=json.dumps({"card": default_marker}))["executionArn"]
        check(default_marker in sfn.describe_execution(executionArn=arn)["input"], "defaultKey: the execution reads")
        check(files_holding(data, default_marker) == [], "defaultKey: a machine without EncryptionConfiguration is sealed")
        check(marker in sfn.describe_execution(executionArn=parked)["input"], "the parked execution, with its key back")
        t = sfn.get_activity_task(activityArn=plain_activity, workerName="w")
        check(marker in t.get("input", ""), "with its key back, the task request is handed out")
        sfn.send_task_success(taskToken=t["taskToken"], output="{}")
        check(wait_status(sfn, waiting2, "SUCCEEDED"), "and its execution completes")
    finally:
        d.stop()
    check(files_holding(data, default_marker) == [] and files_holding(data, marker) == [], "after SIGTERM: still no marker")
    log = d.log()
    no_material(log, "the daemon's log")
    check(f"key {APP_KEY} (alias/app)" in log, "the log names the keys (by id and alias)")

    # Bad key files stop the daemon, naming the key and not the material.
    with open(os.path.join(work, "keys", "short.key"), "w") as f:
        f.write(base64.b64encode(b"sixteen bytes!!!").decode())
    status, out = serve_once(binary, work, "encryption:\n  keys:\n    - {id: k, file: keys/short.key}\n")
    check(status == 2 and "encryption.keys[0].file" in out and "holds 16 bytes" in out, f"a short key stops the daemon ({status}: {out.strip()[-200:]})")
    check(base64.b64encode(b"sixteen bytes!!!").decode() not in out, "its message does not show the material")
    status, out = serve_once(binary, work, f"encryption:\n  keys:\n    - {{id: k, file: keys/app.key}}\n  defaultKey: alias/none\n")
    check(status == 2 and "encryption.defaultKey: no key 'alias/none'" in out, f"a default key that is not listed ({out.strip()[-160:]})")
    no_material(out, "a refused start's output")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stepline-encryption-")
    try:
        run(os.path.abspath(args.binary), work)
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
