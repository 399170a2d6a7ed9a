#!/usr/bin/env bash
# API benchmark over loopback: StartExecution (EXPRESS and STANDARD) and DescribeExecution
# with wrk, 64 connections. Builds the release binary, runs `stepline serve` on a free port
# with a temporary data directory, prints requests/s and p50/p99 latency per call.
#
#   Benchmarks/api/run.sh [seconds per run, default 10] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=${2:-64}
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { echo "wrk is needed (apt-get install wrk)"; exit 1; }; }
swift build -c release --product stepline >/dev/null
BIN=.build/release/stepline
DATA=$(mktemp -d /tmp/stepline-bench-XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT/
STEPLINE_DATA_DIR=$DATA STEPLINE_LISTEN=127.0.0.1:$PORT STEPLINE_LOG_LEVEL=error $BIN serve >"$DATA/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "${URL}readyz" >/dev/null && break; sleep 0.1; done

call() { curl -sf -H "Content-Type: application/x-amz-json-1.0" -H "X-Amz-Target: AWSStepFunctions.$1" -d "$2" "$URL"; }
DEF='{\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": \"Pass\", \"Next\": \"B\"}, \"B\": {\"Type\": \"Pass\", \"Next\": \"C\"}, \"C\": {\"Type\": \"Pass\", \"End\": true}}}'
EXPRESS=$(call CreateStateMachine "{\"name\": \"bench-express\", \"type\": \"EXPRESS\", \"roleArn\": \"arn:aws:iam::123456789012:role/r\", \"definition\": \"$DEF\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')
STANDARD=$(call CreateStateMachine "{\"name\": \"bench-standard\", \"roleArn\": \"arn:aws:iam::123456789012:role/r\", \"definition\": \"$DEF\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stateMachineArn"])')
EXEC=$(call StartExecution "{\"stateMachineArn\": \"$STANDARD\", \"input\": \"{}\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["executionArn"])')

run() {
  local label=$1 target=$2 body=$3
  local out
  out=$(TARGET="AWSStepFunctions.$target" BODY="$body" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s Benchmarks/api/post.lua "$URL" 2>&1 | grep RESULT)
  echo "$label $out"
}
echo "stepline API benchmark: $CONNECTIONS connections, ${SECONDS_PER_RUN}s per run, $(nproc) cores"
run "StartExecution(EXPRESS,3xPass)" StartExecution "{\"stateMachineArn\": \"$EXPRESS\", \"input\": \"{\\\"k\\\": 1}\"}"
run "StartExecution(STANDARD,3xPass)" StartExecution "{\"stateMachineArn\": \"$STANDARD\", \"input\": \"{\\\"k\\\": 1}\"}"
run "DescribeExecution" DescribeExecution "{\"executionArn\": \"$EXEC\"}"
