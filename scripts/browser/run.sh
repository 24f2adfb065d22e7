#!/usr/bin/env bash
# `make browser-test`: Jupyter Notebook through the gateway in headless Chromium, with a client
# certificate and as a friend with a password (run.js says how). GATEHOUSE_DLL names an already built
# gatehouse.dll (scripts/test.sh passes its Debug build); without it the gateway is built here.
# Exits 0 when it passed, 77 when this machine cannot run it (it says what is missing), else 1.
# BROWSER_TEST_REQUIRED=1 (set by .ci/run as root) turns a skip into a failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ ! -f tools/node_modules/puppeteer-core/package.json ]; then
    echo "browser: the Node tools are missing; run 'make tools'" >&2
    exit 1
fi
if [ -z "${GATEHOUSE_DLL:-}" ]; then
    dotnet build src/Gatehouse -c Release -nologo -v quiet -o .run/browser-bin >/dev/null || exit 1
    export GATEHOUSE_DLL="$PWD/.run/browser-bin/gatehouse.dll"
fi
# A bound on the whole run (about 50 s once the packages are installed); run.js has its own at
# 150 s, and on SIGTERM it removes its certificate policy and ends what it started. Should it die
# outright, the sweep below does the same: every process it started carries this run's mark in its
# environment, and the policy file is named after it.
run_id="sh$$-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
sweep() {
    if [ -f "/etc/chromium/policies/managed/gatehouse-browser-test-$run_id.json" ]; then
        rm -f "/etc/chromium/policies/managed/gatehouse-browser-test-$run_id.json"
        rmdir /etc/chromium/policies/managed /etc/chromium/policies 2>/dev/null # when empty
    fi
    local pids
    pids=$(grep -lsxzF "GATEHOUSE_BROWSER_RUN=$run_id" /proc/[0-9]*/environ | cut -d/ -f3 | grep -vx "$$" | tr '\n' ' ')
    if [ -n "$pids" ]; then
        echo "browser: ending processes the run left behind: $pids"
        kill -KILL $pids 2>/dev/null
    fi
}
trap sweep EXIT
trap 'exit 1' INT TERM HUP
GATEHOUSE_BROWSER_RUN="$run_id" timeout 240 node scripts/browser/run.js
rc=$?
if [ "$rc" = 77 ] && [ "${BROWSER_TEST_REQUIRED:-}" = 1 ]; then
    echo "browser: FAILED: BROWSER_TEST_REQUIRED=1 but the test could not run (see above)"
    exit 1
fi
exit "$rc"
