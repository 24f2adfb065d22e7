// The PouchDB side of the cable test (issue 21 item 3), run inside one device's network namespace.
// usage: node cable.js MODULES setup PORT DB
//        node cable.js MODULES push PORT DB PREFIX COUNT REMOTE-URL
//        node cable.js MODULES digests PORT DB
// setup: waits for this device's pouchdb-server, makes its admin, the "peer" user and DB (members: peer).
// push: writes COUNT docs PREFIX-NNNN, each with an attachment whose bytes follow from its id, into the
//       local DB, then replicates them to REMOTE-URL (the gateway's peer link, plain HTTP on loopback).
// digests: every doc's attachment as stored: the server's digest and the MD5 of the bytes read back.
// Passwords come from the environment (CABLE_ADMIN_PASSWORD, CABLE_PEER_PASSWORD). Prints one JSON line.
'use strict';
const path = require('path');
const crypto = require('crypto');

const [, , modules, command, port, db, ...rest] = process.argv;
const PouchDB = require(path.join(modules, 'pouchdb'));
const admin = { username: 'admin', password: process.env.CABLE_ADMIN_PASSWORD };
const base = `http://127.0.0.1:${port}/`;
const authorization = 'Basic ' + Buffer.from(`${admin.username}:${admin.password}`).toString('base64');

function attachmentOf(id) {
  // 1 KiB that only this id has; the test computes the same bytes to check the digest.
  return Buffer.from(crypto.createHash('sha256').update(id).digest('hex').repeat(16));
}

async function call(method, url, body, auth = true) {
  const headers = { 'content-type': 'application/json' };
  if (auth) headers.authorization = authorization;
  const response = await fetch(base + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function setup() {
  const deadline = Date.now() + 60000;
  for (;;) {
    try {
      await fetch(base);
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100)); // polling the port, bounded by the deadline
    }
  }
  await call('PUT', '_config/admins/admin', admin.password, false);
  await call('PUT', '_users/org.couchdb.user:peer', { _id: 'org.couchdb.user:peer', name: 'peer', password: process.env.CABLE_PEER_PASSWORD, roles: [], type: 'user' });
  await call('PUT', db);
  await call('PUT', `${db}/_security`, { admins: { names: [], roles: [] }, members: { names: ['peer'], roles: [] } });
  return { ok: true };
}

async function push(prefix, count, remoteUrl) {
  const local = new PouchDB(base + db, { auth: admin, skip_setup: true });
  const docs = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${String(i).padStart(4, '0')}`;
    docs.push({ _id: id, n: i, _attachments: { 'part.bin': { content_type: 'application/octet-stream', data: attachmentOf(id).toString('base64') } } });
  }
  const written = await local.bulkDocs(docs);
  const refused = written.filter((r) => r.error);
  if (refused.length > 0) throw new Error(`local write refused ${refused.length} docs: ${JSON.stringify(refused[0])}`);
  const remote = new PouchDB(remoteUrl, { skip_setup: true });
  const started = Date.now();
  const result = await local.replicate.to(remote, { batch_size: 250 }); // fewer round trips through two gateways
  const failures = (result.errors || []).length + (result.doc_write_failures || 0);
  return { ok: result.ok && failures === 0, docs_written: result.docs_written, failures, ms: Date.now() - started };
}

async function digests() {
  const local = new PouchDB(base + db, { auth: admin, skip_setup: true });
  const all = await local.allDocs({ include_docs: true, attachments: true, binary: true });
  const docs = {};
  for (const row of all.rows) {
    const part = (row.doc._attachments || {})['part.bin'];
    docs[row.id] = part ? { digest: part.digest, md5: 'md5-' + crypto.createHash('md5').update(part.data).digest('base64') } : null;
  }
  return { ok: true, count: all.rows.length, docs };
}

async function main() {
  if (command === 'setup') return setup();
  if (command === 'push') return push(rest[0], parseInt(rest[1], 10), rest[2]);
  if (command === 'digests') return digests();
  throw new Error('unknown command ' + command);
}

// Exit only once the line is written: a pipe takes 64 KiB at a time, and the digests are more.
function finish(result) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

main().then(finish, (err) => finish({ ok: false, status: err.status, error: err.name, reason: err.message }));
