#!/usr/bin/env python3
"""API-level integration test of `stepline serve` with boto3 and the AWS CLI.

Starts the daemon on a free port with a temporary data directory, then calls every Step
Functions action at least once, checks the error classes each action can raise (as boto3
exceptions with AWS's codes and status), pages through 1,000+ executions, runs a
long-polling activity worker that answers with SendTaskSuccess/Failure/Heartbeat, redrives
a failed execution, exercises versions, aliases, tags, map runs and TestState, checks bad
input (malformed JSON, missing/unknown target, bodies over 1 MB, wrong content type,
invalid ARNs and names) and fuzzes every action with random and mutated bodies for a
bounded time. The AWS CLI runs a few of the same calls, and `aws events
test-event-pattern`.

Usage: api_test.py --binary PATH [--fuzz-seconds N]
Ends with 'N passed, M failed'; exit 0 when all checks passed.
"""
import argparse, json, os, random, shutil, signal, subprocess, sys, tempfile, threading, time, urllib.request

from botocore.exceptions import ClientError

from stepline_testkit import free_port, sfn_client

PASSED, FAILED = [], []


def check(name, cond, detail=""):
    (PASSED if cond else FAILED).append(name)
    if not cond:
        print(f"FAIL {name} {detail}", flush=True)


def expect_error(name, code, fn, status=400):
    try:
        fn()
    except ClientError as e:
        got = e.response["Error"]["Code"]
        http = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(name, got == code and http == status, f"expected {code}/{status}, got {got}/{http}: {e}")
        return e
    check(name, False, f"expected {code}, call succeeded")


def raw(port, body, target="AWSStepFunctions.ListStateMachines", content_type="application/x-amz-json-1.0"):
    headers = {}
    if target is not None:
        headers["X-Amz-Target"] = target
    if content_type is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"raw": text.decode(errors="replace")}


