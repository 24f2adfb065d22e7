#!/usr/bin/env bash
# Side-by-side harness (issue 9): Gatehouse vs nginx, HAProxy and YARP; WebSocket echo vs Kestrel (issue 6). `make bench` runs it;
# `make bench SMOKE=1` runs every scenario briefly. See harness.py for the knobs (BENCH_*).
# Installs nginx, haproxy and wrk from Debian's packages when missing (not under CI=true),
# builds Gatehouse, the YARP peer and the scenario 6 projects into bench/compare/out/, then runs harness.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/out"
mkdir -p "$out"

child=""
cleanup() {
    # harness.py kills its own children (each in its own process group); this catches the rest.
    if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        wait "$child" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { echo "[bench] $*" >&2; }

# --- peers and tools from Debian's packages (never from CI: there, missing peers are skipped)
missing=()
command -v nginx   >/dev/null || missing+=(nginx)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk     >/dev/null || missing+=(wrk)
command -v curl    >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "${CI:-}" = "true" ] || [ -n "${BENCH_NO_INSTALL:-}" ]; then
        say "not installing ${missing[*]} (CI or BENCH_NO_INSTALL): those peers/scenarios are skipped"
    elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]}"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >"$out/apt.log" 2>&1 \
            || say "apt-get failed (see $out/apt.log): missing peers are skipped"
    else
        say "missing ${missing[*]} and not root: those peers/scenarios are skipped"
    fi
fi
# Debian starts the packaged services on install; the harness runs its own instances.
for svc in nginx haproxy; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
        say "note: the system $svc service is running (the harness uses its own instances and ports)"
    fi
done

# --- builds
say "building Gatehouse (Release) into $out/gatehouse"
if ! dotnet publish "$root/src/Gatehouse" -c Release -o "$out/gatehouse" -nologo -v quiet >"$out/gatehouse-build.log" 2>&1; then
    cat "$out/gatehouse-build.log" >&2
    # src/ is edited concurrently: outside CI, fall back to the last good build and say so in the table.
    if [ "${CI:-}" != "true" ] && [ -f "$out/gatehouse/gatehouse.dll" ]; then
        say "Gatehouse did not build; measuring the previous build in $out/gatehouse"
        export BENCH_STALE_GATEHOUSE="$(date -u -r "$out/gatehouse/gatehouse.dll" '+%Y-%m-%d %H:%M UTC')"
    else
        say "Gatehouse did not build"; exit 1
    fi
fi
if [ -n "${BENCH_AOT:-}" ]; then
    # BENCH_AOT=1 measures the NativeAOT build (make publish-aot's) in place of the JIT one.
    say "building Gatehouse (NativeAOT) into $out/gatehouse-aot"
    if ! dotnet publish "$root/src/Gatehouse" -c Release -r linux-x64 -p:PublishAot=true -p:DebugType=none \
            -o "$out/gatehouse-aot" -nologo -v quiet >"$out/gatehouse-aot-build.log" 2>&1; then
        cat "$out/gatehouse-aot-build.log" >&2; say "the NativeAOT build failed"; exit 1
    fi
fi
say "building the YARP peer into $out/yarp"
if ! dotnet publish "$here/YarpPeer" -c Release -o "$out/yarp" -nologo -v quiet >"$out/yarp-build.log" 2>&1; then
    say "the YARP peer did not build (see $out/yarp-build.log): it is skipped"
    rm -f "$out/yarp/yarp-peer.dll"
fi

# Scenario 6 (issue 6): the WebSocket echo hosts (Gatehouse as a library, Kestrel) and the load client.
for ws in WsEchoGatehouse:ws-gatehouse:ws-echo-gatehouse WsEchoKestrel:ws-kestrel:ws-echo-kestrel WsLoad:ws-load:ws-load; do
    IFS=: read -r project dir dll <<<"$ws"
    say "building $project into $out/$dir"
    if ! dotnet publish "$here/$project" -c Release -o "$out/$dir" -nologo -v quiet >"$out/$dir-build.log" 2>&1; then
        say "$project did not build (see $out/$dir-build.log): scenario 6 leaves it out"
        rm -f "$out/$dir/$dll.dll"
    fi
done

# 5,000 idle TLS connections need more than the default 1,024 descriptors (harness.py raises it
# further, as root may, when a scenario holds more: raise_nofile).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

python3 "$here/harness.py" &
child=$!
wait "$child"
