#!/usr/bin/env bash
# API benchmark over loopback: StartExecution (EXPRESS and STANDARD) and DescribeExecution
# with wrk, 64 connections. Builds the release binary, runs `stepline serve` on a free port
# with a temporary data directory, prints per call: requests/s, p50/p99 latency, and the
# daemon's own CPU time per request (from /proc/PID/stat), which tells its cost apart from
# the machine's limit when wrk and other work share the cores.
#
#   Benchmarks/api/run.sh [seconds per run, default 10] [connections, default 64]
#
# Environment: STEPLINE_BIN (use this binary, no build), BENCH_CALLS (a subset of
# express,standard,describe; default all three), SHOW_ERRORS=1 (print the first non-2xx bodies;
# costs wrk CPU that the daemon would otherwise get), BENCH_SIGV4=1 (security.authentication:
# sigv4 with an admin policy; every request signed, verified and authorized: wrk replays one
# signature per call, valid for the 5 minutes of allowed clock skew, as a client that signs
# with the same key and day would cost the daemon the same). BENCH_SIGV4=headers sends the
# same signed headers to a daemon without authentication: what the bigger requests cost
# (wrk, the HTTP parser), apart from verifying them.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-64}
CALLS=${BENCH_CALLS:-express,standard,describe}
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { echo "wrk is needed (apt-get install wrk)"; exit 1; }; }
if [ -n "${STEPLINE_BIN:-}" ]; then
  BIN=$STEPLINE_BIN
else
  swift build -c release --product stepline >/dev/null
  BIN=.build/release/stepline
fi
DATA=$(mktemp -d /tmp/stepline-bench-XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/
KEY=AKIDBENCH0000000001
SECRET=bench-secret-0123456789
CONFIG_ARGS=()
if [ -n "${BENCH_SIGV4:-}" ] && [ "${BENCH_SIGV4}" != headers ]; then
  cat >"$DATA/stepline.yaml" <<YAML
security:
  authentication: sigv4
  credentials:
    - {accessKeyId: $KEY, secretAccessKey: $SECRET, principal: "arn:aws:iam::123456789012:user/bench", policies: [admin]}
  policies:
    admin: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "states:*", "Resource": "*"}]}
YAML
  CONFIG_ARGS=(--config "$DATA/stepline.yaml")
fi
STEPLINE_DATA_DIR=$DATA STEPLINE_LISTEN=127.0.0.1:$PORT STEPLINE_LOG_LEVEL=error $BIN serve "${CONFIG_ARGS[@]}" >"$DATA/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; if [ -n "${KEEP_DATA:-}" ]; then echo "data: $DATA"; else rm -rf "$DATA"; fi' EXIT
for _ in $(seq 100); do curl -sf "${URL}readyz" >/dev/null && break; sleep 0.1; done

SIGN=()
[ -n "${BENCH_SIGV4:-}" ] && [ "${BENCH_SIGV4}" != headers ] && SIGN=(--aws-sigv4 "aws:amz:us-east-1:states" --user "$KEY:$SECRET")
call() { curl -sf "${SIGN[@]}" -H "Content-Type: application/x-amz-json-1.0" -H "X-Amz-Target: AWSStepFunctions.$1" -d "$2" "$URL"; }
# X-Amz-Date and Authorization of a request with this target and body (botocore's signer).
signature() {
  python3 - "$URL" "$1" "$2" "$KEY" "$SECRET" <<'PY'
import sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, target, body, key, secret = sys.argv[1:]
r = AWSRequest(method="POST", url=url, data=body.encode(),
               headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target})
