#!/usr/bin/env bash
# Coverage-guided fuzzing of the HTTP/1.1 parser (issue 10): SharpFuzz instruments
# Gatehouse.Http1.dll, AFL++ drives each target for FUZZ_SECONDS, one after another.
#   FUZZ_SECONDS   seconds per target (default 300)
#   FUZZ_TARGETS   which targets (default "head target chunk body")
#   FUZZ_RESUME=1  continue the previous findings/ queues instead of starting from the seeds
# Needs afl-fuzz (Debian: apt-get install -y afl++). Crashes land in fuzz/findings/TARGET/default/crashes;
# replay one with the plain (uninstrumented) build, since the instrumented one needs AFL's shared memory:
#   dotnet fuzz/Gatehouse.Fuzz/bin/Release/net10.0/Gatehouse.Fuzz.dll TARGET --replay FILE
set -euo pipefail
cd "$(dirname "$0")"
FUZZ_SECONDS="${FUZZ_SECONDS:-300}"
FUZZ_TARGETS="${FUZZ_TARGETS:-head target chunk body}"
DOTNET="${DOTNET:-dotnet}"

if ! command -v afl-fuzz >/dev/null; then
    echo "afl-fuzz not found: apt-get install -y afl++" >&2
    exit 1
fi

if [ ! -x tools/sharpfuzz ]; then
    "$DOTNET" tool install --tool-path tools SharpFuzz.CommandLine
fi

# A fresh publish every time: sharpfuzz rewrites the dll in place and refuses one already instrumented.
rm -rf out
"$DOTNET" publish Gatehouse.Fuzz -c Release -o out -nologo -v quiet
tools/sharpfuzz out/Gatehouse.Http1.dll
plain=Gatehouse.Fuzz/bin/Release/net10.0/Gatehouse.Fuzz.dll # built by the publish, left uninstrumented

if [ ! -d corpus/head ]; then
    "$DOTNET" "$plain" corpus ../../shared/corpora corpus
fi

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
mkdir -p findings
status=0
for target in $FUZZ_TARGETS; do
    if [ "${FUZZ_RESUME:-0}" = 1 ] && [ -d "findings/$target/default" ]; then
        input=-
    else
        rm -rf "findings/$target"
        input="corpus/$target"
    fi

    echo "== $target: afl-fuzz for ${FUZZ_SECONDS}s (log: fuzz/findings/$target.log)"
    fuzz_one() {
        afl-fuzz -i "$1" -o "findings/$target" -x http.dict -m none -t 5000 -V "$FUZZ_SECONDS" \
            -- "$(command -v "$DOTNET")" out/Gatehouse.Fuzz.dll "$target" >"findings/$target.log" 2>&1
    }
    # Under load the very first dry run now and then reports an empty trace ("No instrumentation
    # detected") though the next start is fine: one retry for that.
    fuzz_one "$input" || { grep -q "No instrumentation detected" "findings/$target.log" \
        && [ "$input" != - ] && rm -rf "findings/$target" && fuzz_one "$input"; } || {
        echo "afl-fuzz failed for $target; the end of its log:" >&2
        tail -n 30 "findings/$target.log" >&2
        status=1
        continue
    }

    stats="findings/$target/default/fuzzer_stats"
    for key in execs_done execs_per_sec corpus_count edges_found total_edges bitmap_cvg saved_crashes saved_hangs; do
        printf '   %-14s %s\n' "$key" "$(sed -n "s/^$key *: //p" "$stats")"
    done

    crashes=(findings/$target/default/crashes/id:*)
    if [ -e "${crashes[0]}" ]; then
        echo "   crashes (replayed without AFL):"
        "$DOTNET" "$plain" "$target" --replay "${crashes[@]}" | sed 's/^/     /' || true
        status=1
    fi
done
exit "$status"
