#!/usr/bin/env python3
"""Process-level crash test of `stepline serve`.

Starts the daemon, creates an activity and a workflow with Wait states and activity tasks,
starts N executions through the API while workers keep answering, SIGKILLs the daemon several
times at random moments and restarts it each time. Then checks: every execution ended exactly
once (SUCCEEDED), with a valid history (ids 1..n, chained), no lost or duplicated task events,
none left RUNNING. Ends with a graceful SIGTERM (exit 0, promptly) and a restart that finds
everything as it was.

Usage: crash_test.py --binary PATH [--executions N] [--kills K] [--seed S]
Exit 0 on success; prints one line per check.
"""
import argparse, json, os, random, shutil, signal, subprocess, sys, tempfile, threading, time, urllib.request

from botocore.exceptions import ClientError, EndpointConnectionError, ConnectionClosedError, ReadTimeoutError

from stepline_testkit import free_port, sfn_client

TRANSIENT = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectionError, OSError)


class Daemon:
    def __init__(self, binary, data_dir, port, log_path):
        self.binary, self.data_dir, self.port, self.log_path = binary, data_dir, port, log_path
        self.proc = None

    def start(self):
        env = dict(os.environ, STEPLINE_DATA_DIR=self.data_dir, STEPLINE_LISTEN=f"127.0.0.1:{self.port}",
                   STEPLINE_LOG_LEVEL="warning")
        env.pop("STEPLINE_CONFIG", None)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve"], env=env, stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return
            except Exception:
                pass
            time.sleep(0.05)
        raise RuntimeError("daemon not ready in 30 s")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self, timeout):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def client(port, read_timeout=10):
    return sfn_client(port, read_timeout=read_timeout, connect_timeout=1)


def retry(fn, deadline):
    while True:
        try:
            return fn()
        except TRANSIENT:
            pass
        except ClientError as e:
            if e.response["Error"]["Code"] not in ("ServiceUnavailable", "InternalFailure") and \
                    e.response["ResponseMetadata"]["HTTPStatusCode"] < 500:
                raise
        if time.time() > deadline:
            raise TimeoutError("gave up retrying")
        time.sleep(0.1)


