#!/bin/sh
# Release-mode microbenchmark of JSONPath, templates, intrinsics and Choice rules.
# Compiles the StatesLanguage sources with scripts/ExpressionBenchmark.swift as one module.
set -e
cd "$(dirname "$0")/.."
out=".build/expression-benchmark"
mkdir -p .build
swiftc -O -wmo -module-name StatesLanguage -parse-as-library -o "$out" \
    $(find Sources/StatesLanguage -name '*.swift') scripts/ExpressionBenchmark.swift 2>&1 | grep -v warning || true
"$out" "$@"
