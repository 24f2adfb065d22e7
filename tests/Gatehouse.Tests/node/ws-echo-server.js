// A WebSocket echo server built on the `ws` package (issue 5 tests): prints its port, then one
// JSON line per event. "server-close" asks it to close gracefully, "server-terminate" to drop the socket.
const path = process.argv[2];
const { WebSocketServer } = require(path);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 16 * 1024 * 1024 });
const log = (o) => console.log(JSON.stringify(o));
wss.on('listening', () => log({ port: wss.address().port }));
wss.on('connection', (ws, req) => {
  log({ event: 'open', principal: req.headers['x-gatehouse-principal'] || null, url: req.url });
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text === 'server-close') { ws.close(1000, 'bye'); return; }
    if (text === 'server-terminate') { ws.terminate(); return; }
    ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code) => log({ event: 'close', code }));
});
