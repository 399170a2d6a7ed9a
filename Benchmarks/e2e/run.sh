#!/usr/bin/env bash
# End-to-end benchmark (issue 6): executions/s and latency from a trigger record produced to
# the execution's SUCCEEDED status event received, for a 3-state workflow (Pass → Task
# sqs:sendMessage.waitForTaskToken → Succeed) with a worker answering every task over Kafka,
# at steady offered loads, on the durable store (SQLite, synchronous FULL).
#
#   Benchmarks/e2e/run.sh [--rates 1000,2000,5000] [--seconds 20] [--warmup 5]
#                         [--broker embedded|process] [--timeline] [--no-build]
#                         [--driver-args "ARGS for stepline-bench e2e"] [--floor] [--repeat N]
#
# Environment: STEPLINE_DAEMON_BIN (another binary for the daemon, for before/after
# comparisons), KEEP=1 (keep the data directories and logs).
#
# For each rate: a fresh data directory and a fresh `stepline serve` (its own process, with
# Benchmarks/e2e/stepline.yaml); with --broker process, a fresh `stepline broker` process
# as its Kafka (default: the daemon's embedded broker). `stepline-bench e2e` then plays the
# upstream producer, the worker and the observer (one process), reports the figures and the
# CPU of the machine, the daemon and the broker over the measured window. The daemon is
# stopped with SIGTERM, and the store is checked: one execution per record produced, all
# SUCCEEDED, one task each, nothing else.
#
# --floor runs `stepline-bench e2e-floor` in place of the daemon: the same Kafka traffic per
# record (status events, task request, reply) with no engine and no store, so the figures
# are the floor that the machine, the clients and the broker set (no store check then).
#
# --repeat N measures each rate N times (a fresh daemon each time) and adds the median of
# the runs per rate: on shared cores one run's tail can be off by 2x either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
RATES=1000,2000,5000
SECS=20
WARMUP=5
BROKER=embedded
BUILD=1
TIMELINE=
DRIVER_ARGS=
FLOOR=
REPEAT=1
while [ $# -gt 0 ]; do
  case $1 in
    --rates) RATES=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --broker) BROKER=$2; shift 2 ;;
    --timeline) TIMELINE=--timeline; shift ;;
    --no-build) BUILD=; shift ;;
    --driver-args) DRIVER_ARGS=$2; shift 2 ;;
    --floor) FLOOR=1; shift ;;
    --repeat) REPEAT=$2; shift 2 ;;
    -h|--help) sed -n 2,24p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case $BROKER in embedded|process) ;; *) echo "--broker embedded|process" >&2; exit 2 ;; esac
if [ -n "$BUILD" ]; then
  echo "building stepline and stepline-bench (release)..." >&2
  timeout 3600 swift build -c release --product stepline >/dev/null
  timeout 3600 swift build -c release --product stepline-bench >/dev/null
