// A Node `ws` client with a client certificate, for the interop and dead-peer tests.
// usage: node ws-client.cjs URL CERT KEY MODE   (MODE: echo | hold)
//   echo: sends large and fragmented messages, checks each echo, prints "ok" and closes (exit 0);
//   hold: prints "open" once connected and then waits (the test freezes it with SIGSTOP).
// The `ws` module path comes from GATEHOUSE_WS_MODULE (tools/node_modules/ws).
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const WebSocket = require(process.env.GATEHOUSE_WS_MODULE || 'ws');

const [url, certPath, keyPath, mode] = process.argv.slice(2);
const ws = new WebSocket(url, {
  cert: fs.readFileSync(certPath),
  key: fs.readFileSync(keyPath),
  rejectUnauthorized: false, // the test pins the server in the C# side; this peer only proves its key
  maxPayload: 64 * 1024 * 1024,
});

function fail(message) {
  process.stderr.write(message + '\n');
  process.exit(1);
}

ws.on('error', (e) => fail('error: ' + e.message));

ws.on('open', async () => {
  if (mode === 'hold') {
    process.stdout.write('open\n');
    return;
  }

  const received = [];
  let waiter = null;
  ws.on('message', (data, isBinary) => {
    received.push({ data, isBinary });
    if (waiter) { const w = waiter; waiter = null; w(); }
  });
  const next = () => new Promise((resolve) => {
    if (received.length) resolve(received.shift());
    else waiter = () => resolve(received.shift());
  });

  const big = crypto.randomBytes(3 * 1024 * 1024);
  ws.send(big, { binary: true });
  let m = await next();
  if (!m.isBinary || !Buffer.from(m.data).equals(big)) fail('large binary echo differs');

  // One text message in 5 fragments (fin: false until the last).
  const parts = ['frag-1 ', 'frag-2 ', 'ünïcödé ', 'x'.repeat(200000), ' end'];
  parts.forEach((p, i) => ws.send(p, { binary: false, fin: i === parts.length - 1 }));
  m = await next();
  if (m.isBinary || m.data.toString('utf8') !== parts.join('')) fail('fragmented text echo differs');

  ws.send('small', { binary: false });
  m = await next();
  if (m.data.toString('utf8') !== 'small') fail('small echo differs');

  ws.on('close', (code) => {
    process.stdout.write('ok ' + code + '\n');
    process.exit(code === 1000 ? 0 : 1);
  });
  ws.close(1000, 'done');
});
