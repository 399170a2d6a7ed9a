#!/usr/bin/env python3
"""Run the IAM policy-evaluation corpus through `stepline conformance iam-policy` and list
every case whose answer differs from `expect`.

Usage: scripts/policy-cases.py [--binary .build/debug/stepline] [--cases FILE] [--verbose] [ID_SUBSTRING...]
Exit status 1 when any case disagrees.
"""
import argparse, json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--binary", default=os.path.join(here, "../.build/debug/stepline"))
ap.add_argument("--cases", default=os.path.join(here, "../Tests/SteplineSecurityTests/policy-cases.jsonl"))
ap.add_argument("--verbose", "-v", action="store_true", help="print the policies of failing cases")
ap.add_argument("filter", nargs="*", help="only cases whose id contains one of these")
a = ap.parse_args()

cases = [json.loads(l) for l in open(a.cases) if l.strip()]
if a.filter:
    cases = [c for c in cases if any(f in c["id"] for f in a.filter)]
p = subprocess.run([a.binary, "conformance", "iam-policy"], input="".join(json.dumps(c) + "\n" for c in cases),
                   capture_output=True, text=True)
if p.returncode != 0:
    sys.exit(f"{a.binary} exited {p.returncode}: {p.stderr[:2000]}")
answers = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
if len(answers) != len(cases):
    sys.exit(f"{len(cases)} cases but {len(answers)} answers")
bad = 0
for c, ans in zip(cases, answers):
    if ans.get("id") != c["id"]:
        sys.exit(f"answer out of order: {ans.get('id')} for {c['id']}")
    exp = c["expect"]
    ok = ("error" in ans) if exp.get("error") else (ans.get("decision") == exp.get("decision"))
    if not ok:
        bad += 1
        want = "error" if exp.get("error") else exp["decision"]
        got = ("error: " + ans["error"]) if "error" in ans else ans.get("decision")
        print(f"FAIL {c['id']}: expected {want}, got {got}")
        print(f"     doc: {c['doc']}")
        if a.verbose:
            print("     case:", json.dumps({k: v for k, v in c.items() if k not in ("id", "doc", "expect")}))
print(f"{len(cases) - bad}/{len(cases)} cases agree")
sys.exit(1 if bad else 0)
