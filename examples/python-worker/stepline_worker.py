#!/usr/bin/env python3
"""A Stepline task worker in Python (confluent-kafka).

It consumes a task topic (``stepline.lambda.<function>``, ``stepline.activity.<name>``, an
SQS queue's topic...), runs a handler for each task, and answers on ``stepline.task-replies``
with the output, or with the error when the handler raises; it sends heartbeats while the
handler runs. The task token is in the record header ``stepline-task-token``.

    python3 examples/python-worker/stepline_worker.py --topic stepline.lambda.greet
    python3 examples/python-worker/stepline_worker.py --topic orders-work --handler mymodule:handle

Without --bootstrap it reads the embedded broker's address from .stepline/bootstrap.servers.
Delivery is at least once: a task handed over twice (after a worker crash) is answered twice,
and Stepline ignores the second answer.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from confluent_kafka import Consumer, Producer


class TaskFailure(Exception):
    """Raise to fail the task with this Error and Cause."""

    def __init__(self, error: str, cause: str = ""):
        super().__init__(cause)
        self.error = error
        self.cause = cause


class Task:
    def __init__(self, token: str, input: Any, headers: dict[str, str], worker: "Worker"):
        self.token = token
        self.input = input
        self.headers = headers
        self.execution_arn = headers.get("stepline-execution-arn")
        self.state_name = headers.get("stepline-state-name")
        self._worker = worker

    def heartbeat(self) -> None:
        self._worker.reply({"taskToken": self.token, "heartbeat": True})


class Worker:
    def __init__(self, bootstrap: str, topic: str, group: str | None = None, reply_topic: str = "stepline.task-replies",
                 heartbeat_seconds: float | None = 10.0, concurrency: int = 8, extra: dict | None = None):
        self.topic = topic
        self.reply_topic = reply_topic
        self.heartbeat_seconds = heartbeat_seconds
        self.concurrency = concurrency
        common = {"bootstrap.servers": bootstrap, **(extra or {})}
        self.consumer = Consumer({**common, "group.id": group or f"worker-{topic}", "auto.offset.reset": "earliest",
                                  "enable.auto.offset.store": False, "fetch.wait.max.ms": 5,
                                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 1000})
        self.producer = Producer({**common, "linger.ms": 0, "enable.idempotence": True})
        self.running = True

    def reply(self, body: dict) -> None:
        done = threading.Event()
        errors: list = []

        def delivered(err, _msg):
            if err is not None:
                errors.append(err)
            done.set()

        self.producer.produce(self.reply_topic, json.dumps(body).encode(), on_delivery=delivered)
        while not done.is_set():
            self.producer.poll(0.05)
        if errors:
            raise RuntimeError(f"reply not delivered: {errors[0]}")

    def _handle(self, msg, handler: Callable[[Task], Any]) -> None:
        headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in (msg.headers() or [])}
        token = headers.get("stepline-task-token")
        if not token:
            return
        raw = msg.value() or b""
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw.decode(errors="replace")
        task = Task(token, value, headers, self)
        stop = threading.Event()

        def beat():
            while not stop.wait(self.heartbeat_seconds):
                try:
                    task.heartbeat()
                except Exception:
                    pass

        beater = threading.Thread(target=beat, daemon=True) if self.heartbeat_seconds else None
        if beater:
            beater.start()
        try:
            answer = {"taskToken": token, "output": handler(task)}
        except TaskFailure as f:
            answer = {"taskToken": token, "error": f.error, "cause": f.cause}
        except Exception as e:  # any other exception fails the task with its type and message
            answer = {"taskToken": token, "error": type(e).__name__, "cause": str(e)}
        finally:
            stop.set()
        while True:
            try:
                self.reply(answer)
                return
            except RuntimeError:
                continue

    def run(self, handler: Callable[[Task], Any]) -> None:
        self.consumer.subscribe([self.topic])
        with ThreadPoolExecutor(self.concurrency) as pool:
            while self.running:
                msgs = self.consumer.consume(self.concurrency, timeout=0.2)
                msgs = [m for m in msgs if m.error() is None]
                if not msgs:
                    continue
                list(pool.map(lambda m: self._handle(m, handler), msgs))
                for m in msgs:
                    self.consumer.store_offsets(message=m)
        self.consumer.close()
        self.producer.flush(10)

    def stop(self, *_):
        self.running = False


def greet(task: Task) -> Any:
    """The example handler: {"name": "Ada"} -> {"greeting": "Hello, Ada!"}."""
    name = task.input.get("name") if isinstance(task.input, dict) else None
    if not name:
        raise TaskFailure("Greeting.MissingName", 'the input has no "name"')
    return {"greeting": f"Hello, {name}!"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Answer Stepline tasks from a Kafka topic.")
    ap.add_argument("--topic", default="stepline.lambda.greet")
    ap.add_argument("--bootstrap", help="Kafka bootstrap servers (default: .stepline/bootstrap.servers)")
    ap.add_argument("--group", help="consumer group (default: worker-<topic>)")
    ap.add_argument("--handler", help="module:function taking a Task and returning the output (default: a greeting)")
    ap.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats while a task runs")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args(argv)
    bootstrap = args.bootstrap
    if not bootstrap:
        path = os.path.join(os.environ.get("STEPLINE_DATA_DIR", ".stepline"), "bootstrap.servers")
        try:
            bootstrap = open(path).read().strip()
        except OSError:
            print(f"no --bootstrap and no {path}: is stepline serve running?", file=sys.stderr)
            return 2
    handler = greet
    if args.handler:
        module, _, name = args.handler.partition(":")
        handler = getattr(importlib.import_module(module), name)
    worker = Worker(bootstrap, args.topic, args.group, heartbeat_seconds=args.heartbeat, concurrency=args.concurrency)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    print(f"worker: answering {args.topic} on {bootstrap}", flush=True)
    worker.run(handler)
    return 0


if __name__ == "__main__":
    # Handlers import this file as `stepline_worker`: let them get this very module, so that
    # the TaskFailure they raise is the one caught above.
    sys.modules.setdefault("stepline_worker", sys.modules["__main__"])
    sys.exit(main())
