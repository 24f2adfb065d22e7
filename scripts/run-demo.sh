#!/usr/bin/env bash
# `make run`: builds Gatehouse, creates a demo identity under .run/demo (once), starts an
# in-memory pouchdb-server on loopback (when the Node tools are installed) and Gatehouse in
# front of it on a free port, then prints curl commands that reach both. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=.run/demo
# A first start restores and compiles (a minute or more on a small machine): say so, and show the
# build's own errors if it fails rather than going quiet.
mkdir -p .run
echo "make run: building Gatehouse (Release) into .run/bin; the first build takes a minute or two" >&2
dotnet build src/Gatehouse -c Release -nologo -v quiet -o .run/bin >.run/build.log 2>&1 || { cat .run/build.log >&2; exit 1; }
if [ ! -f "$demo/gatehouse.json" ]; then
    dotnet .run/bin/gatehouse.dll init "$demo" --no-passphrase --name localhost >/dev/null
fi

pids=()
fifo=$(mktemp -u)
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -f "$fifo"
}
trap cleanup EXIT INT TERM

# CouchDB: pouchdb-server in memory on a free loopback port, a limited "device" user and a database.
if [ ! -x tools/node_modules/.bin/pouchdb-server ]; then
    echo "make run: installing pouchdb-server into tools/node_modules (once, about a minute)" >&2
    make -s tools >/dev/null 2>&1 || true
fi
couch_port=""
if [ -x tools/node_modules/.bin/pouchdb-server ]; then
    echo "make run: starting pouchdb-server in memory" >&2
    couch_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    # pouchdb-server keeps its admin in config.json in its folder: start from a clean one each run.
    rm -rf "$demo/couch" && mkdir -p "$demo/couch"
    (cd "$demo/couch" && exec ../../../tools/node_modules/.bin/pouchdb-server --in-memory --host 127.0.0.1 --port "$couch_port" >couch.log 2>&1) &
    pids+=($!)
    for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$couch_port/" >/dev/null && break; sleep 0.1; done
    admin_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    device_pw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    # Passwords go to curl on stdin (-K -), never in argv where other users could see them.
    as_admin() { printf 'user = "admin:%s"\n' "$admin_pw" | curl -s -K - "$@" >/dev/null; }
    printf 'data = "\\"%s\\""\n' "$admin_pw" | curl -s -K - -X PUT "http://127.0.0.1:$couch_port/_config/admins/admin" >/dev/null
    printf 'data = "{\\"name\\":\\"device\\",\\"password\\":\\"%s\\",\\"roles\\":[],\\"type\\":\\"user\\"}"\nuser = "admin:%s"\n' "$device_pw" "$admin_pw" \
        | curl -s -K - -X PUT "http://127.0.0.1:$couch_port/_users/org.couchdb.user:device" -H 'Content-Type: application/json' >/dev/null
    as_admin -X PUT "http://127.0.0.1:$couch_port/dmedia-0"
    as_admin -X PUT "http://127.0.0.1:$couch_port/dmedia-0/_security" \
        -H 'Content-Type: application/json' -d '{"admins":{"names":[],"roles":[]},"members":{"names":["device"],"roles":[]}}'
    as_admin -X PUT "http://127.0.0.1:$couch_port/dmedia-0/hello" \
        -H 'Content-Type: application/json' -d '{"greeting":"hello through the gate"}'
    # The demo config: the starter one plus the CouchDB mount for the user's devices.
    python3 - "$demo" <<'PY'
import json, re, sys
demo = sys.argv[1]
text = re.sub(r'^\s*//.*$', '', open(f"{demo}/gatehouse.json").read(), flags=re.M)
config = json.loads(text)
config["routes"].append({"kind": "couchdb", "prefix": "/couch/"})
config["rules"][0]["couchdb"] = {"databases": ["*"], "allow": ["pull", "push", "read", "write"]}
json.dump(config, open(f"{demo}/demo-couch.json", "w"), indent=2)
PY
    config="$demo/demo-couch.json"
    env_json="{\"couchdb\":{\"url\":\"http://127.0.0.1:$couch_port/\",\"credentials\":{\"device\":{\"username\":\"device\",\"password\":\"$device_pw\"}}}}"
else
    echo "(Node tools not installed: starting without CouchDB; run 'make tools' for the full demo)" >&2
    config="$demo/gatehouse.json"
    env_json="{}"
fi

mkfifo "$fifo"
printf '%s' "$env_json" | dotnet .run/bin/gatehouse.dll serve --config "$config" --env-stdin >"$fifo" &
pids+=($!)
exec 3<"$fifo"
read -r ready <&3 || { echo "gatehouse did not start" >&2; exit 1; }
port=$(printf '%s' "$ready" | sed -E 's/.*"port":([0-9]+).*/\1/')
pin=$(printf '%s' "$ready" | sed -E 's/.*"pin":"([^"]+)".*/\1/')
tls="--cacert $demo/ca.crt --cert $demo/client.crt --key $demo/client.key"
echo "demo file $(date)" > "$demo/demo.txt"
id=$(sha256sum "$demo/demo.txt" | cut -c1-64)
cat <<MSG

Gatehouse is listening on port $port (all addresses, IPv4 and IPv6). Its key pin: $pin
Try it with the demo client certificate:

  curl $tls https://localhost:$port/_gatehouse/whoami

or trust the server by its key instead of the CA:

  curl -k --pinnedpubkey '$pin' --cert $demo/client.crt --key $demo/client.key https://localhost:$port/_gatehouse/whoami

Files (a file's name is its SHA-256):

  curl $tls -T $demo/demo.txt https://localhost:$port/files/$id
  curl $tls https://localhost:$port/files/$id
MSG
if [ -n "$couch_port" ]; then
cat <<MSG

CouchDB behind the gate (pouchdb-server on 127.0.0.1:$couch_port, reached only through Gatehouse):

  curl $tls https://localhost:$port/couch/dmedia-0/hello
  curl $tls https://localhost:$port/couch/_config      # refused: admin endpoints are closed
MSG
fi
echo
echo "Press Ctrl-C to stop."
cat <&3 >/dev/null &
wait "${pids[-1]}"
