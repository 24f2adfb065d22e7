#!/bin/bash
# usage: [PEER=nginx] profile.sh NAME [CONNS] — perf profile of the server CPU mid-run, then: python3 perfshare.py $OUT/NAME.txt [REGEX...]
name=$1; conns=${2:-32}
cd "$(dirname "$0")/../.."; mkdir -p ${OUT:-/tmp/gatehouse-diag}
( DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 BENCH_DURATION=30 BENCH_PEERS=${PEER:-gatehouse} BENCH_REPS=1 BENCH_SCENARIOS=get BENCH_CONNS=$conns BENCH_OUT=${OUT:-/tmp/gatehouse-diag}/$name.md python3 bench/compare/harness.py > ${OUT:-/tmp/gatehouse-diag}/$name.log 2>&1 ) &
hp=$!
for i in $(seq 1 300); do pgrep -x wrk >/dev/null && break; sleep 0.2; done
sleep 14
perf record -C 1 -e cpu-clock -g -o ${OUT:-/tmp/gatehouse-diag}/$name.data -- sleep 8 >/dev/null 2>&1
wait $hp
perf script -i ${OUT:-/tmp/gatehouse-diag}/$name.data -F comm,pid,ip,sym,dso > ${OUT:-/tmp/gatehouse-diag}/$name.txt 2>/dev/null
grep "get c=" ${OUT:-/tmp/gatehouse-diag}/$name.log
