#!/usr/bin/env bash
# `make pouchdb-suite`: PouchDB's own integration suite (../shared/pouchdb-suite) through the real
# gateway's CouchDB mount and straight at pouchdb-server, compared test by test (run.js says how).
# GATEHOUSE_DLL names an already built gatehouse.dll (scripts/test.sh passes its Debug build);
# without it the gateway is built here. POUCHDB_SUITE_FILES=a,b picks files (for both runs).
# Ends with "pouchdb-suite: ok" or exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f tools/node_modules/mocha/bin/mocha.js ] || { echo "pouchdb-suite: the Node tools are missing; run 'make tools'" >&2; exit 1; }
if [ -z "${GATEHOUSE_DLL:-}" ]; then
    dotnet build src/Gatehouse -c Release -nologo -v quiet -o .run/pouchdb-suite-bin >/dev/null
    export GATEHOUSE_DLL="$PWD/.run/pouchdb-suite-bin/gatehouse.dll"
fi
# A bound on each run (the full key's takes about 3 minutes on a busy 2-core machine, the restricted
# key's second run about one); on SIGTERM run.js ends the gateways and pouchdb-servers it started.
timeout 600 node scripts/pouchdb-suite/run.js
timeout 300 node scripts/pouchdb-suite/run.js --restricted
echo "pouchdb-suite: ok"
