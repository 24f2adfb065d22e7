#!/usr/bin/env bash
# `make run`: builds Gatehouse, creates a demo identity under .run/demo (once), starts the
# gateway on a free port and prints a curl command that reaches it. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
demo=.run/demo
dotnet build src/Gatehouse -c Release -nologo -v quiet -o .run/bin >/dev/null
if [ ! -f "$demo/gatehouse.json" ]; then
    dotnet .run/bin/gatehouse.dll init "$demo" --no-passphrase --name localhost >/dev/null
fi

fifo=$(mktemp -u)
mkfifo "$fifo"
dotnet .run/bin/gatehouse.dll serve --config "$demo/gatehouse.json" >"$fifo" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$fifo"' EXIT INT TERM
exec 3<"$fifo"
read -r ready <&3 || { echo "gatehouse did not start" >&2; exit 1; }
port=$(printf '%s' "$ready" | sed -E 's/.*"port":([0-9]+).*/\1/')
pin=$(printf '%s' "$ready" | sed -E 's/.*"pin":"([^"]+)".*/\1/')
cat <<MSG

Gatehouse is listening on port $port (all addresses, IPv4 and IPv6). Its key pin: $pin
Try it with the demo client certificate:

  curl --cacert $demo/ca.crt --cert $demo/client.crt --key $demo/client.key https://localhost:$port/_gatehouse/whoami

or trust the server by its key instead of the CA:

  curl -k --pinnedpubkey '$pin' --cert $demo/client.crt --key $demo/client.key https://localhost:$port/_gatehouse/whoami

Press Ctrl-C to stop.
MSG
cat <&3 >/dev/null &
wait $server
