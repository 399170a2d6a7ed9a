#!/usr/bin/env python3
"""Times the benchmark expressions with jsonata-python (pure Python). Prints JSON lines."""
import json, os, sys, time
import jsonata

HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
data = json.load(open(os.path.join(HERE, "data.json")))
cases = json.load(open(os.path.join(HERE, "expressions.json")))


def partition(arr, size):
    size = int(size)
    return [arr[i:i + size] for i in range(0, len(arr), size)]


for c in cases:
    expr = jsonata.Jsonata(c["expr"])
    # $partition is a Step Functions function: registered as a host function here
    expr.register_lambda("partition", partition)
    result = expr.evaluate(data)
    n, start = 0, time.perf_counter()
    while True:
        expr.evaluate(data)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= SECONDS and n >= 3:
            break
    print(json.dumps({"name": c["name"], "evals_per_sec": n / elapsed, "result": result}), flush=True)
