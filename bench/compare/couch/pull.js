#!/usr/bin/env node
'use strict';
// The client of bench scenario 7: one PouchDB pull replication from a remote database into a fresh
// in-memory local PouchDB (pouchdb-adapter-memory), timed, then checked against seed.js's manifest.
// Reads one JSON object on stdin (secrets stay out of argv):
//   { "modules": ".../tools/node_modules", "url": "https://127.0.0.1:PORT/couch/bench-replicate",
//     "tls": {"cert","key","ca"} | null,   client certificate and the CA that signed the server's
//     "auth": {"username","password"} | null, Basic credentials (the direct run; a gateway injects its own)
//     "manifest": PATH }
// Prints one JSON line: seconds is the wall time of replicate.from() alone (the client's own CPU, which
// is in it, is reported as client_cpu_s); requests counts the HTTP requests it made, by kind. Exits 1
// when the replication reports errors or the local copy does not match the manifest.

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const { readStdinJson } = require('./stdin-json');

// What a request was for, by its path below the database: "_changes", "_bulk_get", "_local PUT",
// "attachment" (doc/name), "doc", or "db GET" (the database itself).
function kindOf(url, method, db) {
  const parts = new URL(url).pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const rest = parts.slice(parts.lastIndexOf(db) + 1);
  if (rest.length === 0) return `db ${method}`;
  if (rest[0] === '_local') return `_local ${method}`;
  if (rest[0].startsWith('_')) return rest[0];
  return rest.length === 1 ? 'doc' : 'attachment';
}

async function main() {
  const opt = await readStdinJson();
  const PouchDB = require(path.join(opt.modules, 'pouchdb'))
    .plugin(require(path.join(opt.modules, 'pouchdb-adapter-memory')));
  const manifest = JSON.parse(fs.readFileSync(opt.manifest, 'utf8'));

  const agent = opt.tls
    ? new https.Agent({ keepAlive: true, cert: fs.readFileSync(opt.tls.cert), key: fs.readFileSync(opt.tls.key),
      ca: fs.readFileSync(opt.tls.ca), servername: 'localhost' })
    : new http.Agent({ keepAlive: true });
  const requests = {};
  const remote = new PouchDB(opt.url, {
    skip_setup: true,
    auth: opt.auth || undefined,
    fetch: (url, init) => {
      const kind = kindOf(url, (init && init.method) || 'GET', manifest.db);
      requests[kind] = (requests[kind] || 0) + 1;
      return PouchDB.fetch(url, Object.assign({}, init, { agent }));
    },
  });
  const local = new PouchDB(`pull-${process.pid}-${Date.now()}`, { adapter: 'memory' });

  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = await local.replicate.from(remote);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);

  // Checked after the clock stopped: every document arrived, and every attachment's bytes hash to
  // the digest seed.js recorded for them.
  const problems = [];
  const failures = (result.errors || []).length + (result.doc_write_failures || 0);
  if (!result.ok || failures) problems.push(`replication: ok=${result.ok}, ${failures} failures`);
  const info = await local.info();
  if (info.doc_count !== manifest.docs) problems.push(`local has ${info.doc_count} documents, seeded ${manifest.docs}`);
  let checked = 0;
  for (const [id, want] of Object.entries(manifest.digests)) {
    const doc = await local.get(id);
    const stub = (doc._attachments || {})[manifest.attachment];
    const data = stub ? await local.getAttachment(id, manifest.attachment) : null;
    const got = data ? 'md5-' + crypto.createHash('md5').update(data).digest('base64') : null;
    if (!stub || stub.digest !== want || got !== want) {
      problems.push(`${id}: attachment digest ${got} (stub ${stub && stub.digest}), seeded ${want}`);
      if (problems.length > 5) break;
    } else {
      checked++;
    }
  }
  agent.destroy();
  const total = Object.values(requests).reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({
    ok: problems.length === 0, seconds, docs: info.doc_count, docs_written: result.docs_written,
    attachments_checked: checked, docs_per_s: info.doc_count / seconds,
    client_cpu_s: (cpu.user + cpu.system) / 1e6, requests: total, by_kind: requests, problems,
  }));
  process.exit(problems.length ? 1 : 0);
}

main().catch(err => {
  console.log(JSON.stringify({ ok: false, error: `${err.name}: ${err.message}`, status: err.status }));
  process.exit(1);
});
