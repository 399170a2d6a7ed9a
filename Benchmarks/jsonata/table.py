#!/usr/bin/env python3
"""Prints the benchmark table (Markdown) from the three JSON-lines result files."""
import json, os, sys

out = sys.argv[1]
def load(name):
    best = {}
    for r in map(json.loads, open(os.path.join(out, name + ".jsonl"))):
        if r["name"] not in best or r["evals_per_sec"] > best[r["name"]]["evals_per_sec"]:
            best[r["name"]] = r
    return best
s, r, p = load("stepline"), load("jsonatapy"), load("jsonata_python")
def same(a, b):
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) or a == b
print("| expression | Stepline (Swift) | jsonatapy (Rust) | jsonata-python | vs jsonatapy | vs jsonata-python |")
print("|---|---:|---:|---:|---:|---:|")
for name, row in s.items():
    a, b, c = row["evals_per_sec"], r[name]["evals_per_sec"], p[name]["evals_per_sec"]
    flag = "" if same(row["result"], r[name]["result"]) else " (results differ)"
    print(f"| {name}{flag} | {a:,.0f}/s | {b:,.0f}/s | {c:,.0f}/s | {a / b:.1f}× | {a / c:.0f}× |")