PASS_MACHINE = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
# Fails in its Choice state (States.NoChoiceMatched) until it is redriven: a redrive
# re-enters the Choice state, where $$.Execution.RedriveCount is then 1.
FAIL_ONCE = json.dumps({
    "StartAt": "First", "States": {
        "First": {"Type": "Pass", "Next": "Gate"},
        "Gate": {"Type": "Choice", "Choices": [{"Variable": "$$.Execution.RedriveCount", "NumericEquals": 1, "Next": "Done"}]},
        "Done": {"Type": "Pass", "Result": "redriven", "End": True}}})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--fuzz-seconds", type=float, default=20)
    ap.add_argument("--executions", type=int, default=1050)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="stepline-api-test-")
    port = free_port()
    env = dict(os.environ, STEPLINE_DATA_DIR=data, STEPLINE_LISTEN=f"127.0.0.1:{port}", STEPLINE_LOG_LEVEL="warning",
               AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1")
    env.pop("STEPLINE_CONFIG", None)
    log = open(os.path.join(data, "daemon.log"), "ab")
    proc = subprocess.Popen([args.binary, "serve"], env=env, stdout=log, stderr=log)
    started = time.time()
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except Exception:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("daemon did not start")
            time.sleep(0.05)
        run(port, env, args)
        check("daemon still running", proc.poll() is None)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
            check("graceful SIGTERM exit 0", rc == 0, f"rc={rc}")
        except subprocess.TimeoutExpired:
            proc.kill()
            check("graceful SIGTERM exit 0", False, "did not stop")
        if FAILED:
            print(open(os.path.join(data, "daemon.log"), errors="replace").read()[-3000:])
        shutil.rmtree(data, ignore_errors=True)
    print(f"duration {time.time() - started:.1f}s")
    print(f"{len(PASSED)} passed, {len(FAILED)} failed")
    return 0 if not FAILED else 1


def client(port, read_timeout=70):
    return sfn_client(port, read_timeout=read_timeout)


def run(port, env, args):
    sfn = client(port)
    role = "arn:aws:iam::123456789012:role/test"

    # --- state machines ---
    arn = sfn.create_state_machine(name="api-pass", definition=PASS_MACHINE, roleArn=role,
                                   tags=[{"key": "team", "value": "a"}])["stateMachineArn"]
    check("CreateStateMachine arn", arn.endswith(":stateMachine:api-pass"))
    check("CreateStateMachine idempotent",
          sfn.create_state_machine(name="api-pass", definition=PASS_MACHINE, roleArn=role)["stateMachineArn"] == arn)
    expect_error("CreateStateMachine StateMachineAlreadyExists", "StateMachineAlreadyExists",
                 lambda: sfn.create_state_machine(name="api-pass", definition=FAIL_ONCE, roleArn=role))
    expect_error("CreateStateMachine InvalidDefinition", "InvalidDefinition",
                 lambda: sfn.create_state_machine(name="bad", definition='{"StartAt": "X", "States": {}}', roleArn=role))
    expect_error("CreateStateMachine InvalidName", "InvalidName",
                 lambda: sfn.create_state_machine(name="bad name", definition=PASS_MACHINE, roleArn=role))
    expect_error("CreateStateMachine InvalidLoggingConfiguration", "InvalidLoggingConfiguration",
                 lambda: sfn.create_state_machine(name="logs", definition=PASS_MACHINE, roleArn=role,
                                                  loggingConfiguration={"level": "ALL"}))
    expect_error("CreateStateMachine ValidationException (versionDescription)", "ValidationException",
                 lambda: sfn.create_state_machine(name="v", definition=PASS_MACHINE, roleArn=role, versionDescription="x"))
    expect_error("CreateStateMachine TooManyTags", "TooManyTags",
                 lambda: sfn.create_state_machine(name="tags", definition=PASS_MACHINE, roleArn=role,
                                                  tags=[{"key": f"k{i}", "value": "v"} for i in range(51)]))
    d = sfn.describe_state_machine(stateMachineArn=arn)
    check("DescribeStateMachine", d["name"] == "api-pass" and d["status"] == "ACTIVE" and d["type"] == "STANDARD")
    expect_error("DescribeStateMachine StateMachineDoesNotExist", "StateMachineDoesNotExist",
                 lambda: sfn.describe_state_machine(stateMachineArn=arn + "-nope"))
    expect_error("DescribeStateMachine InvalidArn", "InvalidArn", lambda: sfn.describe_state_machine(stateMachineArn="not-an-arn"))
    u = sfn.update_state_machine(stateMachineArn=arn, definition=PASS_MACHINE.replace('"P"', '"Q"'), publish=True,
                                 versionDescription="v1")
    check("UpdateStateMachine publish", u["stateMachineVersionArn"] == arn + ":1" and u["revisionId"])
    expect_error("UpdateStateMachine MissingRequiredParameter", "MissingRequiredParameter",
                 lambda: sfn.update_state_machine(stateMachineArn=arn))
    expect_error("UpdateStateMachine StateMachineDoesNotExist", "StateMachineDoesNotExist",
                 lambda: sfn.update_state_machine(stateMachineArn=arn + "-nope", roleArn=role))
    expect_error("UpdateStateMachine InvalidDefinition", "InvalidDefinition",
                 lambda: sfn.update_state_machine(stateMachineArn=arn, definition="{}"))
    names = [m["name"] for m in sfn.list_state_machines()["stateMachines"]]
    check("ListStateMachines", "api-pass" in names)
    v = sfn.validate_state_machine_definition(definition='{"States": {}}')
    check("ValidateStateMachineDefinition FAIL", v["result"] == "FAIL" and v["diagnostics"])
    check("ValidateStateMachineDefinition OK", sfn.validate_state_machine_definition(definition=PASS_MACHINE)["result"] == "OK")

    # --- versions and aliases ---
    v2 = sfn.update_state_machine(stateMachineArn=arn, definition=PASS_MACHINE)["revisionId"]
    pv = sfn.publish_state_machine_version(stateMachineArn=arn, description="v2", revisionId=v2)
    check("PublishStateMachineVersion", pv["stateMachineVersionArn"] == arn + ":2")
    check("PublishStateMachineVersion idempotent",
          sfn.publish_state_machine_version(stateMachineArn=arn)["stateMachineVersionArn"] == arn + ":2")
    expect_error("PublishStateMachineVersion ConflictException", "ConflictException",
                 lambda: sfn.publish_state_machine_version(stateMachineArn=arn, revisionId="stale"))
    expect_error("PublishStateMachineVersion StateMachineDoesNotExist", "StateMachineDoesNotExist",
                 lambda: sfn.publish_state_machine_version(stateMachineArn=arn + "-nope"))
    vs = [x["stateMachineVersionArn"] for x in sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]]
    check("ListStateMachineVersions newest first", vs == [arn + ":2", arn + ":1"], str(vs))
    dv = sfn.describe_state_machine(stateMachineArn=arn + ":1")
    check("DescribeStateMachine version", dv["stateMachineArn"] == arn + ":1" and dv.get("description") == "v1")
    alias = sfn.create_state_machine_alias(name="prod", routingConfiguration=[
        {"stateMachineVersionArn": arn + ":1", "weight": 50}, {"stateMachineVersionArn": arn + ":2", "weight": 50}])
    alias_arn = alias["stateMachineAliasArn"]
    check("CreateStateMachineAlias", alias_arn == arn + ":prod")
    expect_error("CreateStateMachineAlias ValidationException (weights)", "ValidationException",
                 lambda: sfn.create_state_machine_alias(name="bad", routingConfiguration=[
                     {"stateMachineVersionArn": arn + ":1", "weight": 60}]))
    expect_error("CreateStateMachineAlias ResourceNotFound", "ResourceNotFound",
                 lambda: sfn.create_state_machine_alias(name="x", routingConfiguration=[
                     {"stateMachineVersionArn": arn + ":99", "weight": 100}]))
    expect_error("CreateStateMachineAlias ConflictException", "ConflictException",
                 lambda: sfn.create_state_machine_alias(name="prod", routingConfiguration=[
                     {"stateMachineVersionArn": arn + ":1", "weight": 100}]))
    da = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
    check("DescribeStateMachineAlias", da["name"] == "prod" and len(da["routingConfiguration"]) == 2)
    expect_error("DescribeStateMachineAlias ResourceNotFound", "ResourceNotFound",
                 lambda: sfn.describe_state_machine_alias(stateMachineAliasArn=arn + ":nope"))
    check("ListStateMachineAliases", [a["stateMachineAliasArn"] for a in
                                      sfn.list_state_machine_aliases(stateMachineArn=arn)["stateMachineAliases"]] == [alias_arn])
    seen = set()
    for i in range(40):
        e = sfn.start_execution(stateMachineArn=alias_arn, name=f"alias-{i}")["executionArn"]
        de = sfn.describe_execution(executionArn=e)
        seen.add(de.get("stateMachineVersionArn"))
        if i == 0:
            check("StartExecution via alias records the alias", de.get("stateMachineAliasArn") == alias_arn)
    check("alias routes to both versions by weight", seen == {arn + ":1", arn + ":2"}, str(seen))
    le = sfn.list_executions(stateMachineArn=alias_arn, maxResults=100)["executions"]
    check("ListExecutions by alias", len(le) == 40)
    le = sfn.list_executions(stateMachineArn=arn + ":1", maxResults=100)["executions"]
    check("ListExecutions by version", 0 < len(le) < 40)
    expect_error("DeleteStateMachineVersion ConflictException", "ConflictException",
                 lambda: sfn.delete_state_machine_version(stateMachineVersionArn=arn + ":1"))
    sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=[
        {"stateMachineVersionArn": arn + ":2", "weight": 100}], description="all on 2")
    check("UpdateStateMachineAlias", sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn).get("description") == "all on 2")
    sfn.delete_state_machine_version(stateMachineVersionArn=arn + ":1")
    check("DeleteStateMachineVersion", [x["stateMachineVersionArn"] for x in
                                        sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]] == [arn + ":2"])
    sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
    expect_error("DeleteStateMachineAlias ResourceNotFound", "ResourceNotFound",
                 lambda: sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn))
    e = sfn.start_execution(stateMachineArn=arn + ":2")["executionArn"]
    check("StartExecution on a version", sfn.describe_execution(executionArn=e).get("stateMachineVersionArn") == arn + ":2")

    # --- tags ---
    sfn.tag_resource(resourceArn=arn, tags=[{"key": "env", "value": "test"}])
    tags = {t["key"]: t["value"] for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"]}
    check("TagResource/ListTagsForResource", tags == {"team": "a", "env": "test"}, str(tags))
    sfn.untag_resource(resourceArn=arn, tagKeys=["team"])
    check("UntagResource", [t["key"] for t in sfn.list_tags_for_resource(resourceArn=arn)["tags"]] == ["env"])
    expect_error("TagResource ResourceNotFound", "ResourceNotFound",
                 lambda: sfn.tag_resource(resourceArn=arn + "-nope", tags=[{"key": "a", "value": "b"}]))
    expect_error("TagResource TooManyTags", "TooManyTags",
                 lambda: sfn.tag_resource(resourceArn=arn, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)]))
    expect_error("ListTagsForResource InvalidArn", "InvalidArn", lambda: sfn.list_tags_for_resource(resourceArn="arn:nope"))

    # --- executions ---
    ex = sfn.start_execution(stateMachineArn=arn, name="one", input='{"a": 1}')["executionArn"]
    check("StartExecution idempotent (same name and input)", True)
    expect_error("StartExecution ExecutionAlreadyExists", "ExecutionAlreadyExists",
                 lambda: sfn.start_execution(stateMachineArn=arn, name="one", input='{"a": 2}'))
    expect_error("StartExecution InvalidExecutionInput", "InvalidExecutionInput",
                 lambda: sfn.start_execution(stateMachineArn=arn, input="{not json"))
    expect_error("StartExecution InvalidName", "InvalidName", lambda: sfn.start_execution(stateMachineArn=arn, name="a/b"))
    expect_error("StartExecution StateMachineDoesNotExist", "StateMachineDoesNotExist",
                 lambda: sfn.start_execution(stateMachineArn=arn + "-nope"))
    expect_error("StartExecution InvalidArn", "InvalidArn", lambda: sfn.start_execution(stateMachineArn="arn:aws:states:x"))
    expect_error("StartExecution ValidationException (name too long)", "ValidationException",
                 lambda: sfn.start_execution(stateMachineArn=arn, name="n" * 81))
    d = sfn.describe_execution(executionArn=ex)
    check("DescribeExecution", d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"a": 1}
          and d["redriveStatus"] == "NOT_REDRIVABLE")
    expect_error("DescribeExecution ExecutionDoesNotExist", "ExecutionDoesNotExist",
                 lambda: sfn.describe_execution(executionArn=ex + "-nope"))
    expect_error("DescribeExecution InvalidArn", "InvalidArn", lambda: sfn.describe_execution(executionArn=arn))
    dfe = sfn.describe_state_machine_for_execution(executionArn=ex)
    check("DescribeStateMachineForExecution", dfe["stateMachineArn"] == arn and "definition" in dfe)
    h = sfn.get_execution_history(executionArn=ex)["events"]
    check("GetExecutionHistory", [x["type"] for x in h] == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"])
    p1 = sfn.get_execution_history(executionArn=ex, maxResults=3, reverseOrder=True)
    p2 = sfn.get_execution_history(executionArn=ex, maxResults=3, reverseOrder=True, nextToken=p1["nextToken"])
    check("GetExecutionHistory reverseOrder + nextToken", [x["id"] for x in p1["events"] + p2["events"]] == [4, 3, 2, 1])
    nodata = sfn.get_execution_history(executionArn=ex, includeExecutionData=False)["events"][0]
    check("GetExecutionHistory includeExecutionData=false", "input" not in nodata["executionStartedEventDetails"])
    expect_error("GetExecutionHistory InvalidToken", "InvalidToken",
                 lambda: sfn.get_execution_history(executionArn=ex, nextToken="garbage"))
    expect_error("GetExecutionHistory ExecutionDoesNotExist", "ExecutionDoesNotExist",
                 lambda: sfn.get_execution_history(executionArn=ex + "-nope"))

    # StopExecution on a waiting execution
    wait_arn = sfn.create_state_machine(name="api-wait", roleArn=role, definition=json.dumps(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}))["stateMachineArn"]
    w = sfn.start_execution(stateMachineArn=wait_arn)["executionArn"]
    check("RUNNING execution is NOT_REDRIVABLE", sfn.describe_execution(executionArn=w)["redriveStatus"] == "NOT_REDRIVABLE")
    sfn.stop_execution(executionArn=w, error="Stop", cause="test")
    check("StopExecution", sfn.describe_execution(executionArn=w)["status"] == "ABORTED")
    expect_error("StopExecution ExecutionDoesNotExist", "ExecutionDoesNotExist",
                 lambda: sfn.stop_execution(executionArn=w + "-nope"))
    expect_error("ListExecutions StateMachineDoesNotExist", "StateMachineDoesNotExist",
                 lambda: sfn.list_executions(stateMachineArn=wait_arn + "-nope"))
    aborted = sfn.list_executions(stateMachineArn=wait_arn, statusFilter="ABORTED")["executions"]
    check("ListExecutions statusFilter", [x["executionArn"] for x in aborted] == [w])

    # Redrive
    fail_arn = sfn.create_state_machine(name="api-fail-once", definition=FAIL_ONCE, roleArn=role)["stateMachineArn"]
    f = sfn.start_execution(stateMachineArn=fail_arn)["executionArn"]
    d = sfn.describe_execution(executionArn=f)
    check("failed execution is REDRIVABLE", d["status"] == "FAILED" and d["redriveStatus"] == "REDRIVABLE")
    sfn.redrive_execution(executionArn=f)
    for _ in range(100):
        d = sfn.describe_execution(executionArn=f)
        if d["status"] != "RUNNING":
            break
        time.sleep(0.05)
    check("RedriveExecution", d["status"] == "SUCCEEDED" and d["redriveCount"] == 1 and json.loads(d["output"]) == "redriven",
          json.dumps(d, default=str))
    types = [x["type"] for x in sfn.get_execution_history(executionArn=f)["events"]]
    check("redrive history keeps the first run and re-enters the failed state",
          types == ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ChoiceStateEntered", "ExecutionFailed",
                    "ExecutionRedriven", "ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered", "PassStateExited",
                    "ExecutionSucceeded"], str(types))
    expect_error("RedriveExecution ExecutionNotRedrivable", "ExecutionNotRedrivable", lambda: sfn.redrive_execution(executionArn=f))
    expect_error("RedriveExecution ExecutionDoesNotExist", "ExecutionDoesNotExist",
                 lambda: sfn.redrive_execution(executionArn=f + "-nope"))
    check("ListExecutions redriveFilter", [x["executionArn"] for x in
                                           sfn.list_executions(stateMachineArn=fail_arn, redriveFilter="REDRIVEN")["executions"]] == [f])

    # EXPRESS and StartSyncExecution
    ex_arn = sfn.create_state_machine(name="api-express", type="EXPRESS", roleArn=role, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "$.x"}, "End": True}}}))["stateMachineArn"]
    s = sfn.start_sync_execution(stateMachineArn=ex_arn, input='{"x": 5}')
    check("StartSyncExecution", s["status"] == "SUCCEEDED" and json.loads(s["output"]) == {"x": 5} and "billingDetails" in s
          and ":express:api-express:" in s["executionArn"])
    expect_error("StartSyncExecution StateMachineTypeNotSupported", "StateMachineTypeNotSupported",
                 lambda: sfn.start_sync_execution(stateMachineArn=arn))
    expect_error("ListExecutions StateMachineTypeNotSupported", "StateMachineTypeNotSupported",
                 lambda: sfn.list_executions(stateMachineArn=ex_arn))
    check("StartExecution EXPRESS", ":express:" in sfn.start_execution(stateMachineArn=ex_arn, input='{"x": 1}')["executionArn"])

    # Pagination through 1,000+ executions
    page_arn = sfn.create_state_machine(name="api-pages", definition=PASS_MACHINE, roleArn=role)["stateMachineArn"]
    lock = threading.Lock()
    errors = []

    def starter(k):
        c = client(port)
        for i in range(k, args.executions, 8):
            try:
                c.start_execution(stateMachineArn=page_arn, name=f"page-{i:05d}")
            except Exception as e:  # noqa
                with lock:
                    errors.append(str(e))
    threads = [threading.Thread(target=starter, args=(k,)) for k in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    check("started 1,000+ executions", not errors, str(errors[:3]))
    got, token, pages = [], None, 0
    while True:
        kw = {"stateMachineArn": page_arn, "maxResults": 100}
        if token:
            kw["nextToken"] = token
        r = sfn.list_executions(**kw)
        got += [x["name"] for x in r["executions"]]
        pages += 1
        token = r.get("nextToken")
        if not token:
            break
    check("ListExecutions pages through every execution exactly once",
          len(got) == args.executions and len(set(got)) == args.executions and pages >= 10, f"{len(got)} in {pages} pages")
    paginator = sfn.get_paginator("list_executions")
    n = sum(len(p["executions"]) for p in paginator.paginate(stateMachineArn=page_arn, PaginationConfig={"PageSize": 250}))
    check("boto3 paginator", n == args.executions)

    # --- activities: a long-polling worker ---
    act = sfn.create_activity(name="api-work", tags=[{"key": "k", "value": "v"}])["activityArn"]
    check("CreateActivity idempotent", sfn.create_activity(name="api-work")["activityArn"] == act)
    check("DescribeActivity", sfn.describe_activity(activityArn=act)["name"] == "api-work")
    expect_error("DescribeActivity ActivityDoesNotExist", "ActivityDoesNotExist",
                 lambda: sfn.describe_activity(activityArn=act + "-nope"))
    expect_error("CreateActivity InvalidName", "InvalidName", lambda: sfn.create_activity(name="a b"))
    check("ListActivities", act in [a["activityArn"] for a in sfn.list_activities()["activities"]])
    check("ListTagsForResource activity", sfn.list_tags_for_resource(resourceArn=act)["tags"] == [{"key": "k", "value": "v"}])
    worker_machine = sfn.create_state_machine(name="api-worker", roleArn=role, definition=json.dumps({
        "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": act, "HeartbeatSeconds": 30,
                                                "Catch": [{"ErrorEquals": ["WorkerError"], "Next": "Caught"}], "End": True},
                                       "Caught": {"Type": "Pass", "Result": "caught", "End": True}}}))["stateMachineArn"]
    t0 = time.time()
    empty = sfn.get_activity_task(activityArn=act, workerName="w0") if False else None
    results = {}

    def worker():
        c = client(port)
        for _ in range(2):
            task = c.get_activity_task(activityArn=act, workerName="worker-1")
            token = task.get("taskToken")
            if not token:
                continue
            inp = json.loads(task["input"])
            c.send_task_heartbeat(taskToken=token)
            if inp.get("fail"):
                c.send_task_failure(taskToken=token, error="WorkerError", cause="asked to fail")
            else:
                c.send_task_success(taskToken=token, output=json.dumps({"done": inp["n"]}))
            results[inp["n"]] = token
    wt = threading.Thread(target=worker)
    wt.start()
    time.sleep(0.5)  # the worker is now waiting in a long poll
    e1 = sfn.start_execution(stateMachineArn=worker_machine, input='{"n": 1}')["executionArn"]
    time.sleep(0.2)
    e2 = sfn.start_execution(stateMachineArn=worker_machine, input='{"n": 2, "fail": true}')["executionArn"]
    wt.join(timeout=60)
    for _ in range(100):
        s1 = sfn.describe_execution(executionArn=e1)
        s2 = sfn.describe_execution(executionArn=e2)
        if s1["status"] != "RUNNING" and s2["status"] != "RUNNING":
            break
        time.sleep(0.05)
    check("GetActivityTask long poll + SendTaskSuccess", s1["status"] == "SUCCEEDED" and json.loads(s1["output"]) == {"done": 1})
    check("SendTaskFailure caught", s2["status"] == "SUCCEEDED" and json.loads(s2["output"]) == "caught")
    expect_error("SendTaskSuccess TaskTimedOut (task finished)", "TaskTimedOut",
                 lambda: sfn.send_task_success(taskToken=results[1], output="{}"))
    expect_error("SendTaskHeartbeat TaskTimedOut", "TaskTimedOut", lambda: sfn.send_task_heartbeat(taskToken=results[1]))
    expect_error("SendTaskFailure InvalidToken", "InvalidToken", lambda: sfn.send_task_failure(taskToken="nonsense"))
    expect_error("SendTaskSuccess TaskDoesNotExist", "TaskDoesNotExist",
                 lambda: sfn.send_task_success(taskToken="AQB" + "x" * 85, output="{}"))
    e3 = sfn.start_execution(stateMachineArn=worker_machine, input='{"n": 3}')["executionArn"]
    task = sfn.get_activity_task(activityArn=act)
    expect_error("SendTaskSuccess InvalidOutput", "InvalidOutput",
                 lambda: sfn.send_task_success(taskToken=task["taskToken"], output="{not json"))
    sfn.stop_execution(executionArn=e3)
    quick = client(port, read_timeout=5)
    t0 = time.time()
    empty = sfn.get_activity_task(activityArn=act, workerName="idle")
    check("GetActivityTask returns empty after the long poll", "taskToken" not in empty or not empty.get("taskToken"),
          str(empty))
    check("GetActivityTask waits about 60 s", 55 <= time.time() - t0 <= 70, f"{time.time() - t0:.1f}s")
    expect_error("GetActivityTask ActivityDoesNotExist", "ActivityDoesNotExist",
                 lambda: quick.get_activity_task(activityArn=act + "-nope"))
    sfn.delete_activity(activityArn=act)
    expect_error("DeleteActivity then DescribeActivity", "ActivityDoesNotExist", lambda: sfn.describe_activity(activityArn=act))

    # --- map runs ---
    map_arn = sfn.create_state_machine(name="api-map", roleArn=role, definition=json.dumps({
        "StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "Label": "run",
                                         "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                                           "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                                         "End": True}}}))["stateMachineArn"]
    m = sfn.start_execution(stateMachineArn=map_arn, input='{"items": [1, 2, 3]}')["executionArn"]
    for _ in range(100):
        if sfn.describe_execution(executionArn=m)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    runs = sfn.list_map_runs(executionArn=m)["mapRuns"]
    check("ListMapRuns", len(runs) == 1, str(runs))
    if runs:
        dm = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
        check("DescribeMapRun", dm["status"] == "SUCCEEDED" and dm["itemCounts"]["succeeded"] == 3 and dm["itemCounts"]["total"] == 3,
              json.dumps(dm, default=str))
        expect_error("UpdateMapRun ValidationException (completed)", "ValidationException",
                     lambda: sfn.update_map_run(mapRunArn=runs[0]["mapRunArn"], maxConcurrency=2))
    expect_error("DescribeMapRun ResourceNotFound", "ResourceNotFound", lambda: sfn.describe_map_run(
        mapRunArn="arn:aws:states:us-east-1:123456789012:mapRun:api-map/run:00000000-0000-0000-0000-000000000000"))
    expect_error("UpdateMapRun ResourceNotFound", "ResourceNotFound", lambda: sfn.update_map_run(
        mapRunArn="arn:aws:states:us-east-1:123456789012:mapRun:api-map/run:00000000-0000-0000-0000-000000000000", maxConcurrency=1))
    expect_error("ListMapRuns ExecutionDoesNotExist", "ExecutionDoesNotExist", lambda: sfn.list_map_runs(executionArn=m + "x"))

    # Redrive of a Distributed Map: item 2 fails until the execution is redriven; the redrive
    # redrives the Map Run (MapRunRedriven), reruns that item only and keeps the others.
    # (States.NoChoiceMatched in the Choice state, which a redrive enters again: a Fail state
    # would fail again.)
    gate = {"Type": "Choice", "Choices": [{"Not": {"And": [{"Variable": "$", "NumericEquals": 2},
                                                           {"Variable": "$$.Execution.RedriveCount", "NumericEquals": 0}]},
                                           "Next": "Good"}]}
    redrive_map_arn = sfn.create_state_machine(name="api-map-redrive", roleArn=role, definition=json.dumps({
        "StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
                                         "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                                                           "StartAt": "Gate", "States": {
                                                               "Gate": gate, "Good": {"Type": "Pass", "End": True}}},
                                         "End": True}}}))["stateMachineArn"]
    rm = sfn.start_execution(stateMachineArn=redrive_map_arn, input='{"items": [1, 2, 3]}')["executionArn"]
    for _ in range(100):
        if sfn.describe_execution(executionArn=rm)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    check("Distributed Map fails first", sfn.describe_execution(executionArn=rm)["status"] == "FAILED")
    sfn.redrive_execution(executionArn=rm)
    for _ in range(100):
        d = sfn.describe_execution(executionArn=rm)
        if d["status"] != "RUNNING":
            break
        time.sleep(0.05)
    check("redriven Distributed Map", d["status"] == "SUCCEEDED" and json.loads(d["output"]) == [1, 2, 3], json.dumps(d, default=str))
    types = [x["type"] for x in sfn.get_execution_history(executionArn=rm)["events"]]
    check("redrive redrives the Map Run", types[types.index("ExecutionRedriven"):] == [
        "ExecutionRedriven", "MapStateEntered", "MapStateStarted", "MapRunRedriven", "MapRunSucceeded", "MapStateSucceeded",
        "MapStateExited", "ExecutionSucceeded"], str(types))
    runs = sfn.list_map_runs(executionArn=rm)["mapRuns"]
    if runs:
        dm = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
        check("DescribeMapRun after a redrive", len(runs) == 1 and dm["status"] == "SUCCEEDED" and dm["redriveCount"] == 1
              and "redriveDate" in dm and dm["itemCounts"]["succeeded"] == 3, json.dumps(dm, default=str))

    # Redrive of a Parallel: only the failed branch runs again, from its failed state.
    redrive_parallel_arn = sfn.create_state_machine(name="api-parallel-redrive", roleArn=role, definition=json.dumps({
        "StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True, "Branches": [
            {"StartAt": "Ok", "States": {"Ok": {"Type": "Pass", "Result": "ok", "End": True}}},
            {"StartAt": "Before", "States": {
                "Before": {"Type": "Pass", "Result": 2, "Next": "Gate"}, "Gate": gate,
                "Good": {"Type": "Pass", "Result": "redriven", "End": True}}}]}}}))["stateMachineArn"]
    rp = sfn.start_execution(stateMachineArn=redrive_parallel_arn)["executionArn"]
    for _ in range(100):
        if sfn.describe_execution(executionArn=rp)["status"] != "RUNNING":
            break
        time.sleep(0.05)
    sfn.redrive_execution(executionArn=rp)
    for _ in range(100):
        d = sfn.describe_execution(executionArn=rp)
        if d["status"] != "RUNNING":
            break
        time.sleep(0.05)
    check("redriven Parallel", d["status"] == "SUCCEEDED" and json.loads(d["output"]) == ["ok", "redriven"], json.dumps(d, default=str))
    events = sfn.get_execution_history(executionArn=rp)["events"]
    after = [(x["type"], (x.get("stateEnteredEventDetails") or {}).get("name")) for x in events]
    after = after[[t for t, _ in after].index("ExecutionRedriven"):]
    check("redrive reruns only the failed branch, from its failed state",
          [n for t, n in after if t.endswith("StateEntered")] == ["P", "Gate", "Good"], str(after))

    # --- TestState ---
    t = sfn.test_state(definition=json.dumps({"Type": "Pass", "Parameters": {"v.$": "$.a"}, "Next": "N"}), roleArn=role,
                       input='{"a": 7}', inspectionLevel="DEBUG")
    check("TestState Pass", t["status"] == "SUCCEEDED" and json.loads(t["output"]) == {"v": 7} and t["nextState"] == "N"
          and "afterParameters" in t["inspectionData"])
    t = sfn.test_state(definition=json.dumps({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
                                              "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1}]}), roleArn=role,
                       mock={"errorOutput": {"error": "E", "cause": "c"}})
    check("TestState mock error RETRIABLE", t["status"] == "RETRIABLE")
    expect_error("TestState ValidationException", "ValidationException", lambda: sfn.test_state(
        definition='{"Type": "Pass", "End": true}', roleArn=role, mock={"result": "{}"}))
    expect_error("TestState InvalidDefinition", "InvalidDefinition", lambda: sfn.test_state(definition="nope", roleArn=role))
    deep_inputs(sfn, port, role, args.binary)

    # --- delete ---
    sfn.delete_state_machine(stateMachineArn=arn)
    expect_error("DeleteStateMachine then Describe", "StateMachineDoesNotExist", lambda: sfn.describe_state_machine(stateMachineArn=arn))
    expect_error("DeleteStateMachine InvalidArn", "InvalidArn", lambda: sfn.delete_state_machine(stateMachineArn="x"))

    # --- bad input over raw HTTP ---
    st, b = raw(port, b"{not json")
    check("malformed JSON -> SerializationException", st == 400 and b.get("__type") == "SerializationException", str(b))
    st, b = raw(port, b"[1, 2]")
    check("non-object body -> SerializationException", st == 400 and b.get("__type") == "SerializationException", str(b))
    st, b = raw(port, b"{}", target=None)
    check("missing target -> UnknownOperationException", st == 400 and b.get("__type") == "UnknownOperationException", str(b))
    st, b = raw(port, b"{}", target="AWSStepFunctions.Nope")
    check("unknown target -> UnknownOperationException", st == 400 and b.get("__type") == "UnknownOperationException", str(b))
    st, b = raw(port, b'{"name": "' + b"x" * (1_100_000) + b'"}', target="AWSStepFunctions.CreateActivity")
    check("body over 1 MB -> 413", st == 413 and b.get("__type") == "RequestEntityTooLargeException", f"{st} {str(b)[:200]}")
    st, b = raw(port, b"{}", content_type="text/plain")
    check("wrong content type -> 400", st == 400 and "__type" in b, str(b))
    st, b = raw(port, b'{"stateMachineArn": 5}', target="AWSStepFunctions.DescribeStateMachine")
    check("wrong member type -> SerializationException", st == 400 and b.get("__type") == "SerializationException", str(b))
    st, b = raw(port, b'{}', target="AWSStepFunctions.DescribeStateMachine")
    check("missing required member -> ValidationException", st == 400 and b.get("__type") == "ValidationException"
          and "Member must not be null" in b.get("message", ""), str(b))

    # --- numbers as written, text that is not UTF-8 refused (issue 14, item 7) ---
    numbers(port, sfn, role)

    # --- AWS CLI ---
    aws = ["aws", "--endpoint-url", f"http://127.0.0.1:{port}", "--region", "us-east-1", "--output", "json"]
    cli_arn = json.loads(subprocess.run(aws + ["stepfunctions", "create-state-machine", "--name", "cli", "--role-arn", role,
                                               "--definition", PASS_MACHINE], capture_output=True, text=True, env=env,
                                              timeout=60).stdout or "{}").get("stateMachineArn")
    check("aws stepfunctions create-state-machine", bool(cli_arn))
    # (StartSyncExecution from the CLI needs a host name for its "sync-" endpoint prefix: docs/api.md.)
    out = subprocess.run(aws + ["stepfunctions", "start-execution", "--state-machine-arn", cli_arn or "", "--input", '{"x": 9}'],
                         capture_output=True, text=True, env=env, timeout=60)
    check("aws stepfunctions start-execution", out.returncode == 0 and "executionArn" in json.loads(out.stdout or "{}"), out.stderr)
    out = subprocess.run(aws + ["stepfunctions", "describe-execution", "--execution-arn", ex + "-nope"],
                         capture_output=True, text=True, env=env, timeout=60)
    check("aws CLI error class", out.returncode != 0 and "ExecutionDoesNotExist" in out.stderr, out.stderr)
    out = subprocess.run(aws + ["stepfunctions", "list-executions", "--state-machine-arn", page_arn, "--max-items", "1200"],
                         capture_output=True, text=True, env=env, timeout=120)
    check("aws CLI paginates list-executions", out.returncode == 0 and len(json.loads(out.stdout)["executions"]) == args.executions)
    event = json.dumps({"id": "1", "account": "123456789012", "source": "orders", "time": "2024-01-01T00:00:00Z",
                        "region": "us-east-1", "resources": [], "detail-type": "OrderPlaced", "detail": {"amount": 5}})
    out = subprocess.run(aws + ["events", "test-event-pattern", "--event", event, "--event-pattern",
                                json.dumps({"detail-type": ["OrderPlaced"], "detail": {"amount": [{"numeric": [">", 1]}]}})],
                         capture_output=True, text=True, env=env, timeout=60)
    check("aws events test-event-pattern true", out.returncode == 0 and json.loads(out.stdout) == {"Result": True}, out.stderr)
    out = subprocess.run(aws + ["events", "test-event-pattern", "--event", event, "--event-pattern", '{"source": ["x"]}'],
                         capture_output=True, text=True, env=env, timeout=60)
    check("aws events test-event-pattern false", out.returncode == 0 and json.loads(out.stdout) == {"Result": False}, out.stderr)
    out = subprocess.run(aws + ["events", "test-event-pattern", "--event", event, "--event-pattern", '{"source": "x"}'],
                         capture_output=True, text=True, env=env, timeout=60)
    check("aws events test-event-pattern InvalidEventPatternException", out.returncode != 0 and "InvalidEventPattern" in out.stderr,
          out.stderr)

    # --- metrics ---
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    check("/metrics API counts", 'stepline_api_requests_total{action="StartExecution",status="200"}' in text, text[:500])
    check("/metrics executions", 'metric="ExecutionsStarted"' in text and "stepline_state_transitions_total" in text)

    # --- fuzz: random and mutated bodies to every action ---
    fuzz(port, args.fuzz_seconds, arn, ex)


def hostile_values():
    """Values a hostile client sends: deep, wide, long, huge numbers (issue 14, items 1 and 7)."""
    deep_jsonata = "{% " + "(" * 3000 + "1" + ")" * 3000 + " %}"
    deep_machine = lambda field, value: json.dumps({"QueryLanguage": "JSONata", "StartAt": "P",
                                                    "States": {"P": {"Type": "Pass", field: value, "End": True}}})
    nested = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
    for _ in range(200):
        nested = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [nested], "End": True}}}
    return [
        deep_machine("Output", deep_jsonata),
        deep_machine("Output", "{% " + "[" * 20000 + "]" * 20000 + " %}"),
        deep_machine("Output", "{% " + "-" * 20000 + "1 %}"),
        deep_machine("Output", "{% " + "1+" * 20000 + "1 %}"),
        json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$" + ".a" * 20000, "End": True}}}),
        json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"x.$": "States.Array(" * 3000 + ")" * 3000}, "End": True}}}),
        json.dumps(nested),
        "[" * 100000 + "]" * 100000,
        json.dumps({f"k{i}": i for i in range(20000)}),
        json.dumps(list(range(100000))),
        "x" * 300000,
    ]


