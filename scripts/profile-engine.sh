#!/usr/bin/env bash
# Instructions per execution and per transition of each engine workload, counted by
# callgrind (repeatable whatever else the machine runs). Each workload runs twice, with a
# few and with more executions; the difference removes start-up and the warm-up run.
# Usage: scripts/profile-engine.sh [--no-build] [workload...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--no-build" ]; then shift; else swift build -c release --product stepline-bench >/dev/null; fi
count() { # workload executions -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null .build/release/stepline-bench engine --only "$1" --executions "$2" 2>&1 >/dev/null \
    | grep -o "Collected : [0-9]*" | awk '{print $3}'
}
transitions() {
  case $1 in pass-chain) echo 100;; choice-loop) echo 20002;; map-fanout) echo 3001;; parallel) echo 51;;
    payload-heavy) echo 20;; error-catch) echo 5;; error-retry) echo 9;; *) echo 1;; esac
}
printf "%-15s %16s %16s\n" workload instr/execution instr/transition
for w in ${@:-pass-chain choice-loop map-fanout parallel payload-heavy error-catch}; do
  case $w in choice-loop|map-fanout|payload-heavy) lo=1; hi=3;; *) lo=3; hi=23;; esac
  a=$(count $w $lo); b=$(count $w $hi)
  awk -v w=$w -v a=$a -v b=$b -v n=$((hi - lo)) -v t=$(transitions $w) \
    'BEGIN { e = (b - a) / n; printf "%-15s %16.0f %16.0f\n", w, e, e / t }'
done
