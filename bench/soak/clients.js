// The soak's Node clients through the gateway, over mutual TLS, until SIGTERM:
//  - PouchDB replication: a local in-memory PouchDB pushes new documents (some with attachments)
//    to the remote database and another pulls them back, incrementally, in a loop;
//  - WebSocket echo through a proxy route with webSockets on: random text and binary messages,
//    each echo compared byte for byte; one session in five is cut at a random point (terminate).
// It prints JSON lines on stdout: {"type":"error","t":EPOCH_S,"kind":...,"status":...,"detail":...}
// at each failure and {"type":"stats",...} every 5 s and on SIGTERM; soak.py classifies the errors.
// usage: node clients.js MODULES BASE_URL DB CERT KEY CA REPLICATORS WS_CLIENTS
'use strict';
const path = require('path');
const fs = require('fs');
const https = require('https');
const crypto = require('crypto');

const [, , modules, base, dbName, cert, key, ca, replicatorsText, wsText] = process.argv;
const PouchDB = require(path.join(modules, 'pouchdb')).plugin(require(path.join(modules, 'pouchdb-adapter-memory')));
const WebSocket = require(path.join(modules, 'ws'));
const tls = { cert: fs.readFileSync(cert), key: fs.readFileSync(key), ca: fs.readFileSync(ca) };
// PouchDB's fetch (node-fetch 2.6.9) sometimes reports "Premature close" for a chunked answer that
// came whole: its check looks at the socket's 'data' listeners when the answer's 'close' fires, which
// Node 20's timing defeats (node-fetch/node-fetch#1576, #1767). So that the soak can tell such a false
// alarm from a body the gateway really cut, every socket's bytes are watched (emit is wrapped: no
// listener is added) and an error says whether its socket saw the chunked terminator.
// Each fetch gets its own agent (no keep-alive, so one connection per request, as before): the
// record of what its socket received belongs to that request alone. Keyed by path, two replicators
// asking the same _changes URL at once overwrote each other's record.
class WatchingAgent extends https.Agent {
  constructor(options) {
    super(options);
    this.seen = { bytes: 0, tail: Buffer.alloc(0), fin: false, sockets: 0 };
  }

  createConnection(options, callback) {
    const socket = super.createConnection(options, callback);
    const seen = this.seen;
    seen.sockets++;
    const emit = socket.emit;
    socket.emit = function (event, ...args) {
      if (event === 'data') {
        seen.bytes += args[0].length;
        seen.tail = Buffer.concat([seen.tail, args[0]]).subarray(-16);
      } else if (event === 'end') {
        seen.fin = true;
      }
      return emit.call(this, event, ...args);
    };
    return socket;
  }
}
const watchedFetch = (url, opts) => {
  const agent = new WatchingAgent(Object.assign({ keepAlive: false }, tls));
  return PouchDB.fetch(url, Object.assign({}, opts, { agent })).then(
    (response) => {
      // node-fetch reads the body later; errors then come from response.json()/text(): wrap them too.
      for (const method of ['json', 'text', 'blob', 'buffer', 'arrayBuffer']) {
        if (typeof response[method] === 'function') {
          const read = response[method].bind(response);
          response[method] = () => read().catch((err) => { err.soakSeen = agent.seen; throw err; });
        }
      }
      return response;
    },
    (err) => { err.soakSeen = agent.seen; throw err; });
};

const stats = {
  type: 'stats', replications: 0, docs_pushed: 0, docs_pulled: 0, ws_sessions: 0, ws_messages: 0,
  ws_bytes: 0, ws_aborts: 0, errors: 0,
};
let stopping = false;

