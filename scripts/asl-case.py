#!/usr/bin/env python3
"""Debug one ASL conformance case: run it with `stepline run --history` and show the
expected and actual histories side by side (normalised loosely).

Usage: scripts/asl-case.py CASE_ID_SUBSTRING [--binary .build/debug/stepline]
"""
import json, subprocess, sys, tempfile, glob, os

sub = sys.argv[1]
binary = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--binary" else ".build/debug/stepline"
here = os.path.dirname(os.path.abspath(__file__))
cases = sorted(glob.glob(os.path.join(here, "../../shared/conformance/asl/cases/*.json")))
match = [c for c in cases if sub in os.path.basename(c)]
if not match:
    sys.exit("no case matches")
d = json.load(open(match[0]))
print("case:", d["id"], "needs:", d.get("needs"))
print("definition:", json.dumps(d["definition"])[:3000])
print("input:", json.dumps(d.get("input")))
with tempfile.NamedTemporaryFile("w", suffix=".asl.json", delete=False) as f:
    f.write(d["definition"] if isinstance(d["definition"], str) else json.dumps(d["definition"]))
p = subprocess.run([binary, "run", f.name, "--input", json.dumps(d.get("input", {})), "--history", "--seed", "7",
                    "--type", d.get("state_machine_type", "STANDARD")], capture_output=True, text=True)
print("exit", p.returncode, p.stderr[:2000])
def short(e):
    det = {k: v for k, v in e.items() if k.endswith("Details")}
    dv = list(det.values())[0] if det else {}
    return f"{e['id']} {e['previousEventId']} {e['type']} {json.dumps(dv)[:300]}"
exp = d["expected"].get("history") or []
try:
    act = json.loads(p.stdout)["events"]
except Exception:
    print(p.stdout[:3000]); act = []
print("--- expected", {k: v for k, v in d["expected"].items() if k != "history"})
for e in exp: print("  ", short(e))
print("--- actual")
for e in act: print("  ", short(e))
