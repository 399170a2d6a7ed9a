#!/usr/bin/env python3
"""End-to-end test of the event-driven daemon, with real processes.

A `stepline broker` (the development Kafka cluster) in its own process, `stepline serve`
pointed at it, producers and workers on confluent-kafka, boto3 against the API. Checks:

- fan-out: one event starts every machine whose rule matches it, and no other;
- a callback workflow (sqs:sendMessage.waitForTaskToken answered by a worker);
- a failure reply caught by Catch; a heartbeat timeout; heartbeats that keep a task alive;
- a duplicate reply: applied once, the second one dead-lettered with the reason;
- lambda:invoke (Lambda's result shape), an activity answered over Kafka, sns:publish and
  events:putEvents records, a nested states:startExecution.sync:2;
- a poison record: dead-lettered with its source while the partition keeps flowing;
- the trigger API (PUT/GET/test/DELETE) and a trigger added by editing the config file;
- execution status events;
- a replayed trigger topic (a new consumer group reads everything again): nothing starts twice;
- a SIGKILL of the daemon in the middle of a load: nothing lost, nothing doubled.

Usage: kafka_e2e_test.py --binary PATH [--load N] [--keep]
Exit 0 when every check passes; one line per check.
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, threading, time, urllib.request, uuid
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError, EndpointConnectionError, ConnectionClosedError, ReadTimeoutError
from confluent_kafka import Consumer, Producer, TopicPartition

from stepline_testkit import free_port, sfn_client

ACCOUNT, REGION = "123456789012", "us-east-1"
SM = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"
TRANSIENT = (EndpointConnectionError, ConnectionClosedError, ReadTimeoutError, ConnectionError, OSError)
problems = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        problems.append(what)
    return cond


def wait_for(fn, timeout, interval=0.1):
    """Polls fn until it returns a truthy value; returns the last value."""
    deadline = time.time() + timeout
    while True:
        try:
            v = fn()
        except TRANSIENT:
            v = None
        if v or time.time() > deadline:
            return v
        time.sleep(interval)


# --- processes -----------------------------------------------------------------------------

class Broker:
    def __init__(self, binary, log):
        self.proc = subprocess.Popen([binary, "broker"], stdout=subprocess.PIPE, stderr=open(log, "ab"), text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        if not self.bootstrap:
            raise RuntimeError("stepline broker printed no address")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)


class Daemon:
    def __init__(self, binary, config, data_dir, port, log_path):
        self.binary, self.config, self.data_dir, self.port, self.log_path = binary, config, data_dir, port, log_path
        self.proc = None

    def start(self):
        env = dict(os.environ, STEPLINE_DATA_DIR=self.data_dir, STEPLINE_LISTEN=f"127.0.0.1:{self.port}",
                   STEPLINE_LOG_LEVEL="notice")
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config], env=env,
                                     stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT)
        ok = wait_for(lambda: self.proc.poll() is not None or http(self.port, "GET", "/readyz")[0] == 200, 40)
        if self.proc.poll() is not None:
            raise RuntimeError(f"daemon exited with {self.proc.returncode}; see {self.log_path}")
        if not ok:
            raise RuntimeError(f"daemon not ready in 40 s; see {self.log_path}")

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def terminate(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def http(port, method, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def sfn(port):
    return sfn_client(port, read_timeout=10, connect_timeout=1)


# --- Kafka helpers -------------------------------------------------------------------------

class Topics:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self._producer = None

    @property
    def producer(self):
        if self._producer is None:
            self._producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 1, "enable.idempotence": True,
                                       "log_level": 3})
        return self._producer

    def produce(self, topic, value, key=None, headers=None):
        """Produces one record and waits for its delivery; returns (partition, offset)."""
        out = {}

        def done(err, msg):
            out["err"], out["msg"] = err, msg

        v = value if isinstance(value, bytes) else json.dumps(value).encode()
        self.producer.produce(topic, v, key=key, headers=headers, on_delivery=done)
        self.producer.flush(15)
        if out.get("err") is not None:
            raise RuntimeError(f"produce to {topic}: {out['err']}")
        return out["msg"].partition(), out["msg"].offset()

    def read_all(self, topic, settle=1.0, timeout=15):
        """Every record of a topic (from the beginning, all partitions) until quiet."""
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"reader-{uuid.uuid4()}",
                      "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.wait.max.ms": 5, "log_level": 3})
        meta = c.list_topics(topic, timeout=10).topics[topic]
        c.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
        records, last, start = [], time.time(), time.time()
        while time.time() - last < settle and time.time() - start < timeout:
            m = c.poll(0.2)
            if m is None or m.error():
                continue
            records.append(m)
            last = time.time()
        c.close()
        return records


def headers_of(msg):
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (msg.headers() or [])}


class Worker:
    """Answers task records by the `mode` in their input: ok, fail, silent, beat, dup."""

    def __init__(self, bootstrap, topics):
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "e2e-worker", "auto.offset.reset": "earliest",
                                  "fetch.wait.max.ms": 5, "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000,
                                  "log_level": 3})
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True, "log_level": 3})
        self.consumer.subscribe(topics)
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(16)
        self.seen = {}  # token -> times received
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def reply(self, body):
        # Keyed by token: a task's heartbeats and its answer stay in order on one partition
        # (unkeyed, the last heartbeat could land on another partition and be applied after
        # the answer, then dead-lettered as a reply to a finished task).
        self.producer.produce("stepline.task-replies", json.dumps(body).encode(), key=body["taskToken"].encode())
        self.producer.flush(10)

    def handle(self, msg):
        h = headers_of(msg)
        token = h.get("stepline-task-token")
        if not token:
            return
        with self.lock:
            self.seen[token] = self.seen.get(token, 0) + 1
        body = json.loads(msg.value())
        # sqs:sendMessage carries the MessageBody; lambda and activities the parameters.
        data = body.get("input", body) if isinstance(body, dict) else {}
        data = data.get("Payload", data) if isinstance(data, dict) else {}
        mode = data.get("mode", "ok") if isinstance(data, dict) else "ok"
        if mode == "silent":
            return
        if mode == "beat":
            for _ in range(8):
                time.sleep(1)
                self.reply({"taskToken": token, "heartbeat": True})
        if mode == "fail":
            self.reply({"taskToken": token, "error": "Work.Failed", "cause": "the worker could not do it"})
            return
        if mode == "numbers":  # numbers Python's json would not write as they are
            self.producer.produce("stepline.task-replies", b'{"taskToken":"' + token.encode()
                                  + b'","output":{"n":18446744073709551617,"x":1e309,"y":-1e-400}}', key=token.encode())
            self.producer.flush(10)
            return
        out = {"done": True, "by": "e2e-worker", "id": data.get("id") if isinstance(data, dict) else None}
        self.reply({"taskToken": token, "output": out})
        if mode == "dup":
            self.reply({"taskToken": token, "output": {"done": "again"}})

    def run(self):
        while not self.stop.is_set():
            for m in self.consumer.consume(64, timeout=0.1):
                if m.error() is None:
                    self.pool.submit(self.handle, m)
        self.consumer.close()

    def close(self):
        self.stop.set()
        self.thread.join(10)
        self.pool.shutdown(wait=False)


# --- the workflows -------------------------------------------------------------------------

def machines(activity_arn):
    work = lambda queue, heartbeat=None: dict(
        {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
         "Parameters": {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue}",
                        "MessageBody": {"input.$": "$", "token.$": "$$.Task.Token"}}},
        **({"HeartbeatSeconds": heartbeat} if heartbeat else {}))
    return {
        "fan-a": {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "ResultPath": "$.machine", "End": True}}},
        "fan-b": {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "b", "ResultPath": "$.machine", "End": True}}},
        "callback": {"StartAt": "Work", "States": {
            # HeartbeatSeconds 5: long enough for a worker on a loaded 2-core machine to
            # answer, short enough for the silent case to time out within the wait.
            "Work": dict(work("e2e-work", 5), ResultPath="$.result", Next="Done",
                         Catch=[{"ErrorEquals": ["Work.Failed"], "ResultPath": "$.error", "Next": "Caught"}]),
            "Caught": {"Type": "Pass", "Result": "caught", "ResultPath": "$.outcome", "End": True},
            "Done": {"Type": "Succeed"}}},
        # The SIGKILL phase's machine: no heartbeat timeout, which a daemon down for longer
        # than it would rightly fire.
        "loadwork": {"StartAt": "Work", "States": {"Work": dict(work("e2e-work"), ResultPath="$.result", End=True)}},
        "integrations": {"StartAt": "Lambda", "States": {
            "Lambda": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                       "Parameters": {"FunctionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:e2e-fn", "Payload.$": "$"},
                       "ResultSelector": {"payload.$": "$.Payload", "status.$": "$.StatusCode"}, "ResultPath": "$.lambda",
                       "Next": "Activity"},
            "Activity": {"Type": "Task", "Resource": activity_arn, "ResultPath": "$.activity", "TimeoutSeconds": 30,
                         "Next": "Notify"},
            "Notify": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish",
                       "Parameters": {"TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:e2e-notes", "Message.$": "$.id",
                                      "Subject": "e2e"},
                       "ResultPath": "$.sns", "Next": "Event"},
            "Event": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                      "Parameters": {"Entries": [{"Source": "e2e", "DetailType": "Noted", "Detail": {"id.$": "$.id"}}]},
                      "ResultPath": "$.events", "Next": "Child"},
            "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
                      "Parameters": {"StateMachineArn": SM + "fan-a", "Input": {"from": "parent"}},
                      "ResultSelector": {"status.$": "$.Status", "output.$": "$.Output"}, "ResultPath": "$.child",
                      "End": True}}},
    }


def config_text(bootstrap, group, extra_triggers=""):
    return f"""
