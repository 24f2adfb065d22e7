// A Node `ws` echo server behind TLS (https.createServer with requestCert), for the Gatehouse client.
// usage: node ws-server.cjs CERT KEY CA  -> prints {"port": N} once listening on 127.0.0.1.
// Refuses connections whose client certificate does not chain to CA (so "no certificate" fails too).
'use strict';
const fs = require('fs');
const https = require('https');
const { WebSocketServer } = require(process.env.GATEHOUSE_WS_MODULE || 'ws');

const [certPath, keyPath, caPath] = process.argv.slice(2);
const server = https.createServer({
  cert: fs.readFileSync(certPath),
  key: fs.readFileSync(keyPath),
  ca: fs.readFileSync(caPath),
  requestCert: true,
  rejectUnauthorized: true,
});
const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024 });
wss.on('connection', (ws, req) => {
  const peer = req.socket.getPeerCertificate();
  ws.send('hello ' + (peer && peer.subject ? peer.subject.CN : '?'));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', () => {});
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
