#!/usr/bin/env bash
# Instructions per transition of each engine workload, counted by callgrind (repeatable
# whatever else the machine runs). Usage: scripts/profile-engine.sh [workload...]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product stepline-bench >/dev/null
for w in ${@:-pass-chain choice-loop map-fanout parallel payload-heavy error-catch}; do
  case $w in choice-loop|map-fanout|payload-heavy) n=2;; *) n=50;; esac
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file=$out .build/release/stepline-bench engine --only $w --executions $n 2>&1 >/tmp/profile-$w.txt | grep -o "Collected : [0-9]*" | awk -v w=$w -v n=$n '{print w, $3, "instructions for", n+1, "executions"}'
  rm -f $out
done
