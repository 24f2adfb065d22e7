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
# Name each failed test last, where a truncated CI log still shows it.
for trx in "$results"/*.trx; do
    [ -f "$trx" ] || continue
    grep -oE '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" \
        | sed -nE 's/.*testName="([^"]*)".*/FAILED: \1/p'
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the run failed without a counted test failure (crash, hang, build)
fi
echo "tests: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