kafka:
  brokers: "{bootstrap}"
  developmentBroker: true
  groupId: {group}
stateMachines:
  - {{name: fan-a, definition: fan-a.asl.json}}
  - {{name: fan-b, definition: fan-b.asl.json}}
  - {{name: callback, definition: callback.asl.json}}
  - {{name: integrations, definition: integrations.asl.json}}
  - {{name: loadwork, definition: loadwork.asl.json}}
triggers:
  - name: fan-a
    topic: e2e.fanout
    pattern: {{"detail-type": ["Fan"], "detail": {{"n": [{{"numeric": [">=", 1.5]}}]}}}}
    stateMachine: fan-a
  - name: fan-b
    topic: e2e.fanout
    pattern: {{"detail-type": ["Fan"]}}
    stateMachine: fan-b
  - name: fan-none
    topic: e2e.fanout
    pattern: {{"detail-type": ["Other"]}}
    stateMachine: fan-a
  - name: work
    topic: e2e.work-in
    stateMachine: callback
    executionName: $.id
    deadLetter: true
  - name: integrations
    topic: e2e.integrations-in
    stateMachine: integrations
    executionName: $.id
  - name: mapped
    topic: e2e.mapped
    stateMachine: fan-a
    executionName: $$.headers.request-id
    input:
      pathsMap: {{order: "$.detail.order", key: "$$.key", topic: "$$.topic", offset: "$$.offset", trace: "$$.headers.trace"}}
      template: '{{"order": <order>, "key": <key>, "topic": <topic>, "offset": <offset>, "trace": <trace>}}'
  - name: load
    topic: e2e.load
    stateMachine: loadwork
{extra_triggers}"""


def executions(c, machine):
    out, kw = [], {}
    while True:
        r = c.list_executions(stateMachineArn=SM + machine, maxResults=1000, **kw)
        out += r["executions"]
        if not r.get("nextToken"):
            return out
        kw = {"nextToken": r["nextToken"]}


def history(c, arn):
    events, kw = [], {}
    while True:
        r = c.get_execution_history(executionArn=arn, maxResults=1000, **kw)
        events += r["events"]
        if not r.get("nextToken"):
            return events
        kw = {"nextToken": r["nextToken"]}


def finished(c, arn):
    try:
        d = c.describe_execution(executionArn=arn)
    except ClientError as e:
        if e.response["Error"]["Code"] == "ExecutionDoesNotExist":
            return None
        raise
    return d if d["status"] != "RUNNING" else None


def exec_arn(machine, name):
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}:{name}"


def history_problems(name, events):
    out = []
    if [e["id"] for e in events] != list(range(1, len(events) + 1)):
        out.append(f"{name}: ids are not 1..n")
    types = [e["type"] for e in events]
    for t in ("TaskScheduled", "TaskSubmitted", "TaskSucceeded", "ExecutionStarted", "ExecutionSucceeded"):
        if types.count(t) > 1:
            out.append(f"{name}: {types.count(t)} {t}")
    return out


def throttle(binary, bootstrap, work, c):
    """A daemon limited to 10 running executions, 25 trigger records, no worker at first:
    10 start and the rest wait in Kafka; once a worker answers, every record starts once."""
    with open(f"{work}/throttled.asl.json", "w") as f:
        json.dump({"StartAt": "Work", "States": {"Work": {
            "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/e2e-throttle-work",
                           "MessageBody": {"input.$": "$"}}, "End": True}}}, f)
    cfg = work + "/throttle.yaml"
    with open(cfg, "w") as f:
        f.write(f"""
