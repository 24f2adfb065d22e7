#!/bin/bash
# usage: perfloop.sh (beside a harness run; DOTNET_PerfMapEnabled=1 in the harness's env names JIT frames) —
# back-to-back 3 s perf stat windows (syscalls, context switches, page faults, TLB flushes) of the server
out=${OUT:-/tmp/gatehouse-diag}/perf; mkdir -p $out; rm -f $out/*
for i in $(seq 1 300); do pid=$(pgrep -f "gatehouse.dll serve" | while read p; do [ "$(cat /proc/$p/comm 2>/dev/null)" = dotnet ] && echo $p; done | head -1); [ -n "$pid" ] && break; sleep 0.2; done
echo pid $pid
while kill -0 $pid 2>/dev/null; do
  t=$(date -u +%H%M%S)

  taskset -c 0 perf stat -x, -e raw_syscalls:sys_enter,context-switches,task-clock,page-faults,cpu-migrations,tlb:tlb_flush,syscalls:sys_enter_madvise,syscalls:sys_enter_munmap,syscalls:sys_enter_mprotect -p $pid -o $out/$t.stat -- sleep 3 >/dev/null 2>&1
  wait
done
