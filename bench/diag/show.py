import csv, sys, collections
rows = collections.defaultdict(dict)
for r in csv.DictReader(open(sys.argv[1])):
    rows[r["Timestamp"]][r["Counter Name"]] = float(r["Mean/Increment"] or 0)
def g(d, k):
    return sum(v for n, v in d.items() if n.startswith(k))
print("time      req/s   cpuus/req  B/req  wi/req  gen0 gen1 gen2 thr  lockc exc")
for t, d in rows.items():
    req = g(d, "gatehouse.requests")
    if req < 1000: continue
    cpu = g(d, "dotnet.process.cpu.time")
    print(f"{t[-8:]} {req/2:7.0f} {cpu*1e6/req:8.1f} {g(d,'dotnet.gc.heap.total_allocated')/req:7.0f} {g(d,'dotnet.thread_pool.work_item.count')/req:6.2f} "
          f"{g(d,'dotnet.gc.collections ({collection} / 2 sec)[gc.heap.generation=gen0]'):4.0f} {g(d,'dotnet.gc.collections ({collection} / 2 sec)[gc.heap.generation=gen1]'):4.0f} "
          f"{g(d,'dotnet.gc.collections ({collection} / 2 sec)[gc.heap.generation=gen2]'):4.0f} {g(d,'dotnet.thread_pool.thread.count'):3.0f} {g(d,'dotnet.monitor.lock_contentions'):5.0f} {g(d,'dotnet.exceptions'):3.0f}")
