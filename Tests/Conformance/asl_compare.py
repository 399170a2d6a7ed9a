#!/usr/bin/env python3
"""Compare engine results with the ASL conformance cases, using the corpus's own runner.

Usage: asl_compare.py CASES_DIR RESULTS_JSONL
Each input line is {"id": ..., "result": {...}} in the shape run.py's BotoRunner produces.
Prints one JSON line per case: {"id", "pass" (status/output/error/cause or the kind's
default fields), "strict" (also the full history / messages), "diffs"}.
"""
import json
import sys
from pathlib import Path

cases_dir = Path(sys.argv[1])
sys.path.insert(0, str(cases_dir.parent))
import run  # noqa: E402  (the corpus runner: normalisation and comparison)

cases = {c["id"]: c for c in run.load_cases(cases_dir)}
for line in open(sys.argv[2]):
    line = line.strip()
    if not line:
        continue
    item = json.loads(line)
    case = cases[item["id"]]
    try:
        default = run.compare(case, item["result"], strict=False)
        strict = run.compare(case, item["result"], strict=True)
        out = {"id": item["id"], "pass": default["pass"], "strict": strict["pass"],
               "diffs": {k: v[:300] for k, v in strict["diffs"].items()}}
    except Exception as e:  # a comparison crash is a failure of that case, not of the run
        out = {"id": item["id"], "pass": False, "strict": False, "diffs": {"compare": f"{type(e).__name__}: {e}"[:300]}}
    print(json.dumps(out))
