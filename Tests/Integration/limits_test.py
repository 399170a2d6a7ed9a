#!/usr/bin/env python3
"""Issue 14's limits, checked on real `stepline serve` processes (each case its own daemon,
with the embedded Kafka broker and a temporary data directory).

Cases:
- slow-clients: half-sent request heads and bodies, silent and idle connections are closed
  after the configured timeouts (a body cut short is answered 408); a client that trickles
  its headers is closed too.
- connection-limit: past api.maxConnections a new connection still gets /healthz (and
  /readyz, which says not ready), any other request 503 ServiceUnavailable; a flood past
  that is closed at once; the API answers again once the connections go.
- heavy-work: /healthz and ListStateMachines answer promptly while two TestState calls
  evaluate a catastrophic regular expression.
- feedback-loop: trigger rules that would feed themselves (dead-letter topic with
  deadLetter, status-topic rules starting their own machine, directly or through another
  rule) are refused by the trigger API with the reason; legitimate ones are accepted.
- task-output: an output over 256 KiB (of UTF-8) is refused by SendTaskSuccess and, the
  same way, by the reply topic (dead-lettered with the ValidationException); the task keeps
  waiting and a good answer then completes it. A Lambda worker's result over 256 KiB fails
  the task with States.DataLimitExceeded, as a Lambda function's does on AWS.
- secrets: at logLevel debug the environment is not logged; a YAML error (at start and on
  reload) does not echo the offending line; the data directory is 0700 and its files 0600
  under umask 022.

Usage: limits_test.py --binary PATH --case NAME [--keep]
Exit 0 when every check passes; one line per check.
"""
import argparse, http.client, json, os, selectors, shutil, signal, socket, subprocess, sys, tempfile, threading, time, uuid

from botocore.exceptions import ClientError
from confluent_kafka import Consumer, Producer, TopicPartition

from stepline_testkit import free_port, sfn_client

ACCOUNT, REGION = "123456789012", "us-east-1"
SM = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
problems = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        problems.append(what)
    return cond


