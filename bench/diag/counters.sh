#!/bin/bash
# usage: counters.sh NAME CONNS  — the harness's proxied GET at CONNS connections (Gatehouse alone, 2 reps of 8 s)
# with dotnet-counters (System.Runtime, Gatehouse.Http) attached; then: python3 show.py $OUT/NAME.csv
name=$1; conns=$2; mkdir -p ${OUT:-/tmp/gatehouse-diag}
cd "$(dirname "$0")/../.."
( for i in $(seq 1 200); do pid=$(pgrep -f "gatehouse.dll serve" | while read p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = dotnet ] && echo $p; done | head -1); [ -n "$pid" ] && break; sleep 0.2; done
  sleep 3; taskset -c 0 ~/.dotnet/tools/dotnet-counters collect -p $pid --refresh-interval 2 --format csv -o ${OUT:-/tmp/gatehouse-diag}/$name.csv --counters System.Runtime,Gatehouse.Http > /dev/null 2>&1 ) &
env BENCH_SCENARIOS=get BENCH_PEERS=gatehouse BENCH_REPS=2 BENCH_DURATION=8 BENCH_CONNS=$conns \
    BENCH_OUT=${OUT:-/tmp/gatehouse-diag}/$name.md python3 bench/compare/harness.py 2>&1 | grep "get c=" > ${OUT:-/tmp/gatehouse-diag}/$name.log
sleep 1; pkill -f dotnet-counters; true
