// The soak's WebSocket backend: echoes every message back as it came (text stays text, binary
// stays binary). usage: node ws-echo.js MODULES PORT
'use strict';
const path = require('path');
const [, , modules, port] = process.argv;
const { WebSocketServer } = require(path.join(modules, 'ws'));

const server = new WebSocketServer({ host: '127.0.0.1', port: Number(port), maxPayload: 16 * 1024 * 1024 });
server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  socket.on('error', () => {});
});
server.on('listening', () => console.log('listening'));
process.on('SIGTERM', () => process.exit(0));
