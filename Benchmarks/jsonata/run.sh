#!/usr/bin/env bash
# Runs the JSONata benchmark: Stepline (release build), jsonatapy (Rust core) and
# jsonata-python (pure Python), each in its own process, on the same expressions and data.
# The three run in turn for ROUNDS rounds and the table keeps each one's best rate, which
# evens out the noise of a shared machine.
# Usage: Benchmarks/jsonata/run.sh [seconds-per-expression] [rounds]   (default 1, 3)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SECONDS_PER="${1:-1}"
ROUNDS="${2:-3}"
python3 -c "import jsonata, jsonatapy" 2>/dev/null || pip install -q jsonata-python jsonatapy
(cd "$ROOT" && swift build -c release --product stepline-bench >/dev/null)
OUT="$(mktemp -d)"
for _ in $(seq "$ROUNDS"); do
  "$ROOT/.build/release/stepline-bench" jsonata --expressions "$HERE/expressions.json" --data "$HERE/data.json" --seconds "$SECONDS_PER" >> "$OUT/stepline.jsonl"
  python3 "$HERE/bench_jsonatapy.py" "$SECONDS_PER" >> "$OUT/jsonatapy.jsonl"
  python3 "$HERE/bench_jsonata_python.py" "$SECONDS_PER" >> "$OUT/jsonata_python.jsonl"
done
python3 "$HERE/table.py" "$OUT"
