#!/usr/bin/env bash
# Builds and runs every test project, then prints one line: "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Gatehouse.slnx -c Debug -nologo -v minimal || { echo "tests: 0 passed, 1 failed"; exit 1; }
# A hung test must not hang CI: blame-hang kills it and reports which one.
dotnet test Gatehouse.slnx -c Debug --no-build -nologo \
    --blame-hang-timeout 5m --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=0; failed=0
while read -r f p; do
    failed=$((failed + f)); passed=$((passed + p))
done < <(sed -nE 's/.*(Passed|Failed)!.*Failed: *([0-9]+), Passed: *([0-9]+).*/\2 \3/p' "$log")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1 # the run failed without a counted test failure (crash, hang, build)
fi
echo "tests: $passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
