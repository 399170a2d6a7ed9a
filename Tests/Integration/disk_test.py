#!/usr/bin/env python3
"""Disk errors under `stepline serve`: a read-only data directory and a full disk.

Needs root to mount a small tmpfs (the data directory); without it, prints SKIPPED and
exits 0 (the store's own test covers a full database through SQLite's max_page_count).

1. Read-only at start: the daemon refuses to start, exit 1, with a message naming the store.
2. Full disk while running: starts fail with ServiceUnavailable and a "disk is full" message,
   /readyz turns 503, executions committed before stay readable; freeing space lets work go
   on; after a restart everything committed is there.
(Remounting the data directory read-only under a running daemon is refused by Linux while the
database is open for writing, so a read-only medium is tested at start.)
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time, urllib.request, urllib.error

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(__file__))
from crash_test import Daemon  # noqa: E402
from stepline_testkit import free_port, sfn_client  # noqa: E402


def client(port):
    return sfn_client(port, read_timeout=10, connect_timeout=2)


def readyz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def sh(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="stepline-disk-")
    mnt = work + "/mnt"
    os.makedirs(mnt)
    if sh("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt).returncode != 0:
        print("disk test: SKIPPED (cannot mount a tmpfs here)")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    problems = []
    daemon = None
    try:
        data = mnt + "/data"
        os.makedirs(data)
        # 1. Read-only at start.
        sh("mount", "-o", "remount,ro", mnt)
        env = dict(os.environ, STEPLINE_DATA_DIR=data, STEPLINE_LISTEN=f"127.0.0.1:{free_port()}")
        r = subprocess.run([args.binary, "serve"], env=env, capture_output=True, text=True, timeout=30)
        print(f"read-only at start: exit {r.returncode}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}")
        if r.returncode != 1 or "cannot open the store" not in r.stderr:
            problems.append(f"read-only start: exit {r.returncode}, stderr {r.stderr!r}")
        sh("mount", "-o", "remount,rw", mnt)

        # 2. A running daemon. (Remounting read-only under it is refused by Linux while the
        # database is open for writing, so a read-only medium is tested at start only.)
        port = free_port()
        daemon = Daemon(args.binary, data, port, work + "/daemon.log")
        daemon.start()
        c = client(port)
        d = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
        sm = c.create_state_machine(name="disk", definition=json.dumps(d), roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
        kept = [c.start_execution(stateMachineArn=sm, name=f"kept-{i}")["executionArn"] for i in range(20)]
        # 3. Full disk: fill the file system, leaving a few KiB.
        filler = mnt + "/filler"
        # Unbuffered: a buffered file keeps the bytes a full disk refused, and its close
        # raises ENOSPC again while flushing them.
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        big = json.dumps({"pad": "x" * 200_000})
        refused = None
        for i in range(50):
            try:
                c.start_execution(stateMachineArn=sm, name=f"full-{i}", input=big)
            except ClientError as e:
                refused = e.response["Error"]
                break
        print(f"full disk: {refused}")
        if not refused or refused["Code"] != "ServiceUnavailable" or "disk is full" not in refused["Message"]:
            problems.append(f"full disk: {refused}")
        status, body = readyz(port)
        print(f"/readyz while full: {status} {body}")
        if status != 503:
            problems.append(f"/readyz while full: {status}")
        for arn in kept:
            if c.describe_execution(executionArn=arn)["status"] != "RUNNING":
                problems.append(f"{arn} lost while the disk is full")
        os.remove(filler)
        c.start_execution(stateMachineArn=sm, name="after-full")
        status, _ = readyz(port)
        if status != 200:
            problems.append(f"/readyz after freeing space: {status}")
        # Restart: everything committed is there.
        code = daemon.terminate(timeout=20)
        if code != 0:
            problems.append(f"SIGTERM exit {code}")
        daemon.start()
        for arn in kept + [sm.replace(":stateMachine:", ":execution:") + ":after-full"]:
            if c.describe_execution(executionArn=arn)["status"] != "RUNNING":
                problems.append(f"{arn} not RUNNING after restart")
        daemon.terminate(timeout=20)
    finally:
        if daemon and daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
        sh("umount", "-l", mnt)
        if not problems:
            shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print("FAIL", p)
    print(f"disk test: {'ok' if not problems else f'{len(problems)} problems (kept {work})'}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
