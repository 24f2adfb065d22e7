#!/bin/bash
# usage: [CONNS=N] strace256.sh NAME — rebuilds, runs the proxied GET at 256 (or N) connections and counts the server's
# syscalls per request (strace -c -f for 4 s after the warm-up; requests = sendto / 2)
name=$1; mkdir -p ${OUT:-/tmp/gatehouse-diag}
cd "$(dirname "$0")/../.." && dotnet publish src/Gatehouse -c Release -o bench/compare/out/gatehouse 2>&1 | grep -E " error"
( for i in $(seq 1 300); do pid=$(pgrep -f "gatehouse.dll serve" | while read p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = dotnet ] && echo $p; done | head -1); [ -n "$pid" ] && break; sleep 0.2; done
  sleep 14; timeout -s INT 4 strace -c -f -p $pid -o ${OUT:-/tmp/gatehouse-diag}/$name.strace >/dev/null 2>&1 ) &
env BENCH_SCENARIOS=get BENCH_PEERS=gatehouse BENCH_CONNS=${CONNS:-256} BENCH_REPS=1 BENCH_DURATION=10 BENCH_OUT=${OUT:-/tmp/gatehouse-diag}/st.md python3 bench/compare/harness.py >/dev/null 2>&1
sleep 1
python3 - "${OUT:-/tmp/gatehouse-diag}/$name.strace" <<'PY'
import sys,re
rows={}
for l in open(sys.argv[1]):
    f=l.split()
    if len(f)>=5 and f[-1].isidentifier() and f[3].isdigit():
        rows[f[-1]]=(int(f[3]), int(f[4]) if len(f)==6 and f[4].isdigit() else 0)
req=rows.get('sendto',(0,0))[0]/2
print(f"requests ~{req:.0f}; per request: " + ", ".join(f"{k} {v[0]/req:.2f}" + (f" ({v[1]/req:.2f} err)" if v[1] else "") for k,v in sorted(rows.items(), key=lambda x:-x[1][0]) if v[0]/req>=0.01))
PY