# Raw JSON tokens json.dumps cannot write: numbers past the double range, long literals.
RAW_NUMBERS = [b"1e309", b"-1e400", b"1e-400", b"18446744073709551616", b"1e999999", b"9" * 200000]
# Bytes that are not UTF-8.
BAD_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]


def healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return r.status == 200
    except Exception:
        return False


def deep_inputs(sfn, port, role, binary):
    """Issue 14: a JSONata expression 3,000 deep (a 6 KB body, no authentication needed) killed
    the daemon with SIGSEGV; so did `1+1+...+1` and `----...1` 20,000 long. Each must now be
    a clean error, the daemon alive after it; a catastrophic regular expression must end
    with an error quickly."""
    def machine(expr):
        return json.dumps({"QueryLanguage": "JSONata", "StartAt": "P",
                           "States": {"P": {"Type": "Pass", "Output": "{% " + expr + " %}", "End": True}}})
    shapes = {"3,000 parentheses": "(" * 3000 + "1" + ")" * 3000, "20,000 additions": "1" + "+1" * 20000,
              "20,000 negations": "-" * 20000 + "1", "20,000 brackets": "[" * 20000 + "1" + "]" * 20000}
    for name, expr in shapes.items():
        v = sfn.validate_state_machine_definition(definition=machine(expr))
        check(f"deep JSONata ({name}): ValidateStateMachineDefinition FAIL with U1001",
              v["result"] == "FAIL" and any("U1001" in d["message"] for d in v["diagnostics"]), str(v)[:300])
        check(f"deep JSONata ({name}): daemon alive after validate", healthy(port))
    deep = shapes["3,000 parentheses"]
    e = expect_error("deep JSONata: CreateStateMachine InvalidDefinition", "InvalidDefinition",
                     lambda: sfn.create_state_machine(name="deep", definition=machine(deep), roleArn=role))
    check("deep JSONata: CreateStateMachine names U1001", e is not None and "U1001" in str(e), str(e)[:300])
    expect_error("deep JSONata: TestState InvalidDefinition", "InvalidDefinition", lambda: sfn.test_state(
        definition=json.dumps({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% " + deep + " %}", "End": True}),
        roleArn=role))
    check("deep JSONata: daemon alive after create and TestState", healthy(port))
    started = time.time()
    t = sfn.test_state(definition=json.dumps({"Type": "Pass", "QueryLanguage": "JSONata", "End": True,
                                              "Output": "{% $match('aaaaaaaaaaaaaaaaaaaaaaaa!', /^(a+)+$/) %}"}), roleArn=role)
    took = time.time() - started
    check("catastrophic regex: TestState fails with States.QueryEvaluationError",
          t["status"] == "FAILED" and t.get("error") == "States.QueryEvaluationError" and "U1001" in t.get("cause", ""), str(t)[:300])
    check(f"catastrophic regex: ends in {took:.2f}s (< 3 s)", took < 3)
    out = subprocess.run([binary, "jsonata", "(" * 5000 + "1" + ")" * 5000], capture_output=True, text=True, timeout=60)
    check("stepline jsonata 5,000 deep: exit 1 with U1001", out.returncode == 1 and out.stderr.startswith("U1001"),
          f"rc={out.returncode} {out.stderr[:200]}")


def numbers(port, sfn, role):
    machine = sfn.create_state_machine(name="api-numbers", roleArn=role, definition=json.dumps({
        "StartAt": "C", "States": {
            "C": {"Type": "Choice", "Default": "No",
                  "Choices": [{"Variable": "$.big", "NumericGreaterThan": 18446744073709551615, "Next": "P"}]},
            "P": {"Type": "Pass", "Parameters": {"copy.$": "$", "text.$": "States.Format('{}', $.huge)"}, "End": True},
            "No": {"Type": "Fail", "Error": "Rounded"}}}))["stateMachineArn"]
    text = '{"big":18446744073709551616,"huge":1e309,"tiny":-1e-400,"long":0.1000000000000000000001,"one":1.0}'
    ex = sfn.start_execution(stateMachineArn=machine, name="numbers", input=text)["executionArn"]
    d = {}
    for _ in range(100):
        d = sfn.describe_execution(executionArn=ex)
        if d["status"] != "RUNNING":
            break
        time.sleep(0.05)
    check("numbers: input kept as written", d.get("input") == text, str(d.get("input")))
    check("numbers: Choice compares 2^64 exactly, output kept as written",
          d.get("status") == "SUCCEEDED" and d.get("output") == '{"copy":' + text + ',"text":"1e309"}', str(d.get("output")))
    events = sfn.get_execution_history(executionArn=ex)["events"]
    check("numbers: history input kept as written", events[0]["executionStartedEventDetails"]["input"] == text)
    e = expect_error("numbers: a 200,000-digit literal -> InvalidExecutionInput", "InvalidExecutionInput",
                     lambda: sfn.start_execution(stateMachineArn=machine, input="[" + "1" * 200_000 + "]"))
    check("numbers: the error names the limit", e is not None and "Number value length (200000) exceeds the maximum allowed (1000)"
          in e.response["Error"]["Message"], str(e))
    e = expect_error("deep input -> InvalidExecutionInput", "InvalidExecutionInput",
                     lambda: sfn.start_execution(stateMachineArn=machine, input="[" * 100_000 + "]" * 100_000))
    check("deep input: the error names the depth", e is not None and "nesting depth (513)" in e.response["Error"]["Message"], str(e))
    st, b = raw(port, b"[" * 100_000, target="AWSStepFunctions.ListStateMachines")
    check("deep body -> SerializationException", st == 400 and b.get("__type") == "SerializationException"
          and "nesting depth (513)" in b.get("message", ""), str(b)[:300])

    st, b = raw(port, b'{"name": "utf8-\xff"}', target="AWSStepFunctions.CreateActivity")
    check("body not UTF-8 -> SerializationException naming the byte", st == 400 and b.get("__type") == "SerializationException"
          and "Invalid UTF-8 start byte 0xff" in b.get("message", ""), str(b))
    st, b = raw(port, b'{"name": "utf8-\\ud800"}', target="AWSStepFunctions.CreateActivity")
    check("lone surrogate escape in a name -> SerializationException", st == 400 and b.get("__type") == "SerializationException"
          and "lone surrogate" in b.get("message", ""), str(b))
    body = b'{"stateMachineArn": "' + machine.encode() + b'", "name": "utf8-in", "input": "{\\"s\\": \\"\xc3(\\"}"}'
    st, b = raw(port, body, target="AWSStepFunctions.StartExecution")
    check("input not UTF-8 -> SerializationException", st == 400 and b.get("__type") == "SerializationException"
          and "Invalid UTF-8 middle byte 0x28" in b.get("message", ""), str(b))
    check("text not UTF-8: nothing created", not any(a["name"].startswith("utf8-") for a in sfn.list_activities()["activities"])
          and not any(x["name"] == "utf8-in" for x in sfn.list_executions(stateMachineArn=machine)["executions"]))


def fuzz(port, seconds, machine_arn, execution_arn):
    import botocore.session
    model = botocore.session.get_session().get_service_model("stepfunctions")
    rng = random.Random(1234)
    seeds = [{"stateMachineArn": machine_arn, "name": "x", "input": "{}", "definition": PASS_MACHINE, "roleArn": "arn:aws:iam::1:role/r"},
             {"executionArn": execution_arn, "maxResults": 5, "reverseOrder": True},
             {"taskToken": "AQB" + "y" * 85, "output": "{}", "activityArn": "arn:aws:states:us-east-1:123456789012:activity:a"}]
    values = [None, True, False, 0, -1, 2 ** 63, 1.5, "", "x" * 300, "arn:aws:states:us-east-1:123456789012:stateMachine:a:b:c",
              [], {}, [1, "a"], {"a": {"b": []}}, "\u0000\ud7ff", "{%  %}", "../..", "日本語", 10 ** 400, -(2 ** 64),
              '{"n": 1e999999, "m": 18446744073709551616, "s": "\u00e9"}']
    raw_tokens = [b"\xff", b"\xc3", b"\xe2\x28\xa1", b"\xed\xa0\x80", b"1e999999", b"-1e-400", b"18446744073709551616",
                  b"9" * 1200, b"\\ud800", b"[" * 600]
    hostile = hostile_values()
    ops = model.operation_names
    deadline = time.time() + seconds
    sent = crashes = 0
    while time.time() < deadline:
        op = rng.choice(ops)
        kind = rng.random()
        if kind < 0.15:
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
        else:
            members = list(model.operation_model(op).input_shape.members) if model.operation_model(op).input_shape else []
            obj = dict(rng.choice(seeds))
            for m in members:
                if rng.random() < 0.5:
                    obj[m] = rng.choice(hostile) if rng.random() < 0.15 else rng.choice(values)
            text = json.dumps(obj)
            if kind < 0.35 and text:
                i = rng.randrange(len(text))
                text = text[:i] + rng.choice(['"', "{", "}", ",", "\\", "0", ""]) + text[i + 1:]
            body = text.encode("utf-8", "surrogatepass")
            if kind > 0.85:
                # A huge number in place of a member's value, or bytes that are not UTF-8 in a string.
                if rng.random() < 0.5 and members:
                    m = rng.choice(members)
                    body = body[:-1] + (b", " if len(body) > 2 else b"") + b'"' + m.encode() + b'": ' + rng.choice(RAW_NUMBERS) + b"}"
                else:
                    i = body.find(b'"', rng.randrange(max(1, len(body))))
                    if i >= 0:
                        body = body[:i + 1] + rng.choice(BAD_UTF8) + body[i + 1:]
            elif kind < 0.55:
                i = rng.randrange(len(body) + 1)
                body = body[:i] + rng.choice(raw_tokens) + body[i:]
        st, b = raw(port, body, target="AWSStepFunctions." + op)
        sent += 1
        if st >= 500 or (st != 200 and "__type" not in b):
            crashes += 1
            print(f"fuzz: {op} {body[:120]!r} -> {st} {b}")
    check(f"fuzz: {sent} requests to {len(ops)} actions (deep, wide, long, huge numbers, invalid UTF-8), none answered 5xx or without __type",
          crashes == 0 and sent > 100, f"{crashes} bad answers")


if __name__ == "__main__":
    sys.exit(main())