fi
BIN=$PWD/.build/release/stepline
# The driver, the floor and the fsync probe.
BENCH=$PWD/.build/release/stepline-bench
# The daemon's binary may differ from the driver's (before/after comparisons).
DAEMON_BIN=${STEPLINE_DAEMON_BIN:-$BIN}
WORK=$(mktemp -d /tmp/stepline-e2e-XXXXXX)
PID=
BROKER_PID=
stop_all() {
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=; fi
  if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID" 2>/dev/null || true; wait "$BROKER_PID" 2>/dev/null || true; BROKER_PID=; fi
}
trap 'stop_all; [ -n "${KEEP:-}" ] && echo "kept $WORK" >&2 || rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "stepline e2e benchmark: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), broker $BROKER, rates $RATES, ${SECS}s measured after ${WARMUP}s warm-up"
# The disk's sync rate now (SQLite syncs its WAL with fdatasync at every group commit).
"$BENCH" durable --only fsync --parked 0 --directory "$WORK" --pass-chain /dev/null 2>/dev/null | grep -E "loop" || true
ROWS=()
for RATE in ${RATES//,/ }; do
for RUN in $(seq "$REPEAT"); do
  TAG=$RATE-$RUN
  DATA=$WORK/data-$TAG
  mkdir -p "$DATA"
  PORT=$(free_port)
  ENV=(STEPLINE_DATA_DIR="$DATA" STEPLINE_LISTEN=127.0.0.1:$PORT)
  WATCH=()
  if [ "$BROKER" = process ]; then
    "$BIN" broker --topics bench-orders:4,bench-work:4,stepline.task-replies:4,stepline.execution-status:4,stepline.dead-letters:4 \
      >"$WORK/broker-$TAG.out" 2>"$WORK/broker-$TAG.err" &
    BROKER_PID=$!
    for _ in $(seq 100); do [ -s "$WORK/broker-$TAG.out" ] && break; sleep 0.1; done
    BOOT=$(head -1 "$WORK/broker-$TAG.out")
    ENV+=(STEPLINE_KAFKA_BROKERS="$BOOT")
    WATCH+=(--watch "broker=$BROKER_PID" --bootstrap "$BOOT")
  fi
  if [ -n "$FLOOR" ]; then
    FLOOR_ARGS=(--data-dir "$DATA"); [ "$BROKER" = process ] && FLOOR_ARGS+=(--bootstrap "$BOOT")
    "$BENCH" e2e-floor "${FLOOR_ARGS[@]}" >"$WORK/serve-$TAG.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do grep -q '^ready' "$WORK/serve-$TAG.log" 2>/dev/null && break; sleep 0.1; done
    grep -q '^ready' "$WORK/serve-$TAG.log" || { echo "e2e-floor did not become ready:" >&2; cat "$WORK/serve-$TAG.log" >&2; exit 1; }
  else
    env "${ENV[@]}" "$DAEMON_BIN" serve --config Benchmarks/e2e/stepline.yaml >"$WORK/serve-$TAG.log" 2>&1 &
    PID=$!
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "the daemon did not become ready:" >&2; cat "$WORK/serve-$TAG.log" >&2; exit 1; }
  fi
  WATCH+=(--watch "daemon=$PID")
  echo
  echo "== offered $RATE executions/s$([ "$REPEAT" -gt 1 ] && echo ", run $RUN of $REPEAT")"
  "$BENCH" e2e --data-dir "$DATA" --rate "$RATE" --seconds "$SECS" --warmup "$WARMUP" \
        --names "$WORK/names-$TAG" "${WATCH[@]}" $TIMELINE $DRIVER_ARGS | tee "$WORK/out-$TAG"
  OUT=$(cat "$WORK/out-$TAG")
  kill -TERM "$PID"
  STATUS=0; wait "$PID" || STATUS=$?
  PID=
  [ "$STATUS" = 0 ] || echo "warning: stepline serve exited $STATUS on SIGTERM" >&2
  if [ -n "$BROKER_PID" ]; then kill -TERM "$BROKER_PID"; wait "$BROKER_PID" || true; BROKER_PID=; fi
  if [ -n "$FLOOR" ]; then
    ROWS+=("$RATE|$(sed -n 's/^RESULT //p' <<<"$OUT")|n/a (floor: no store)")
    continue
  fi
  # The store, after the daemon stopped: every record made exactly one execution, which
  # SUCCEEDED with exactly one task; no other execution exists.
  STORE=$(python3 - "$DATA/stepline.sqlite" "$WORK/names-$TAG" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
names = set(l.strip() for l in open(sys.argv[2]) if l.strip())
rows = db.execute("""SELECT e.name, e.status, (SELECT count(*) FROM tasks t WHERE t.execution_id = e.id)
                     FROM executions e""").fetchall()
by_name = {}
for name, status, tasks in rows:
    by_name.setdefault(name, []).append((status, tasks))
missing = [n for n in names if n not in by_name]
extra = [n for n in by_name if n not in names]
twice = [n for n, v in by_name.items() if len(v) > 1]
succeeded = [n for n, v in by_name.items() if n in names and v[0][0] == "SUCCEEDED"]
running = [n for n, v in by_name.items() if n in names and v[0][0] == "RUNNING"]
bad = [n for n, v in by_name.items() if n in names and (v[0][0] not in ("SUCCEEDED", "RUNNING") or v[0][1] != 1)]
pending = db.execute("SELECT count(*) FROM outbox WHERE status = 'PENDING'").fetchone()[0]
# Exactly once: no execution twice, none that no record asked for, every one that ended
# SUCCEEDED with exactly one task. Work left unfinished (an overloaded daemon stopped with
# SIGTERM) is reported apart: it is not a violation.
ok = not (extra or twice or bad)
print(f"{'OK' if ok else 'FAILED'} executions {len(rows)} for {len(names)} records: SUCCEEDED with one task {len(succeeded)}, "
      f"duplicated {len(twice)}, extra {len(extra)}, failed or not one task {len(bad)}; unfinished at SIGTERM: running {len(running)}, "
      f"not started {len(missing)}; outbox rows pending {pending}")
EOF
)
  echo "store check: $STORE"
  ROWS+=("$RATE|$(sed -n 's/^RESULT //p' <<<"$OUT")|$STORE")
done
done

echo
BROKER_COLUMN=; [ "$BROKER" = process ] && BROKER_COLUMN=" / broker"
echo "| offered /s | finished /s | p50 ms | p90 ms | p99 ms | max ms | not finished | driver check | store check | CPU (cores): machine / stolen / daemon$BROKER_COLUMN / driver | load |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for row in "${ROWS[@]}"; do
  IFS='|' read -r rate json store <<<"$row"
  python3 - "$rate" "$json" "$store" <<'EOF'
import json, sys
rate, r, store = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
f = lambda v: "-" if v is None else (f"{v:,.1f}" if isinstance(v, float) else str(v))
c = r.get("cpu", {})
cpu = " / ".join(f(c.get(k)) for k in ("machine", "steal", "daemon", "broker", "driver") if k in c)
print(f"| {int(rate):,} | {r['achieved']:,.0f} | {f(r['p50'])} | {f(r['p90'])} | {f(r['p99'])} | {f(r['max'])} | {r['notFinished']} | "
      f"{'OK' if r['check'] else 'FAILED'} | {store.split()[0]} | {cpu} | {r['load']} |")
EOF
done
if [ "$REPEAT" -gt 1 ]; then
  echo
  echo "median of $REPEAT runs per rate:"
  printf '%s\n' "${ROWS[@]}" >"$WORK/rows"
  python3 - "$WORK/rows" <<'EOF'
import json, statistics, sys
by = {}
for line in open(sys.argv[1]):
    rate, r, store = line.rstrip("\n").split("|", 2)
    by.setdefault(int(rate), []).append((json.loads(r), store))
print("| offered /s | finished /s | p50 ms | p99 ms | daemon ms CPU/execution | cores stolen | all checks |")
print("|---|---|---|---|---|---|---|")
for rate, runs in by.items():
    med = lambda f: statistics.median(f(r) for r, _ in runs)
    ok = all(r["check"] and not s.startswith("FAILED") for r, s in runs)
    print(f"| {rate:,} | {med(lambda r: r['achieved']):,.0f} | {med(lambda r: r['p50']):,.1f} | {med(lambda r: r['p99']):,.1f} | "
          f"{med(lambda r: r.get('cpu', {}).get('daemonMsPerExecution', 0)):.2f} | {med(lambda r: r.get('cpu', {}).get('steal', 0)):.2f} | "
          f"{'OK' if ok else 'FAILED'} |")
EOF
fi