def request(port, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection: (status, headers, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
    finally:
        c.close()


def api(port, action, body, timeout=30):
    status, _, data = request(port, "POST", "/", json.dumps(body).encode(), {
        "X-Amz-Target": f"AWSStepFunctions.{action}", "Content-Type": "application/x-amz-json-1.0"}, timeout=timeout)
    return status, json.loads(data or b"null")


class Daemon:
    def __init__(self, binary, work, config_text, files=None, env=None, umask=None):
        self.binary, self.work = binary, work
        self.config = os.path.join(work, "stepline.yaml")
        self.data = os.path.join(work, "data")
        self.log_path = os.path.join(work, "daemon.log")
        self.port = free_port()
        with open(self.config, "w") as f:
            f.write(config_text)
        for name, text in (files or {}).items():
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        self.env = dict(os.environ, STEPLINE_DATA_DIR=self.data, STEPLINE_LISTEN=f"127.0.0.1:{self.port}", **(env or {}))
        self.env.setdefault("STEPLINE_LOG_LEVEL", "notice")
        self.umask = umask
        self.proc = None

    def start(self, wait=True):
        preexec = (lambda: os.umask(self.umask)) if self.umask is not None else None
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config], env=self.env, preexec_fn=preexec,
                                     stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        if not wait:
            return self
        deadline = time.time() + 40
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.log()[-2000:]}")
            try:
                if request(self.port, "GET", "/readyz", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daemon not ready in 40 s: {self.log()[-2000:]}")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def bootstrap(self):
        with open(os.path.join(self.data, "bootstrap.servers")) as f:
            return f.read().strip()


def serve_once(binary, work, config_text, env=None):
    """`stepline serve` with a configuration that should not start: (exit status, output)."""
    d = Daemon(binary, work, config_text, env=env)
    d.start(wait=False)
    try:
        d.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        d.stop()
    return d.proc.returncode, d.log()


def closed_within(socks, seconds):
    """Waits until every socket is closed by the peer (EOF or reset), at most `seconds`.
    Returns ({socket: seconds until closed}, {socket: bytes received before})."""
    sel = selectors.DefaultSelector()
    start = time.time()
    closed, received = {}, {s: b"" for s in socks}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    while len(closed) < len(socks) and time.time() - start < seconds:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            except BlockingIOError:
                continue
            if data:
                received[s] += data
            else:
                closed[s] = time.time() - start
                sel.unregister(s)
    sel.close()
    return closed, received


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


# --- cases ---------------------------------------------------------------------------------

def slow_clients(binary, work):
    d = Daemon(binary, work, "api:\n  headerTimeoutSeconds: 2\n  bodyTimeoutSeconds: 2\n  idleTimeoutSeconds: 2\n").start()
    try:
        silent = [connect(d.port) for _ in range(20)]
        half_head = [connect(d.port) for _ in range(20)]
        for s in half_head:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n")
        half_body = [connect(d.port) for _ in range(20)]
        for s in half_body:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n"
                      b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 1000\r\n\r\n{\"maxResults\": ")
        idle = []
        for _ in range(5):
            s = connect(d.port)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            first = s.recv(4096)
            check(first.startswith(b"HTTP/1.1 200"), "a keep-alive request is answered")
            idle.append(s)
        # Trickles one header byte every 0.25 s: active all along, but its head never ends.
        trickle = connect(d.port)
        stop = threading.Event()

        def drip():
            for b in b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"y" * 200:
                if stop.is_set():
                    return
                try:
                    trickle.send(bytes([b]))
                except OSError:
                    return
                time.sleep(0.25)

        t = threading.Thread(target=drip, daemon=True)
        t.start()
        # Meanwhile the server answers others.
        status, _, _ = request(d.port, "GET", "/healthz", timeout=2)
        check(status == 200, "/healthz answers while slow clients hold connections")
        everyone = silent + half_head + half_body + idle + [trickle]
        closed, received = closed_within(everyone, 8)
        stop.set()
        def times(group):
            return [closed.get(s) for s in group]
        for name, group in [("silent", silent), ("half-sent head", half_head), ("half-sent body", half_body),
                            ("idle keep-alive", idle), ("trickling head", [trickle])]:
            ts = times(group)
            still = sum(1 for x in ts if x is None)
            worst = max((x for x in ts if x is not None), default=None)
            check(still == 0 and worst <= 5.0,
                  f"{name} connections are closed by the server after the 2 s timeout "
                  f"({len(group) - still}/{len(group)} closed, slowest after {worst and round(worst, 2)} s)")
        check(all(received[s].startswith(b"HTTP/1.1 408") for s in half_body),
              "a body cut short is answered 408 before the connection closes")
        check(all(received[s] == b"" for s in silent + half_head),
              "a connection without a whole head is closed without an answer")
        for s in everyone:
            s.close()
        status, _, _ = request(d.port, "GET", "/healthz")
        check(status == 200, "the server answers after the slow clients are gone")
    finally:
        d.stop()


def connection_limit(binary, work):
    d = Daemon(binary, work, "api:\n  maxConnections: 20\n  headerTimeoutSeconds: 60\n  idleTimeoutSeconds: 60\n").start()
    held = []
    try:
        # Each held connection first gets an answer, so that the server has registered it
        # before the next one comes. Connections are registered on their own event loops, so
        # a later connection can be registered first; if that happened to the probes below,
        # a held one would be the over-limit one (and closed after 2 s) instead of the probe.
        answers = []
        for _ in range(20):
            s = connect(d.port)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: stepline\r\n\r\n")
            answer = b""
            while b"alive" not in answer:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
            held.append(s)
            answers.append(answer)
        check(all(a.startswith(b"HTTP/1.1 200 ") for a in answers), "20 connections are held, each answered once")
        status, _, _ = request(d.port, "GET", "/healthz")
        check(status == 200, "past the limit, /healthz on a new connection answers 200")
        status, _, body = request(d.port, "GET", "/readyz")
        ready = json.loads(body)
        check(status == 503 and "at the limit" in ready["checks"].get("connections", ""),
              f"past the limit, /readyz says not ready because of the connections ({status} {ready})")
        status, headers, body = request(d.port, "POST", "/", b"{}", {
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines", "Content-Type": "application/x-amz-json-1.0"})
        error = json.loads(body or b"null") or {}
        check(status == 503 and error.get("__type") == "ServiceUnavailable" and headers.get("connection") == "close",
              f"past the limit, an API call gets 503 ServiceUnavailable and the connection closes ({status} {error})")
        # A flood: the first few are read for a health check (then closed after 2 s), the
        # rest are closed at once.
        flood = [connect(d.port) for _ in range(300)]
        closed, _ = closed_within(flood, 1.5)
        check(len(closed) >= 300 - 64, f"a flood past the limit is closed at once ({len(closed)}/300 within 1.5 s)")
        # 2 s each, and more under a loaded machine's scheduling (seen once in a suite run).
        closed_later, _ = closed_within([s for s in flood if s not in closed], 10)
        check(len(closed) + len(closed_later) == 300,
              f"the flood's remaining connections are closed after 2 s ({len(closed) + len(closed_later)}/300 within 11.5 s)")
        deadline, status = time.time() + 5, None
        while time.time() < deadline and status != 200:
            try:
                status = request(d.port, "GET", "/healthz", timeout=2)[0]
            except OSError:
                time.sleep(0.2)
        check(status == 200, "after the flood, /healthz answers again while the limit is still reached")
        for s in held + flood:
            s.close()
        held = []
        time.sleep(0.5)
        sfn = sfn_client(d.port)
        check("stateMachines" in sfn.list_state_machines(), "once the connections go, the API answers again")
        status, _, _ = request(d.port, "GET", "/readyz")
        check(status == 200, "and /readyz says ready")
    finally:
        for s in held:
            s.close()
        d.stop()


def heavy_work(binary, work):
    d = Daemon(binary, work, "logLevel: notice\n").start()
    try:
        # Seconds of CPU for one evaluation, within the evaluation's step budget (a regex with
        # catastrophic backtracking now ends at its budget in a fraction of a second).
        definition = json.dumps({"Type": "Pass", "QueryLanguage": "JSONata",
                                 "Output": "{% $sum($map([1..5000000], function($v){$v*$v})) %}", "End": True})
        spans = []

        def heavy():
            start = time.time()
            status, body = api(d.port, "TestState", {"definition": definition, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
                                                      "input": "{}"}, timeout=120)
            spans.append((start, time.time(), status, body))

        threads = [threading.Thread(target=heavy) for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        sfn = sfn_client(d.port, read_timeout=30)
        health, lists = [], []
        probe_start = time.time()
        while time.time() - probe_start < 2.0:
            t0 = time.time()
            status, _, _ = request(d.port, "GET", "/healthz", timeout=30)
            health.append((time.time() - t0, status))
            t0 = time.time()
            sfn.list_state_machines()
            lists.append(time.time() - t0)
            time.sleep(0.1)
        probe_end = time.time()
        for t in threads:
            t.join()
        check(all(s == 200 for _, s in health), "every /healthz answered 200")
        check(all(status == 200 and body.get("status") == "SUCCEEDED" for _, _, status, body in spans),
              f"the two TestState calls succeeded ({[(s, b.get('status')) for _, _, s, b in spans]})")
        overlap = all(end > probe_end for _, end, _, _ in spans)
        check(overlap, f"the two evaluations ran through the whole probing ({[round(e - s, 1) for s, e, _, _ in spans]} s each): "
                       "the measure below is meaningful")
        worst_health = max(x for x, _ in health)
        worst_list = max(lists)
        check(worst_health < 1.0, f"/healthz answered within 1 s while two evaluations ran (slowest {worst_health:.3f} s, "
                                  f"{len(health)} probes)")
        check(worst_list < 1.5, f"ListStateMachines answered within 1.5 s while two evaluations ran (slowest {worst_list:.3f} s)")
        # More at once than the evaluation threads admit (16): the rest are throttled as AWS
        # throttles, and every admitted one completes.
        definition = json.dumps({"Type": "Pass", "QueryLanguage": "JSONata",
                                 "Output": "{% $sum($map([1..300000], function($v){$v*$v})) %}", "End": True})
        answers = []

        def light():
            answers.append(api(d.port, "TestState", {"definition": definition, "roleArn": f"arn:aws:iam::{ACCOUNT}:role/r",
                                                     "input": "{}"}, timeout=120))

        threads = [threading.Thread(target=light) for _ in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        throttled = [b for s, b in answers if s == 400 and b.get("__type") == "ThrottlingException"]
        done = [b for s, b in answers if s == 200 and b.get("status") == "SUCCEEDED"]
        check(len(throttled) >= 1 and len(throttled) + len(done) == 30 and len(done) >= 16,
              f"30 TestState calls at once: {len(done)} evaluated, {len(throttled)} ThrottlingException "
              f"({throttled[:1]}), nothing else")
    finally:
        d.stop()


PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def feedback_loop(binary, work):
    files = {"m.asl.json": PASS, "n.asl.json": PASS}
    machines = "stateMachines:\n  - {name: m, definition: m.asl.json}\n  - {name: n, definition: n.asl.json}\n"
    # Config rules: refused at start, naming the rule and the loop.
    for name, rule in [
        ("dead-letter topic with deadLetter", "{name: dl, topic: stepline.dead-letters, stateMachine: m, deadLetter: true}"),
        ("status topic, own machine", "{name: st, topic: stepline.execution-status, stateMachine: m, pattern: {source: [aws.states]}}"),
    ]:
        sub = os.path.join(work, name.replace(" ", "-").replace(",", ""))
        os.makedirs(sub)
        for f, text in files.items():
            with open(os.path.join(sub, f), "w") as fh:
                fh.write(text)
        status, output = serve_once(binary, sub, machines + "triggers:\n  - " + rule + "\n")
        check(status == 2 and "triggers[0]" in output and "would feed itself" in output,
              f"a config rule on the {name} stops the daemon with the reason (exit {status}: {output.strip()[-300:]})")
    # A legitimate status rule in the file: m's executions start when n's fail.
    d = Daemon(binary, work, machines + "triggers:\n  - {name: n-failed, topic: stepline.execution-status, stateMachine: m, "
                                         f"pattern: {{detail: {{stateMachineArn: ['{SM}n'], status: [FAILED]}}}}}}\n", files).start()
    try:
        def put(name, rule):
            status, _, body = request(d.port, "PUT", f"/triggers/{name}", json.dumps(rule).encode())
            return status, json.loads(body or b"null")
        status, body = put("dl", {"topic": "stepline.dead-letters", "stateMachine": "m", "deadLetter": True})
        check(status == 400 and body["__type"] == "ValidationException" and "would feed itself" in body["message"],
              f"PUT of a rule on the dead-letter topic with deadLetter is refused ({status} {body})")
        status, body = put("self", {"topic": "stepline.execution-status", "stateMachine": "m",
                                    "pattern": {"detail": {"status": ["SUCCEEDED"]}}})
        check(status == 400 and "its own state machine" in body.get("message", ""),
              f"PUT of a status rule whose machine's events match it is refused ({status} {body})")
        status, body = put("back", {"topic": "stepline.execution-status", "stateMachine": "n",
                                    "pattern": {"detail": {"stateMachineArn": [SM + "m"]}}})
        check(status == 400 and "n-failed" in body.get("message", "") and "would feed itself" in body.get("message", ""),
              f"PUT of a status rule closing a loop through another rule is refused, naming both ({status} {body})")
        for name, rule in [
            ("dl-watch", {"topic": "stepline.dead-letters", "stateMachine": "m"}),
            ("others", {"topic": "stepline.execution-status", "stateMachine": "m",
                        "pattern": {"detail": {"stateMachineArn": [{"anything-but": [SM + "m"]}], "status": ["FAILED"]}}}),
            ("events", {"topic": "stepline.events.default", "stateMachine": "m", "deadLetter": True}),
        ]:
            status, body = put(name, rule)
            check(status == 200, f"PUT of a legitimate rule '{name}' is accepted ({status} {body})")
        status, _, body = request(d.port, "GET", "/triggers")
        names = sorted(r["name"] for r in json.loads(body)["triggers"])
        check(names == ["dl-watch", "events", "n-failed", "others"], f"the refused rules were not kept ({names})")
    finally:
        d.stop()
    # The kept rules pass the check again at the next start (and still do).
    d.start()
    d.stop()
    check(d.proc.returncode == 0, "the daemon restarts with the kept rules")


CALLBACK = json.dumps({"StartAt": "T", "States": {"T": {
    "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
    "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/big-work",
                   "MessageBody": {"token.$": "$$.Task.Token"}}, "End": True}}})
LAMBDA = json.dumps({"StartAt": "T", "States": {"T": {
    "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "big", "Payload": {}},
    "End": True}}})


def task_output(binary, work):
    d = Daemon(binary, work, "stateMachines:\n  - {name: cb, definition: cb.asl.json}\n  - {name: lam, definition: lam.asl.json}\n",
               {"cb.asl.json": CALLBACK, "lam.asl.json": LAMBDA}).start()
    try:
        sfn = sfn_client(d.port, read_timeout=30)
        producer = Producer({"bootstrap.servers": d.bootstrap, "log_level": 3, "message.max.bytes": 2_000_000})

        def token_from(topic, timeout=20):
            c = Consumer({"bootstrap.servers": d.bootstrap, "group.id": f"t-{uuid.uuid4()}", "auto.offset.reset": "earliest",
                          "log_level": 3})
            c.subscribe([topic])
            deadline = time.time() + timeout
            try:
                while time.time() < deadline:
                    m = c.poll(0.2)
                    if m is not None and m.error() is None:
                        return dict((k, v.decode()) for k, v in m.headers())["stepline-task-token"]
            finally:
                c.close()
            raise RuntimeError(f"no task record on {topic}")

        def status(arn):
            return sfn.describe_execution(executionArn=arn)["status"]

        def reply(body):
            producer.produce("stepline.task-replies", json.dumps(body).encode(), key=body["taskToken"].encode())
            producer.flush(15)

        def dead_letters():
            c = Consumer({"bootstrap.servers": d.bootstrap, "group.id": f"dl-{uuid.uuid4()}", "auto.offset.reset": "earliest",
                          "log_level": 3})
            meta = c.list_topics("stepline.dead-letters", timeout=10).topics["stepline.dead-letters"]
            c.assign([TopicPartition("stepline.dead-letters", p, 0) for p in meta.partitions])
            out, quiet = [], time.time()
            while time.time() - quiet < 1.0:
                m = c.poll(0.2)
                if m is not None and m.error() is None:
                    out.append(dict((k, v.decode()) for k, v in m.headers()))
                    quiet = time.time()
            c.close()
            return out

        arn = sfn.start_execution(stateMachineArn=SM + "cb", name="cb-1")["executionArn"]
        token = token_from("big-work")
        expected = "Value at 'output' failed to satisfy constraint: Member must have length less than or equal to 262144"
        for what, output in [("300,000 ASCII characters", json.dumps({"x": "a" * 300_000})),
                             ("140,000 two-byte characters (280,000 bytes of UTF-8)",
                              json.dumps({"x": "é" * 140_000}, ensure_ascii=False))]:
            try:
                sfn.send_task_success(taskToken=token, output=output)
                check(False, f"SendTaskSuccess with {what} is refused (it was accepted)")
            except ClientError as e:
                err = e.response["Error"]
                check(err["Code"] == "ValidationException" and expected in err["Message"],
                      f"SendTaskSuccess with {what} is a ValidationException ({err['Code']}: {err['Message'][:160]})")
            check(status(arn) == "RUNNING", f"after that, the execution still waits ({status(arn)})")
        reply({"taskToken": token, "output": {"x": "a" * 300_000}})
        letters = []
        deadline = time.time() + 20
        while time.time() < deadline and not letters:
            letters = [h for h in dead_letters() if h.get("stepline-error") == "ValidationException"]
        check(len(letters) == 1 and expected in letters[0].get("stepline-cause", ""),
              f"the same output on the reply topic is dead-lettered with the same ValidationException ({letters})")
        check(status(arn) == "RUNNING", f"after the refused reply, the execution still waits ({status(arn)})")
        reply({"taskToken": token, "output": {"ok": True}})
        deadline = time.time() + 20
        while time.time() < deadline and status(arn) == "RUNNING":
            time.sleep(0.2)
        check(status(arn) == "SUCCEEDED", f"a good reply then completes the task ({status(arn)})")
        # A Lambda worker plays the function: AWS fails a function's result over the quota.
        arn = sfn.start_execution(stateMachineArn=SM + "lam", name="lam-1")["executionArn"]
        token = token_from("stepline.lambda.big")
        reply({"taskToken": token, "output": {"x": "a" * 300_000}})
        deadline = time.time() + 20
        while time.time() < deadline and status(arn) == "RUNNING":
            time.sleep(0.2)
        e = sfn.describe_execution(executionArn=arn)
        check(e["status"] == "FAILED" and e.get("error") == "States.DataLimitExceeded",
              f"a Lambda result over 256 KiB fails the task with States.DataLimitExceeded ({e['status']} {e.get('error')})")
    finally:
        d.stop()


def secrets(binary, work):
    secret_env = f"env-secret-{uuid.uuid4()}"
    secret_yaml = f"yaml-secret-{uuid.uuid4()}"
    # A broken file at start: the error names the place, not the line.
    broken = f"kafka:\n  properties:\n    sasl.password: {secret_yaml}: oops\n"
    sub = os.path.join(work, "start")
    os.makedirs(sub)
    status, output = serve_once(binary, sub, broken)
    check(status == 2 and "line 3" in output and secret_yaml not in output,
          f"a YAML error at start names the line and does not echo it ({status}: {output.strip()[-300:]})")
    d = Daemon(binary, work, "logLevel: debug\nstateMachines:\n  - {name: m, definition: m.asl.json}\n", {"m.asl.json": PASS},
               env={"AWS_SECRET_ACCESS_KEY": secret_env, "STEPLINE_LOG_LEVEL": "debug"}, umask=0o022).start()
    try:
        status, _, _ = request(d.port, "PUT", "/triggers/t", json.dumps({"topic": "orders", "stateMachine": "m"}).encode())
        check(status == 200, "a trigger is kept (triggers.json)")
        sfn_client(d.port).start_execution(stateMachineArn=SM + "m")
        time.sleep(1.5)  # let the config watcher take its first look
        with open(d.config, "w") as f:
            f.write(broken)
        deadline = time.time() + 10
        while time.time() < deadline and "configuration not reloaded" not in d.log():
            time.sleep(0.2)
        log = d.log()
        check("configuration not reloaded" in log and "line 3" in log, "a YAML error on reload is logged with its line")
        check(secret_yaml not in log, "a YAML error on reload does not echo the offending line")
        check("ConfigWatcher(" in log, "at debug, the services are logged (so the next check means something)")
        check(secret_env not in log, "at debug, the process environment is not logged")
        modes = {}
        for name in ["", "stepline.sqlite", "stepline.sqlite-wal", "stepline.sqlite-shm", "stepline.lock", "bootstrap.servers",
                     "triggers.json"]:
            path = os.path.join(d.data, name)
            modes[name or "data dir"] = oct(os.stat(path).st_mode & 0o777) if os.path.exists(path) else "missing"
        check(modes.pop("data dir") == "0o700", "the data directory is 0700 under umask 022")
        check(all(m == "0o600" for m in modes.values()), f"its files are 0600 under umask 022 ({modes})")
    finally:
        d.stop()


CASES = {"slow-clients": slow_clients, "connection-limit": connection_limit, "heavy-work": heavy_work,
         "feedback-loop": feedback_loop, "task-output": task_output, "secrets": secrets}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--case", required=True, choices=sorted(CASES))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix=f"stepline-limits-{args.case}-")
    try:
        CASES[args.case](os.path.abspath(args.binary), work)
    except Exception as e:
        import traceback
        traceback.print_exc()
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{len(problems)} problem(s)" if problems else "all checks passed")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
