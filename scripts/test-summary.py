#!/usr/bin/env python3
"""Counts the tests in xUnit XML files (XCTest and Swift Testing) and prints
'N passed, M failed, K skipped'. A skipped test is one that did not run (a disabled
test, or one whose data, such as ../shared, is absent); a parameterized test counts
once, failed if any of its cases failed. Known issues (withKnownIssue) are not
failures. Exits 1 when any failed or when no results were found."""
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
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
