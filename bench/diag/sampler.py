#!/usr/bin/env python3
"""Per-second samples of the gatehouse serve process: threads, CPU, context switches, per-thread CPU."""
import os, sys, time, subprocess
out = open(sys.argv[1], "w")
tick = os.sysconf("SC_CLK_TCK")
def find():
    r = subprocess.run(["pgrep", "-f", "gatehouse.dll serve"], capture_output=True, text=True)
    pids = [int(p) for p in r.stdout.split()]
    # the dotnet process (not taskset wrapper: taskset execs)
    for p in pids:
        try:
            if open(f"/proc/{p}/comm").read().strip() in ("dotnet", "gatehouse"):
                return p
        except OSError: pass
    return None
def snap(pid):
    tasks = {}
    vol = inv = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            st = open(f"/proc/{pid}/task/{t}/stat").read()
            name = st[st.index("(")+1:st.rindex(")")]
            f = st[st.rindex(")")+2:].split()
            cpu = int(f[11]) + int(f[12])
            s = open(f"/proc/{pid}/task/{t}/status").read()
            v = int(s.split("voluntary_ctxt_switches:")[1].split()[0])
            n = int(s.split("nonvoluntary_ctxt_switches:")[1].split()[0])
            vol += v; inv += n
            tasks[t] = (name, cpu)
        except (OSError, IndexError, ValueError): pass
    return tasks, vol, inv
pid = None
prev = None
while True:
    if pid is None or not os.path.exists(f"/proc/{pid}"):
        pid = find(); prev = None
        if pid is None:
            time.sleep(0.5); continue
        print(f"# pid {pid}", file=out, flush=True)
    try:
        cur = snap(pid)
    except OSError:
        pid = None; continue
    now = time.time()
    if prev:
        t0, (pt, pv, pi) = prev
        tasks, v, i = cur
        busy = sorted(((tasks[k][1] - pt.get(k, (None, 0))[1], tasks[k][0]) for k in tasks), reverse=True)
        total = sum(b for b, _ in busy)
        top = " ".join(f"{n}:{b}" for b, n in busy if b > 0)
        print(f"{time.strftime('%H:%M:%S', time.gmtime(now))} thr={len(tasks)} cpu={total*100//tick/ (now-t0):.0f}% vcs={v-pv} ics={i-pi} {top}", file=out, flush=True)
    prev = (now, (cur[0], cur[1], cur[2]))
    time.sleep(1.0)