kafka: {{brokers: "{bootstrap}", developmentBroker: true, groupId: e2e-throttle}}
runtime: {{maxRunningExecutions: 10}}
stateMachines: [{{name: throttled, definition: throttled.asl.json}}]
triggers: [{{name: throttled, topic: e2e.throttle, stateMachine: throttled, executionName: $.id}}]
""")
    port = free_port()
    daemon = Daemon(binary, cfg, work + "/throttle-data", port, work + "/throttle.log")
    daemon.start()
    worker = None
    try:
        tc = sfn(port)
        topics = Topics(bootstrap)
        for i in range(25):
            topics.produce("e2e.throttle", {"id": f"t-{i}"}, key=str(i).encode())
        wait_for(lambda: len(executions(tc, "throttled")) >= 10, 15)
        time.sleep(2)  # time enough for more to start, were the limit not kept
        started = executions(tc, "throttled")
        check(len(started) == 10, f"back-pressure: 10 executions running at the limit, the others wait ({len(started)} started)")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            metrics = r.read().decode()
        check("stepline_trigger_pauses_total" in metrics, "back-pressure: the pause is counted in /metrics")
        worker = Worker(bootstrap, ["e2e-throttle-work"])
        done = wait_for(lambda: (lambda ex: ex if len(ex) == 25 and all(e["status"] == "SUCCEEDED" for e in ex) else None)(
            executions(tc, "throttled")), 60)
        names = sorted(e["name"] for e in executions(tc, "throttled"))
        check(done is not None and names == sorted(f"t-{i}" for i in range(25)),
              f"back-pressure: every record started once and finished once a worker answered ({len(names)} executions)")
        check(daemon.terminate() == 0, "back-pressure: SIGTERM, exit 0")
    finally:
        if worker:
            worker.close()
        if daemon.proc and daemon.proc.poll() is None:
            daemon.kill()


# --- the test ------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--load", type=int, default=300, help="records in the SIGKILL phase")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stepline-e2e-")
    broker = Broker(args.binary, work + "/broker.log")
    print(f"broker {broker.bootstrap}; logs in {work}", flush=True)
    port = free_port()
    cfg = work + "/stepline.yaml"
    worker = daemon = None
    try:
        c = sfn(port)
        act_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:activity:e2e-act"
        for name, d in machines(act_arn).items():
            with open(f"{work}/{name}.asl.json", "w") as f:
                json.dump(d, f)
        with open(cfg, "w") as f:
            f.write(config_text(broker.bootstrap, "e2e"))
        daemon = Daemon(args.binary, cfg, work + "/data", port, work + "/daemon.log")
        daemon.start()
        c.create_activity(name="e2e-act")
        topics = Topics(broker.bootstrap)
        worker = Worker(broker.bootstrap, ["e2e-work", "stepline.lambda.e2e-fn", "stepline.activity.e2e-act"])

        # Fan-out: n=2 matches fan-a and fan-b; n=1 matches fan-b only; "Other" matches fan-none.
        p2, o2 = topics.produce("e2e.fanout", {"detail-type": "Fan", "detail": {"n": 2}}, key=b"f")
        p1, o1 = topics.produce("e2e.fanout", {"detail-type": "Fan", "detail": {"n": 1}}, key=b"f")
        pO, oO = topics.produce("e2e.fanout", {"detail-type": "Other", "detail": {}}, key=b"f")
        expect_a = {f"fan-a-e2e.fanout-{p2}-{o2}", f"fan-none-e2e.fanout-{pO}-{oO}"}
        expect_b = {f"fan-b-e2e.fanout-{p2}-{o2}", f"fan-b-e2e.fanout-{p1}-{o1}"}
        got = wait_for(lambda: (lambda a, b: (a, b) if a == expect_a and b == expect_b else None)(
            {e["name"] for e in executions(c, "fan-a")}, {e["name"] for e in executions(c, "fan-b")}), 20)
        check(got is not None, f"fan-out: one event started fan-a and fan-b; the others only their machines "
                               f"(fan-a {sorted(e['name'] for e in executions(c, 'fan-a'))}, "
                               f"fan-b {sorted(e['name'] for e in executions(c, 'fan-b'))})")
        out = json.loads(wait_for(lambda: finished(c, exec_arn("fan-b", f"fan-b-e2e.fanout-{p2}-{o2}")), 10)["output"])
        check(out == {"detail-type": "Fan", "detail": {"n": 2}, "machine": "b"}, f"fan-out: the record value is the input ({out})")

        # Input transformer with the record's key, topic, offset and headers.
        pm, om = topics.produce("e2e.mapped", {"detail": {"order": {"id": 7}}}, key=b"k-7",
                                headers=[("request-id", "req-7"), ("trace", "t-1")])
        d = wait_for(lambda: finished(c, exec_arn("fan-a", "req-7")), 20)
        out = json.loads(d["output"]) if d else None
        check(out == {"order": {"id": 7}, "key": "k-7", "topic": "e2e.mapped", "offset": om, "trace": "t-1", "machine": "a"},
              f"input transformer: record fields and headers mapped into the input; name from a header ({out})")

        # Callback workflows: ok, fail (caught), silent (heartbeat timeout), beat (kept alive), dup.
        for mode in ("ok", "fail", "silent", "beat", "dup"):
            topics.produce("e2e.work-in", {"id": f"cb-{mode}", "mode": mode}, key=mode.encode())
        done = {m: wait_for(lambda m=m: finished(c, exec_arn("callback", f"cb-{m}")), 25) for m in ("ok", "fail", "silent", "beat", "dup")}
        d = done["ok"]
        check(d is not None and d["status"] == "SUCCEEDED" and json.loads(d["output"])["result"]["done"] is True,
              f"callback: the worker's output is the task's result ({d and d.get('output')})")
        if d:
            types = [e["type"] for e in history(c, d["executionArn"])]
            check(types == ["ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted",
                            "TaskSucceeded", "TaskStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"],
                  f"callback: the history is AWS's for a callback task ({types})")
        d = done["fail"]
        check(d is not None and d["status"] == "SUCCEEDED" and json.loads(d["output"]).get("outcome") == "caught"
              and json.loads(d["output"])["error"] == {"Error": "Work.Failed", "Cause": "the worker could not do it"},
              f"failure reply caught by Catch ({d and d.get('output')})")
        d = done["silent"]
        check(d is not None and d["status"] == "FAILED" and d.get("error") == "States.HeartbeatTimeout",
              f"heartbeat timeout: a silent worker fails the task with States.HeartbeatTimeout ({d and d.get('error')})")
        d = done["beat"]
        check(d is not None and d["status"] == "SUCCEEDED",
              f"heartbeats every 1 s keep a task with HeartbeatSeconds 5 alive for 8 s ({d and d['status']})")
        d = done["dup"]
        if check(d is not None and d["status"] == "SUCCEEDED" and json.loads(d["output"])["result"]["done"] is True,
                 "duplicate reply: the first reply is the result"):
            types = [e["type"] for e in history(c, d["executionArn"])]
            check(types.count("TaskSucceeded") == 1, "duplicate reply: one TaskSucceeded")

        # Lambda, activity over Kafka, SNS, EventBridge, nested execution.
        topics.produce("e2e.integrations-in", {"id": "int-1", "mode": "ok"})
        d = wait_for(lambda: finished(c, exec_arn("integrations", "int-1")), 25)
        out = json.loads(d["output"]) if d and d["status"] == "SUCCEEDED" else {}
        check(d is not None and d["status"] == "SUCCEEDED", f"integrations workflow succeeded ({d and d['status']}, {d and d.get('error')}, {d and d.get('cause')})")
        check(out.get("lambda") == {"payload": {"done": True, "by": "e2e-worker", "id": "int-1"}, "status": 200},
              f"lambda:invoke: Lambda's result shape, Payload from the worker ({out.get('lambda')})")
        check(out.get("activity", {}).get("done") is True, f"activity answered by a Kafka worker ({out.get('activity')})")
        check(isinstance(out.get("sns", {}).get("MessageId"), str), f"sns:publish result has a MessageId ({out.get('sns')})")
        check(out.get("events", {}).get("FailedEntryCount") == 0 and len(out.get("events", {}).get("Entries", [])) == 1,
              f"events:putEvents result ({out.get('events')})")
        check(out.get("child") == {"status": "SUCCEEDED", "output": {"from": "parent", "machine": "a"}},
              f"states:startExecution.sync:2: the child's status and output ({out.get('child')})")
        notes = topics.read_all("e2e-notes")
        check(len(notes) == 1 and notes[0].value() == b"int-1" and headers_of(notes[0]).get("Subject") == "e2e",
              f"sns:publish: one record on the topic, Message as value, Subject header ({[n.value() for n in notes]})")
        evs = topics.read_all("stepline.events.default")
        ev = json.loads(evs[0].value()) if len(evs) == 1 else {}
        check(ev.get("detail-type") == "Noted" and ev.get("source") == "e2e" and ev.get("detail") == {"id": "int-1"},
              f"events:putEvents: an EventBridge-shaped event on stepline.events.default ({ev})")

        # Poison record between two good ones on one partition.
        topics.produce("e2e.work-in", {"id": "poison-before", "mode": "ok"}, key=b"p")
        pp, op = topics.produce("e2e.work-in", b"\xff\xfe not json {", key=b"p")
        topics.produce("e2e.work-in", {"id": "poison-after", "mode": "ok"}, key=b"p")
        after = wait_for(lambda: finished(c, exec_arn("callback", "poison-after")), 20)
        check(after is not None and after["status"] == "SUCCEEDED" and finished(c, exec_arn("callback", "poison-before")),
              "poison record: the records around it started their executions")

        def letters():
            return [m for m in topics.read_all("stepline.dead-letters")]
        dl = wait_for(lambda: [m for m in letters() if headers_of(m).get("stepline-source") == f"e2e.work-in/{pp}/{op}"], 10)
        check(bool(dl) and headers_of(dl[0]).get("stepline-error") == "Stepline.NotJSON" and dl[0].value() == b"\xff\xfe not json {"
              and dl[0].key() == b"p", f"poison record: dead-lettered with its key, value, error and source ({dl and headers_of(dl[0])})")
        dup = [m for m in letters() if headers_of(m).get("stepline-source", "").startswith("stepline.task-replies/")]
        check(len(dup) >= 1 and all(json.loads(m.value()).get("output") == {"done": "again"} for m in dup)
              and headers_of(dup[0]).get("stepline-error") in ("TaskTimedOut", "TaskDoesNotExist"),
              f"duplicate reply: dead-lettered as a reply to a finished task "
              f"({[(headers_of(m).get('stepline-error'), m.value()[:60]) for m in dup]})")

        # Numbers as written through a trigger, a task and a reply; text that is not UTF-8
        # dead-lettered with the reason (issue 14, item 7).
        text = b'{"id":"num-1","mode":"numbers","big":18446744073709551616,"huge":1e309,"tiny":-1e-400,"long":0.1000000000000000000001}'
        topics.produce("e2e.work-in", text, key=b"n")
        pu, ou = topics.produce("e2e.work-in", b'{"id":"utf8-bad","mode":"ok","s":"a\xffb"}', key=b"n")
        pr, orr = topics.produce("stepline.task-replies", b'{"taskToken":"nope","output":"\xc3("}')
        d = wait_for(lambda: finished(c, exec_arn("callback", "num-1")), 25)
        check(d is not None and d["status"] == "SUCCEEDED" and d["input"] == text.decode()
              and d["output"] == text.decode()[:-1] + ',"result":{"n":18446744073709551617,"x":1e309,"y":-1e-400}}',
              f"numbers: record value and reply output kept as written ({d and d.get('input')}, {d and d.get('output')})")
        dl = wait_for(lambda: [m for m in letters() if headers_of(m).get("stepline-source") == f"e2e.work-in/{pu}/{ou}"], 10)
        check(bool(dl) and headers_of(dl[0]).get("stepline-error") == "Stepline.NotJSON"
              and "Invalid UTF-8 start byte 0xff" in headers_of(dl[0]).get("stepline-cause", "")
              and not any(e["name"] == "utf8-bad" for e in executions(c, "callback")),
              f"trigger record not UTF-8: dead-lettered with the byte, nothing started ({dl and headers_of(dl[0])})")
        dl = wait_for(lambda: [m for m in letters() if headers_of(m).get("stepline-source") == f"stepline.task-replies/{pr}/{orr}"], 10)
        check(bool(dl) and headers_of(dl[0]).get("stepline-error") == "Stepline.MalformedReply"
              and "Invalid UTF-8 middle byte 0x28" in headers_of(dl[0]).get("stepline-cause", ""),
              f"reply not UTF-8: dead-lettered with the byte ({dl and headers_of(dl[0])})")

        # Status events.
        st = [json.loads(m.value()) for m in topics.read_all("stepline.execution-status")]
        mine = [e for e in st if e["detail"]["executionArn"] == exec_arn("callback", "cb-ok")]
        check([e["detail"]["status"] for e in mine] == ["RUNNING", "SUCCEEDED"]
              and all(e["source"] == "aws.states" and e["detail-type"] == "Step Functions Execution Status Change" for e in mine),
              f"status events: RUNNING then SUCCEEDED, EventBridge's shape ({[e['detail']['status'] for e in mine]})")
        d = finished(c, exec_arn("callback", "cb-ok"))
        check(d is not None and len(mine) == 2 and all(json.loads(e["detail"]["input"]) == json.loads(d["input"]) for e in mine)
              and mine[0]["detail"]["output"] is None and json.loads(mine[1]["detail"]["output"]) == json.loads(d["output"]),
              f"status events: the execution's input in both, its output in SUCCEEDED ({[e['detail'].get('output') for e in mine]})")

        # Trigger API.
        rule = {"topic": "e2e.api", "pattern": {"n": [{"numeric": [">", 10]}]}, "stateMachine": "fan-b",
                "executionName": "$.id"}
        s, body = http(port, "PUT", "/triggers/api-rule", rule)
        check(s == 200 and body["name"] == "api-rule" and body["source"] == "api", f"trigger API: PUT creates a rule ({s} {body})")
        s, body = http(port, "PUT", "/triggers/bad-rule", {"topic": "e2e.api", "pattern": {"n": [{"numeric": [">"]}]}, "stateMachine": "fan-b"})
        check(s == 400 and body["__type"] == "ValidationException", f"trigger API: an invalid pattern is refused with the reason ({body})")
        s, body = http(port, "POST", "/triggers/api-rule/test", {"id": "t", "n": 11})
        check(s == 200 and body["matches"] is True and body["executionName"] == "t", f"trigger API: test ({body})")
        s, body = http(port, "GET", "/triggers")
        names = {r["name"]: r["source"] for r in body["triggers"]}
        check(names.get("api-rule") == "api" and names.get("fan-a") == "config", f"trigger API: GET lists config and API rules")
        time.sleep(1.5)  # the trigger consumer resubscribes
        topics.produce("e2e.api", {"id": "api-small", "n": 5})
        topics.produce("e2e.api", {"id": "api-big", "n": 11})
        d = wait_for(lambda: finished(c, exec_arn("fan-b", "api-big")), 20)
        check(d is not None and d["status"] == "SUCCEEDED", "trigger API: a record matching the new rule started its execution")
        check(not any(e["name"] == "api-small" for e in executions(c, "fan-b")), "trigger API: the record that does not match started nothing")
        s, _ = http(port, "DELETE", "/triggers/api-rule")
        check(s == 200 and http(port, "GET", "/triggers/api-rule")[0] == 404, "trigger API: DELETE removes the rule")
        s, body = http(port, "DELETE", "/triggers/fan-a")
        check(s == 400, f"trigger API: a rule of the config file cannot be deleted through the API ({body})")

        # A trigger added by editing the config file, without a restart.
        with open(cfg, "w") as f:
            f.write(config_text(broker.bootstrap, "e2e", "  - {name: late, topic: e2e.late, stateMachine: fan-a, executionName: $.id}\n"))
        ok = wait_for(lambda: any(r["name"] == "late" for r in http(port, "GET", "/triggers")[1]["triggers"]), 10)
        check(bool(ok), "config reload: the new trigger is in force")
        time.sleep(1.5)
        topics.produce("e2e.late", {"id": "late-1"})
        d = wait_for(lambda: finished(c, exec_arn("fan-a", "late-1")), 20)
        check(d is not None and d["status"] == "SUCCEEDED", "config reload: the new trigger started its execution")

        # SIGKILL in the middle of a load: `load` names executions by topic/partition/offset,
        # so a record started twice would show as two executions with the same id.
        n = args.load
        stop_producing = threading.Event()

        def producer():
            p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 2, "enable.idempotence": True, "log_level": 3})
            for i in range(n):
                p.produce("e2e.load", json.dumps({"id": f"load-{i:04d}", "mode": "ok"}).encode(), key=str(i % 7).encode())
                p.poll(0)
                time.sleep(0.01)
            p.flush(30)
        pt = threading.Thread(target=producer, daemon=True)
        pt.start()
        for _ in range(2):
            time.sleep(1.2)
            daemon.kill()
            time.sleep(0.3)
            daemon.start()
        pt.join(60)
        deadline = time.time() + 90
        while time.time() < deadline:
            load = executions(c, "loadwork")
            if len(load) >= n and all(e["status"] != "RUNNING" for e in load):
                break
            time.sleep(0.5)
        ex = executions(c, "loadwork")
        ids = {}
        bad = []
        for e in ex:
            arn = e["executionArn"]
            inp = json.loads(c.describe_execution(executionArn=arn)["input"])
            ids.setdefault(inp["id"], []).append(e)
            if e["status"] != "SUCCEEDED":
                bad.append((e["name"], e["status"]))
        check(len(ids) == n, f"SIGKILL under load: every record started an execution ({len(ids)}/{n})")
        doubled = {k: len(v) for k, v in ids.items() if len(v) > 1}
        check(not doubled, f"SIGKILL under load: no record started twice ({doubled})")
        check(not bad, f"SIGKILL under load: every execution succeeded ({bad[:5]})")
        hp = []
        for e in ex[:: max(1, len(ex) // 60)]:
            hp += history_problems(e["name"], history(c, e["executionArn"]))
        check(not hp, f"SIGKILL under load: sampled histories have no duplicated events ({hp[:5]})")

        # Replayed trigger topics: a new consumer group reads every topic from the start.
        before = {m: {e["name"]: e["status"] for e in executions(c, m)} for m in ("fan-a", "fan-b", "callback", "integrations", "loadwork")}
        lengths = {e["executionArn"]: len(history(c, e["executionArn"])) for e in executions(c, "callback")[:40]}
        check(daemon.terminate() == 0, "SIGTERM: the daemon exits 0")
        with open(cfg, "w") as f:
            f.write(config_text(broker.bootstrap, "e2e-replay"))
        daemon.start()
        time.sleep(6)  # join, read everything again (and every reply again)
        after = {m: {e["name"]: e["status"] for e in executions(c, m)} for m in ("fan-a", "fan-b", "callback", "integrations", "loadwork")}
        check(after == before, "replayed trigger topics: nothing started twice, nothing changed "
                               f"({ {m: len(after[m]) - len(before[m]) for m in after} })")
        again = wait_for(lambda: len([m for m in letters() if headers_of(m).get("stepline-source") == f"e2e.work-in/{pp}/{op}"]) >= 2, 10)
        check(bool(again), "replayed trigger topics: they were read again (the poison record is dead-lettered a second time)")
        changed = [a for a, l in lengths.items() if len(history(c, a)) != l]
        check(not changed, f"replayed reply topic: no history changed ({changed[:3]})")
        check(daemon.terminate() == 0, "SIGTERM after the replay: exit 0")
        daemon = None

        # Back-pressure: at maxRunningExecutions, triggers wait in Kafka; nothing is lost.
        throttle(args.binary, broker.bootstrap, work, c)

        # The embedded broker loses its records at a restart: open tasks are sent again.
        emb_cfg = work + "/embedded.yaml"
        with open(emb_cfg, "w") as f:
            f.write("stateMachines:\n  - {name: loadwork, definition: loadwork.asl.json}\n")
        eport = free_port()
        daemon = Daemon(args.binary, emb_cfg, work + "/embedded-data", eport, work + "/embedded.log")
        daemon.start()
        ec = sfn(eport)
        ec.start_execution(stateMachineArn=SM + "loadwork", name="across-restart", input=json.dumps({"id": "x", "mode": "ok"}))
        boot1 = open(work + "/embedded-data/bootstrap.servers").read().strip()
        seen = wait_for(lambda: Topics(boot1).read_all("e2e-work", settle=0.5), 10)
        check(bool(seen), "embedded broker: the task request was published")
        check(daemon.terminate() == 0, "embedded broker: SIGTERM with a task open")
        daemon.start()
        boot2 = open(work + "/embedded-data/bootstrap.servers").read().strip()
        w2 = Worker(boot2, ["e2e-work"])
        try:
            d = wait_for(lambda: finished(ec, exec_arn("loadwork", "across-restart")), 30)
            check(d is not None and d["status"] == "SUCCEEDED",
                  f"embedded broker: the open task was sent again after the restart and answered ({d and d['status']})")
        finally:
            w2.close()
        check(daemon.terminate() == 0, "embedded broker: SIGTERM, exit 0")
        daemon = None
    finally:
        if worker:
            worker.close()
        if daemon and daemon.proc and daemon.proc.poll() is None:
            daemon.kill()
        broker.stop()
        if not problems and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"kafka e2e: {len(problems)} problems" + (f" (logs in {work})" if problems else ""), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