function error(kind, status, detail) {
  if (stopping) return;
  stats.errors++;
  console.log(JSON.stringify({ type: 'error', t: Date.now() / 1000, kind, status: status || 0, detail: String(detail).slice(0, 400) }));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function remote() {
  return new PouchDB(base + '/couch/' + dbName, {
    skip_setup: true,
    fetch: watchedFetch,
  });
}

async function replicator(id) {
  const pusher = new PouchDB(`push-${id}-${process.pid}`, { adapter: 'memory' });
  const puller = new PouchDB(`pull-${id}-${process.pid}`, { adapter: 'memory' });
  const db = remote();
  let n = 0;
  while (!stopping) {
    const docs = [];
    for (let i = 0; i < 10; i++, n++) {
      const doc = { _id: `r${id}-${process.pid}-${n}`, n, text: crypto.randomBytes(200).toString('base64') };
      if (n % 7 === 0) {
        doc._attachments = { 'blob.bin': { content_type: 'application/octet-stream', data: crypto.randomBytes(1024 + Math.floor(Math.random() * 64 * 1024)).toString('base64') } };
      }
      docs.push(doc);
    }
    try {
      await pusher.bulkDocs(docs);
      const pushed = await pusher.replicate.to(db);
      const failures = (pushed.errors || []).length + (pushed.doc_write_failures || 0);
      if (!pushed.ok || failures) throw Object.assign(new Error(`push: ${failures} failures ${JSON.stringify(pushed.errors || [])}`), { status: 0 });
      stats.docs_pushed += pushed.docs_written;
      const pulled = await puller.replicate.from(db);
      if (!pulled.ok || (pulled.errors || []).length) throw Object.assign(new Error(`pull: ${JSON.stringify(pulled.errors)}`), { status: 0 });
      stats.docs_pulled += pulled.docs_written;
      // The documents just pushed must have come back, attachments included.
      const check = await puller.get(docs[0]._id, { attachments: true, binary: false }).catch(() => null);
      if (!check || check.text !== docs[0].text ||
          (docs[0]._attachments && check._attachments['blob.bin'].data !== docs[0]._attachments['blob.bin'].data)) {
        // After a backend restart the remote starts empty and the puller's checkpoint may be ahead: only a fault when found missing outside a restart (soak.py decides).
        error('replication-verify', 0, `${docs[0]._id} did not come back by pull replication`);
      }
      stats.replications++;
    } catch (err) {
      const cut = /fetch (https:\/\/\S+): Premature close/.exec(err.message || '');
      const seen = cut && err.soakSeen;
      if (seen && seen.tail.toString('latin1').endsWith('\r\n0\r\n\r\n')) {
        // The whole chunked answer, terminator included, reached the socket: node-fetch's false alarm.
        error('node-fetch false premature close', 0, `${cut[1]}: socket received ${seen.bytes} bytes ending in the chunked terminator (fin ${seen.fin})`);
      } else {
        error('replication', err.status, `${err.name || ''} ${err.message || err}` +
          (seen ? ` [socket received ${seen.bytes} bytes, tail ${JSON.stringify(seen.tail.toString('latin1'))}, fin ${seen.fin}]` : ''));
        if (cut) await diagnose(cut[1]);
      }
      await sleep(1000);
    }
    await sleep(500 + Math.random() * 1000);
  }
}

// A body cut short: ask for the same URL again on a fresh connection and say what came back.
function diagnose(url) {
  return new Promise((resolve) => {
    const req = https.get(url, Object.assign({ headers: { Accept: 'application/json', 'Accept-Encoding': 'gzip, deflate' } }, tls), (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      const say = (how) => {
        console.log(JSON.stringify({ type: 'diagnose', t: Date.now() / 1000, url, status: res.statusCode, headers: res.headers, bytes, how }));
        resolve();
      };
      res.on('end', () => say('end'));
      res.on('aborted', () => say('aborted'));
      res.on('error', (e) => say('error ' + e.message));
    });
    req.on('error', (e) => { console.log(JSON.stringify({ type: 'diagnose', url, how: 'request error ' + e.message })); resolve(); });
    req.setTimeout(30000, () => req.destroy(new Error('timeout')));
  });
}

function wsSession() {
  return new Promise((resolve) => {
    const socket = new WebSocket(base.replace(/^https/, 'wss') + '/ws/echo', Object.assign({ maxPayload: 16 * 1024 * 1024 }, tls));
    const total = 1 + Math.floor(Math.random() * 40);
    const abortAt = Math.random() < 0.2 ? Math.floor(Math.random() * total) : -1;
    let sent = 0;
    let expected = null;
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(); } };
    const next = () => {
      if (sent === abortAt) {
        stats.ws_aborts++;
        // Cut at a random point: sometimes with a message half on its way.
        if (Math.random() < 0.5) socket.send(crypto.randomBytes(32 * 1024));
        socket.terminate();
        finish();
        return;
      }
      if (sent === total) {
        socket.close(1000, 'done');
        return;
      }
      const binary = Math.random() < 0.5;
      const size = Math.random() < 0.1 ? 64 * 1024 + Math.floor(Math.random() * 256 * 1024) : Math.floor(Math.random() * 2048);
      expected = binary ? crypto.randomBytes(size) : Buffer.from(crypto.randomBytes(Math.ceil(size / 2)).toString('hex').slice(0, size));
      expected.binary = binary;
      sent++;
      socket.send(expected, { binary });
    };
    socket.on('open', () => { stats.ws_sessions++; next(); });
    socket.on('message', (data, isBinary) => {
      if (!expected || isBinary !== expected.binary || !Buffer.from(data).equals(expected)) {
        error('ws-echo', 0, `echo differs: got ${data.length} bytes (binary ${isBinary}), sent ${expected && expected.length}`);
        socket.terminate();
        finish();
        return;
      }
      stats.ws_messages += 2;
      stats.ws_bytes += 2 * data.length;
      expected = null;
      next();
    });
    socket.on('unexpected-response', (req, res) => {
      error('ws-upgrade', res.statusCode, `upgrade answered ${res.statusCode}`);
      req.destroy();
      finish();
    });
    socket.on('close', (code) => {
      if (!done && (code !== 1000 || sent !== total)) error('ws-close', code, `closed with ${code} after ${sent}/${total} messages`);
      finish();
    });
    socket.on('error', (err) => { error('ws', 0, err.message); finish(); });
  });
}

async function wsClient() {
  while (!stopping) {
    await wsSession();
    await sleep(100 + Math.random() * 400);
  }
}

setInterval(() => console.log(JSON.stringify(stats)), 5000);
process.on('SIGTERM', () => {
  stopping = true;
  console.log(JSON.stringify(stats));
  process.exit(0);
});
for (let i = 0; i < Number(replicatorsText); i++) replicator(i);
for (let i = 0; i < Number(wsText); i++) wsClient();
