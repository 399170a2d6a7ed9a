#!/usr/bin/env python3
"""Counts test cases in xUnit XML files (XCTest and Swift Testing) and prints
'N passed, M failed'. Exits 1 when any failed or when no results were found."""
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, FileNotFoundError) as e:
        print(f"cannot read {path}: {e}", file=sys.stderr)
        continue
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
extra = f" ({skipped} skipped)" if skipped else ""
print(f"{passed} passed, {failed} failed{extra}")
sys.exit(1 if failed or passed == 0 else 0)
