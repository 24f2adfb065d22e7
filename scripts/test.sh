#!/usr/bin/env bash
# Builds and runs every test project, then prints one line: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
results=TestResults
rm -rf "$results"

# Every gateway the tests start writes its log lines here (tests/Gatehouse.Tests/TestLogFile.cs);
# tests/LogScan.Tests, run after everything else, fails if a test secret is in any of them.
export GATEHOUSE_TEST_LOG_DIR="$PWD/$results/logs"

dotnet build Gatehouse.slnx -c Debug -nologo -v minimal || { echo "tests: 0 passed, 1 failed"; exit 1; }
dotnet build tests/LogScan.Tests -c Debug -nologo -v minimal || { echo "tests: 0 passed, 1 failed"; exit 1; }
# A hung test must not hang CI: blame-hang kills it and reports which one.
dotnet test Gatehouse.slnx -c Debug --no-build -nologo \
    --blame-hang-timeout 5m \
    --logger "console;verbosity=minimal" --logger trx --results-directory "$results"
status=$?
# Last, once every test process has exited: the whole suite's logs against the test secrets.
dotnet test tests/LogScan.Tests -c Debug --no-build -nologo \
    --logger "console;verbosity=minimal" --logger trx --results-directory "$results" || status=1

# Count from the TRX files (one per test project): the console summary format varies.
passed=0; failed=0
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
    p=$(printf '%s' "$counters" | sed -nE 's/.* passed="([0-9]+)".*/\1/p')
    f=$(printf '%s' "$counters" | sed -nE 's/.* failed="([0-9]+)".*/\1/p')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
# The bench harness must not rot (issue 9): its smoke mode runs once the tests are done (alone, so
# neither disturbs the other) and counts as one test. SKIP_BENCH_SMOKE=1 leaves it out.
if [ -z "${SKIP_BENCH_SMOKE:-}" ]; then
    smoke_md="$results/bench-smoke.md"
    if SMOKE=1 BENCH_NO_INSTALL=1 BENCH_OUT="$PWD/$smoke_md" timeout 900 bash bench/compare/run.sh >"$results/bench-smoke.log" 2>&1 \
        && python3 scripts/check_bench_smoke.py "$smoke_md"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        tail -n 20 "$results/bench-smoke.log"
        echo "FAILED: bench smoke (make bench SMOKE=1; log in $results/bench-smoke.log)"
    fi
fi
# PouchDB's own integration suite through the gateway's CouchDB mount, compared test by test with
# the same suite straight at pouchdb-server (issue 23; scripts/pouchdb-suite/run.js): one test, run
# alone after the rest, with the Debug build made above. SKIP_POUCHDB_SUITE=1 leaves it out.
if [ -z "${SKIP_POUCHDB_SUITE:-}" ]; then
    suite_log="$results/pouchdb-suite.log"
    if GATEHOUSE_DLL="$PWD/src/Gatehouse/bin/Debug/net10.0/gatehouse.dll" bash scripts/pouchdb-suite/run.sh >"$suite_log" 2>&1; then
        passed=$((passed + 1))
        sed -n '/^| file /,/^$/p' "$suite_log"
    else
        failed=$((failed + 1))
        tail -n 60 "$suite_log"
        echo "FAILED: pouchdb-suite (make pouchdb-suite; log in $suite_log)"
    fi
fi

# Jupyter Notebook through the gateway in headless Chromium, with a client certificate and as a
# friend with a password (issue 19; scripts/browser/run.js): one test, run alone after the rest.
# Without chromium, jupyter-notebook or root it is SKIPPED (said below, not counted as passed);
# .ci/run sets BROWSER_TEST_REQUIRED=1 so that CI fails instead. SKIP_BROWSER_TEST=1 leaves it out.
skipped=()
if [ -z "${SKIP_BROWSER_TEST:-}" ]; then
    browser_log="$results/browser.log"
    GATEHOUSE_DLL="$PWD/src/Gatehouse/bin/Debug/net10.0/gatehouse.dll" bash scripts/browser/run.sh >"$browser_log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        grep -E '^browser: ([0-9]+ steps|screenshot)' "$browser_log"
    elif [ "$rc" -eq 77 ]; then
        skipped+=("browser test: $(grep -m1 -o 'lacks .*' "$browser_log")")
    else
        failed=$((failed + 1))
        tail -n 40 "$browser_log"
        echo "FAILED: browser test (make browser-test; log in $browser_log, screenshots and logs in .run/browser)"
    fi
fi

# Name each failed test last, where a truncated CI log still shows it.
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    grep -oE '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" \
        | sed -nE 's/.*testName="([^"]*)".*/FAILED: \1/p'
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the run failed without a counted test failure (crash, hang, build)
fi
for s in "${skipped[@]}"; do echo "SKIPPED: $s"; done
echo "tests: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