SigV4Auth(Credentials(key, secret), "states", "us-east-1").add_auth(r)
print(r.headers["X-Amz-Date"], r.headers["Authorization"], sep="\n")
PY
}
DEF='{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Pass\", \"Next\": \"B\"}, \"B\": {\"Type\": \"Pass\", \"Next\": \"C\"}, \"C\": {\"Type\": \"Pass\", \"End\": true}}}'
EXPRESS=$(call CreateStateMachine "{\"name\": \"bench-express\", \"type\": \"EXPRESS\", \"roleArn\": \"arn:aws:iam::123456789012:role/r\", \"definition\": \"$DEF\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')
STANDARD=$(call CreateStateMachine "{\"name\": \"bench-standard\", \"roleArn\": \"arn:aws:iam::123456789012:role/r\", \"definition\": \"$DEF\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')
EXEC=$(call StartExecution "{\"stateMachineArn\": \"$STANDARD\", \"input\": \"{}\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["executionArn"])')
sleep 0.5
if ! kill -0 $PID 2>/dev/null; then
  echo "error: the daemon died during the set-up; its log:" >&2
  grep -v "failed to suspend thread" "$DATA/log" | head -40 >&2
  exit 3
fi

TICKS=$(getconf CLK_TCK)
# utime + stime of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Busy ticks of the whole machine (all cores): user + nice + system + irq + softirq + steal.
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

run() {
  local label=$1 target=$2 body=$3
  local out before after mbefore mafter t0 t1 requests
  # Idle cost of the daemon (Kafka consumers' fetch loops), over one second.
  before=$(cpu_ticks $PID); sleep 1; after=$(cpu_ticks $PID)
  local idle=$((after - before))
  before=$(cpu_ticks $PID); mbefore=$(machine_busy); t0=$(date +%s.%N)
  local amzdate="" authorization=""
  if [ -n "${BENCH_SIGV4:-}" ]; then
    { read -r amzdate; read -r authorization; } < <(signature "AWSStepFunctions.$target" "$body")
  fi
  out=$(TARGET="AWSStepFunctions.$target" BODY="$body" AMZ_DATE="$amzdate" AUTHORIZATION="$authorization" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/api/post.lua "$URL" 2>&1 | grep RESULT)
  after=$(cpu_ticks $PID); mafter=$(machine_busy); t1=$(date +%s.%N)
  requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$out")
  python3 - "$label" "$out" "$requests" $((after - before)) "$idle" $((mafter - mbefore)) "$t0" "$t1" "$TICKS" "$(nproc)" <<'PY'
import sys
label, out, requests, ticks, idle, mticks, t0, t1, hz, cores = sys.argv[1:]
requests, ticks, idle, mticks, hz, cores = int(requests), int(ticks), int(idle), int(mticks), int(hz), int(cores)
wall = float(t1) - float(t0)
daemon_s = ticks / hz
us = daemon_s / max(requests, 1) * 1e6
net_us = max(daemon_s - idle / hz * wall, 0) / max(requests, 1) * 1e6
print(f"{label} {out.replace('RESULT ', '')} daemon_cpu_us_per_req={us:.1f} (less idle cost {net_us:.1f})"
      f" daemon_cores={daemon_s / wall:.2f} machine_busy_cores={mticks / hz / wall:.2f}/{cores}"
      f" daemon_bound_rps={cores / (us / 1e6):.0f}")
PY
}
echo "stepline API benchmark${BENCH_SIGV4:+ (SigV4 on)}: $CONNECTIONS connections, ${SECONDS_PER_RUN}s per run, $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
case ",$CALLS," in *,express,*) run "StartExecution(EXPRESS,3xPass)" StartExecution "{\"stateMachineArn\": \"$EXPRESS\", \"input\": \"{\\\"k\\\": 1}\"}";; esac
case ",$CALLS," in *,standard,*) run "StartExecution(STANDARD,3xPass)" StartExecution "{\"stateMachineArn\": \"$STANDARD\", \"input\": \"{\\\"k\\\": 1}\"}";; esac
case ",$CALLS," in *,describe,*) run "DescribeExecution" DescribeExecution "{\"executionArn\": \"$EXEC\"}";; esac
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
