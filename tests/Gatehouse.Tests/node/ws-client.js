// A `ws` client with a client certificate (issue 5 tests): echoes a text and a 1 MiB binary
// message through the gateway, then ends the way `mode` says and prints one JSON result line.
const [, , wsPath, url, ca, cert, key, mode] = process.argv;
const fs = require('fs');
const crypto = require('crypto');
const WebSocket = require(wsPath);
const result = { mode };
const ws = new WebSocket(url, { ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key), maxPayload: 16 * 1024 * 1024 });
const inbox = [];
let waiting = null;
ws.on('message', (data, isBinary) => {
  if (waiting) { const w = waiting; waiting = null; w({ data, isBinary }); } else { inbox.push({ data, isBinary }); }
});
const next = () => new Promise((resolve) => { if (inbox.length) resolve(inbox.shift()); else waiting = resolve; });
ws.on('open', async () => {
  ws.send('hello');
  const hello = await next();
  result.hello = hello.data.toString();
  const big = crypto.randomBytes(1024 * 1024);
  ws.send(big);
  const echo = await next();
  result.big = echo.isBinary && Buffer.compare(echo.data, big) === 0;
  result.openedAt = Date.now();
  if (mode === 'client-close') ws.close(1000, 'done');
  else if (mode === 'client-terminate') ws.terminate();
  else if (mode === 'server-close' || mode === 'server-terminate') ws.send(mode);
  // 'idle': send nothing and wait for the gateway's idle timeout.
});
ws.on('close', (code) => {
  result.closeCode = code;
  result.closedAfterMs = Date.now() - (result.openedAt || Date.now());
  console.log(JSON.stringify(result));
  process.exit(0);
});
ws.on('error', (e) => { result.error = e.message; console.log(JSON.stringify(result)); process.exit(1); });
