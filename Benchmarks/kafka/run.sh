#!/usr/bin/env bash
# Kafka benchmark: librdkafka from C (bench.c) and from Swift (KafkaClient, kafka-bench)
# side by side, against one `stepline broker` process (librdkafka's mock cluster).
#
#   Benchmarks/kafka/run.sh [ROUNDS] [RECORDS]
#
# Each round runs C then Swift for every measurement; the table shows the best round of
# each (the machine is shared: the best round is the least disturbed one) and the median.
set -euo pipefail
cd "$(dirname "$0")"
ROUNDS=${1:-3}
RECORDS=${2:-1000000}
ROOT=$(cd ../.. && pwd)
WORK=$(mktemp -d)
trap 'kill ${BROKER_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "building: stepline (debug), bench.c (-O2), kafka-bench (release)" >&2
(cd "$ROOT" && swift build --product stepline >/dev/null)
cc -O2 -o "$WORK/bench-c" bench.c -lrdkafka
swift build -c release --product kafka-bench >/dev/null
SWIFT_BENCH=$(swift build -c release --show-bin-path)/kafka-bench

# 16 partitions per throughput topic: the mock keeps ~5 MB per partition, so the consumer
# reads what is left of the last produce run (it reports how many it read).
TOPICS=""
for r in $(seq 1 "$ROUNDS"); do TOPICS+="c$r:16,s$r:16,"; done
"$ROOT/.build/debug/stepline" broker --topics "${TOPICS}rtt:1,lat:1" >"$WORK/broker.out" 2>"$WORK/broker.err" &
BROKER_PID=$!
for _ in $(seq 50); do [ -s "$WORK/broker.out" ] && break; sleep 0.1; done
BOOTSTRAP=$(head -1 "$WORK/broker.out")
echo "broker at $BOOTSTRAP; $ROUNDS rounds of $RECORDS records of 200 bytes" >&2

value() { awk '{print $2}'; }
cpu() { sed -n 's/.*cpu=\([0-9.]*\)us.*/\1/p'; }
declare -A R
for r in $(seq 1 "$ROUNDS"); do
    # Who goes first alternates: the broker shares the two cores, and it is still busy
    # with the previous run's records (trimming its logs) when the next run starts.
    c_produce() { out=$("$WORK/bench-c" produce "$BOOTSTRAP" "c$r" "$RECORDS"); R[c_produce_$r]=$(value <<<"$out"); R[c_pcpu_$r]=$(cpu <<<"$out"); sleep 1; }
    s_produce() { out=$("$SWIFT_BENCH" produce "$BOOTSTRAP" "s$r" "$RECORDS"); R[s_produce_$r]=$(value <<<"$out"); R[s_pcpu_$r]=$(cpu <<<"$out"); sleep 1; }
    c_consume() { out=$("$WORK/bench-c" consume "$BOOTSTRAP" "c$r" "gc$r"); R[c_consume_$r]=$(value <<<"$out"); R[c_ccpu_$r]=$(cpu <<<"$out"); }
    s_consume() {
        out=$("$SWIFT_BENCH" consume "$BOOTSTRAP" "s$r" "gs$r"); R[s_consume_$r]=$(value <<<"$out"); R[s_ccpu_$r]=$(cpu <<<"$out")
        out=$("$SWIFT_BENCH" consume-borrow "$BOOTSTRAP" "s$r" "gb$r"); R[b_consume_$r]=$(value <<<"$out"); R[b_ccpu_$r]=$(cpu <<<"$out")
    }
    if (( r % 2 )); then c_produce; s_produce; c_consume; s_consume; else s_produce; c_produce; s_consume; c_consume; fi
    R[c_rtt_$r]=$("$WORK/bench-c" rtt "$BOOTSTRAP" rtt 2000 | value)
    R[s_rtt_$r]=$("$SWIFT_BENCH" rtt "$BOOTSTRAP" rtt 2000 | value)
    echo "round $r: produce C ${R[c_produce_$r]} Swift ${R[s_produce_$r]}; consume C ${R[c_consume_$r]} Swift ${R[s_consume_$r]} (borrowing ${R[b_consume_$r]}); rtt C ${R[c_rtt_$r]} Swift ${R[s_rtt_$r]} us" >&2
done

stats() { # best (max, or min for latency) and median of a series
    local kind=$1; shift
    local sorted
    sorted=$(printf '%s\n' "$@" | sort -n)
    local n=$#
    local median
    median=$(echo "$sorted" | sed -n "$(( (n + 1) / 2 ))p")
    if [ "$kind" = min ]; then echo "$(echo "$sorted" | head -1) $median"; else echo "$(echo "$sorted" | tail -1) $median"; fi
}
series() { local k=$1; for r in $(seq 1 "$ROUNDS"); do echo "${R[${k}_$r]}"; done; }

printf '\n%-34s %14s %14s %8s\n' "measurement" "C librdkafka" "Swift" "Swift/C"
for m in produce consume; do
    read -r cb cm <<<"$(stats max $(series c_$m))"
    read -r sb sm <<<"$(stats max $(series s_$m))"
    printf '%-34s %14s %14s %7.0f%%\n' "$m records/s (best)" "$cb" "$sb" "$(echo "100 * $sb / $cb" | bc -l)"
    printf '%-34s %14s %14s %7.0f%%\n' "$m records/s (median)" "$cm" "$sm" "$(echo "100 * $sm / $cm" | bc -l)"
done
read -r bb bm <<<"$(stats max $(series b_consume))"
read -r cb cm <<<"$(stats max $(series c_consume))"
printf '%-34s %14s %14s %7.0f%%\n' "consume, borrowing (best)" "$cb" "$bb" "$(echo "100 * $bb / $cb" | bc -l)"
printf '%-34s %14s %14s %7.0f%%\n' "consume, borrowing (median)" "$cm" "$bm" "$(echo "100 * $bm / $cm" | bc -l)"
for m in pcpu ccpu; do
    read -r cb cm <<<"$(stats min $(series c_$m))"
    read -r sb sm <<<"$(stats min $(series s_$m))"
    label=$([ $m = pcpu ] && echo produce || echo consume)
    printf '%-34s %14s %14s %7.0f%%\n' "$label CPU us/record (median)" "$cm" "$sm" "$(echo "100 * $cm / $sm" | bc -l)"
done
read -r cb cm <<<"$(stats min $(series c_ccpu))"
read -r bb bm <<<"$(stats min $(series b_ccpu))"
printf '%-34s %14s %14s %7.0f%%\n' "consume borrowing CPU us/rec (med)" "$cm" "$bm" "$(echo "100 * $cm / $bm" | bc -l)"
read -r cb cm <<<"$(stats min $(series c_rtt))"
read -r sb sm <<<"$(stats min $(series s_rtt))"
printf '%-34s %14s %14s\n' "produce round trip, median us (best)" "$cb" "$sb"
printf '\nSwift produce -> consume latency by fetch.wait.max.ms (median / p99, us):\n'
for w in 0 1 5 10; do
    "$SWIFT_BENCH" latency "$BOOTSTRAP" lat "$w" | awk -v w="$w" '{printf "  fetch.wait.max.ms=%-3s %8s / %s\n", w, $2, substr($4, 5)}'
done
printf '\nload average during the run: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
