"""Per-window figures from a dotnet-counters CSV (System.Runtime, Gatehouse.Http): show.py FILE.csv [--all]

req/s, server CPU µs, bytes allocated and thread-pool work items per request, collections by generation,
the collector's pause time and the heap after the last collection, threads, lock contentions, exceptions.
Windows with under 500 requests/s are left out unless --all (the per-request columns then read 0): with
--all, a scenario-8 sequence shows the collections while the idle connections open, too.
"""
import csv, sys, collections, re
if len(sys.argv) < 2:
    raise SystemExit(__doc__)
every = "--all" in sys.argv[2:]
rows = collections.defaultdict(dict)
for r in csv.DictReader(open(sys.argv[1])):
    rows[r["Timestamp"]][r["Counter Name"]] = float(r["Mean/Increment"] or 0)
def g(d, k):
    return sum(v for n, v in d.items() if n.startswith(k))
def gen(d, i):
    return sum(v for n, v in d.items() if n.startswith("dotnet.gc.collections") and n.endswith(f"[gc.heap.generation=gen{i}]"))
print("time      req/s   cpuus/req  B/req  wi/req  gen0 gen1 gen2 pause_ms heap_MB thr  lockc exc")
for t, d in rows.items():
    # the refresh interval, from a rate counter's name ("... / 2 sec)"): counters.sh uses 2 s, idle_elsewhere.py 1 s
    secs = next((float(m.group(1)) for n in d if (m := re.search(r"/ (\d+(?:\.\d+)?) sec\)", n))), 2.0)
    req = g(d, "gatehouse.requests")
    if req / secs < 500 and not every: continue
    per = 1 / req if req else 0.0
    cpu = g(d, "dotnet.process.cpu.time")
    print(f"{t[-8:]} {req/secs:7.0f} {cpu*1e6*per:8.1f} {g(d,'dotnet.gc.heap.total_allocated')*per:7.0f} {g(d,'dotnet.thread_pool.work_item.count')*per:6.2f} "
          f"{gen(d,0):4.0f} {gen(d,1):4.0f} {gen(d,2):4.0f} {g(d,'dotnet.gc.pause.time')*1000:8.1f} {g(d,'dotnet.gc.last_collection.heap.size')/1e6:7.0f} "
          f"{g(d,'dotnet.thread_pool.thread.count'):3.0f} {g(d,'dotnet.monitor.lock_contentions'):5.0f} {g(d,'dotnet.exceptions'):3.0f}")