def check_history(name, events):
    problems = []
    ids = [e["id"] for e in events]
    if ids != list(range(1, len(events) + 1)):
        problems.append(f"ids not 1..n: {ids[:10]}...")
    for e in events:
        if not (0 <= e["previousEventId"] < e["id"]):
            problems.append(f"event {e['id']} chains to {e['previousEventId']}")
    types = [e["type"] for e in events]
    if types.count("ExecutionStarted") != 1 or types[0] != "ExecutionStarted":
        problems.append("not exactly one ExecutionStarted, first")
    ends = [t for t in types if t in ("ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut")]
    if ends != ["ExecutionSucceeded"] or types[-1] != "ExecutionSucceeded":
        problems.append(f"ends: {ends}")
    # Task events: Scheduled -> [Started] -> Succeeded | TimedOut, never twice for one task.
    state = None
    for t in types:
        if t == "ActivityScheduled":
            if state is not None:
                problems.append("ActivityScheduled while a task is open")
            state = "scheduled"
        elif t == "ActivityStarted":
            if state != "scheduled":
                problems.append(f"ActivityStarted after {state}")
            state = "started"
        elif t in ("ActivitySucceeded", "ActivityTimedOut", "ActivityFailed"):
            if state not in ("scheduled", "started"):
                problems.append(f"{t} with no open task")
            state = None
    if types.count("ActivitySucceeded") != 2:
        problems.append(f"{types.count('ActivitySucceeded')} ActivitySucceeded, expected 2")
    for s in ("WaitStateEntered", "WaitStateExited"):
        if types.count(s) != 2:
            problems.append(f"{types.count(s)} {s}")
    if types.count("TaskStateEntered") != 2 or types.count("TaskStateExited") != 2:
        problems.append("task states not entered/exited exactly twice")
    return [f"{name}: {p}" for p in problems]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--executions", type=int, default=240)
    ap.add_argument("--kills", type=int, default=4)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--budget", type=float, default=100.0, help="seconds")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"seed {args.seed}")
    started_at = time.time()
    deadline = started_at + args.budget
    work = tempfile.mkdtemp(prefix="stepline-crash-")
    port = free_port()
    daemon = Daemon(args.binary, work + "/data", port, work + "/daemon.log")
    ok = False
    stop = threading.Event()
    try:
        daemon.start()
        c = client(port)
        act = retry(lambda: c.create_activity(name="crash-work")["activityArn"], deadline)
        task = {"Type": "Task", "Resource": act, "TimeoutSeconds": 4,
                "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 20, "BackoffRate": 1.0}]}
        definition = {"StartAt": "Wait1", "States": {
            "Wait1": {"Type": "Wait", "Seconds": 1, "Next": "Work1"},
            "Work1": dict(task, Next="Wait2"),
            "Wait2": {"Type": "Wait", "Seconds": 1, "Next": "Work2"},
            "Work2": dict(task, End=True)}}
        sm = retry(lambda: c.create_state_machine(name="crash", definition=json.dumps(definition),
                                                  roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"], deadline)
        names = [f"e-{i:04d}" for i in range(args.executions)]
        answered = {"n": 0, "late": 0}
        lock = threading.Lock()

        def worker(wid):
            wc = client(port, read_timeout=3)
            while not stop.is_set():
                try:
                    t = wc.get_activity_task(activityArn=act, workerName=f"w{wid}")
                except TRANSIENT:
                    time.sleep(0.05)
                    continue
                except ClientError:
                    time.sleep(0.05)
                    continue
                token = t.get("taskToken")
                if not token:
                    continue
                out = json.dumps({"worker": wid, "input": json.loads(t["input"])})
                while not stop.is_set():
                    try:
                        wc.send_task_success(taskToken=token, output=out)
                        with lock:
                            answered["n"] += 1
                        break
                    except ClientError as e:
                        if e.response["Error"]["Code"] in ("TaskTimedOut", "TaskDoesNotExist"):
                            with lock:
                                answered["late"] += 1
                            break
                        time.sleep(0.05)
                    except TRANSIENT:
                        time.sleep(0.05)

        def starter():
            sc = client(port)
            for n in names:
                retry(lambda: sc.start_execution(stateMachineArn=sm, name=n, input=json.dumps({"name": n})), deadline)

        workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(6)]
        for w in workers:
            w.start()
        st = threading.Thread(target=starter, daemon=True)
        st.start()
        for k in range(args.kills):
            time.sleep(rng.uniform(0.8, 3.0))
            daemon.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            daemon.start()
            print(f"kill {k + 1}: SIGKILL at {time.time() - started_at:.1f} s, restarted")
        st.join(timeout=max(1, deadline - time.time()))
        if st.is_alive():
            raise TimeoutError("starting executions did not finish")
        # Wait until nothing runs.
        arns = {n: f"arn:aws:states:us-east-1:123456789012:execution:crash:{n}" for n in names}
        while True:
            running = []
            token = None
            while True:
                kw = {"stateMachineArn": sm, "statusFilter": "RUNNING", "maxResults": 1000}
                if token:
                    kw["nextToken"] = token
                page = retry(lambda: c.list_executions(**kw), deadline)
                running += page["executions"]
                token = page.get("nextToken")
                if not token:
                    break
            if not running:
                break
            if time.time() > deadline:
                raise TimeoutError(f"{len(running)} executions still RUNNING")
            time.sleep(0.5)
        stop.set()
        problems = []
        statuses = {}
        for n, arn in arns.items():
            d = retry(lambda: c.describe_execution(executionArn=arn), deadline)
            statuses[d["status"]] = statuses.get(d["status"], 0) + 1
            if d["status"] != "SUCCEEDED":
                problems.append(f"{n}: {d['status']} {d.get('error')} {d.get('cause')}")
            events, tok = [], None
            while True:
                kw = {"executionArn": arn, "maxResults": 1000}
                if tok:
                    kw["nextToken"] = tok
                h = retry(lambda: c.get_execution_history(**kw), deadline)
                events += h["events"]
                tok = h.get("nextToken")
                if not tok:
                    break
            problems += check_history(n, events)
        print(f"executions: {len(names)}, statuses: {statuses}, answers applied: {answered['n']}, late answers: {answered['late']}")
        listed = retry(lambda: c.list_executions(stateMachineArn=sm, maxResults=1000), deadline)["executions"]
        if len(listed) != len(names):
            problems.append(f"ListExecutions shows {len(listed)} executions, expected {len(names)}")
        # Graceful shutdown: SIGTERM ends the daemon promptly with status 0.
        t0 = time.time()
        code = daemon.terminate(timeout=20)
        print(f"SIGTERM: exit {code} in {time.time() - t0:.2f} s")
        if code != 0:
            problems.append(f"SIGTERM exit status {code}")
        daemon.start()
        after = retry(lambda: c.describe_execution(executionArn=arns[names[-1]]), deadline)["status"]
        if after != "SUCCEEDED":
            problems.append(f"after restart {names[-1]} is {after}")
        daemon.terminate(timeout=20)
        for p in problems[:30]:
            print("FAIL", p)
        ok = not problems
        print(f"crash test: {'ok' if ok else f'{len(problems)} problems'} in {time.time() - started_at:.1f} s")
    finally:
        stop.set()
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work} (daemon.log)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
