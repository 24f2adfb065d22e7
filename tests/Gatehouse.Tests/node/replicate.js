// PouchDB replication through Gatehouse, as a device or peer app would run it: a local
// in-memory PouchDB replicating with a remote database over mutual TLS.
// usage: node replicate.js MODULES URL CERT KEY CA push|pull COUNT
'use strict';
const path = require('path');
const fs = require('fs');
const https = require('https');

const [, , modules, remoteUrl, cert, key, ca, mode, countText] = process.argv;
const PouchDB = require(path.join(modules, 'pouchdb'))
  .plugin(require(path.join(modules, 'pouchdb-adapter-memory')));

const agent = new https.Agent({
  cert: fs.readFileSync(cert),
  key: fs.readFileSync(key),
  ca: fs.readFileSync(ca),
  keepAlive: true,
});
const remote = new PouchDB(remoteUrl, {
  skip_setup: true,
  fetch: (url, opts) => PouchDB.fetch(url, Object.assign({}, opts, { agent })),
});
const local = new PouchDB('local-' + process.pid, { adapter: 'memory' });

async function main() {
  const count = parseInt(countText, 10);
  let result;
  if (mode === 'push') {
    const docs = [];
    for (let i = 0; i < count; i++) {
      docs.push({ _id: `pushed-${process.pid}-${i}`, n: i });
    }
    await local.bulkDocs(docs);
    result = await local.replicate.to(remote);
  } else {
    result = await local.replicate.from(remote);
  }
  const failures = (result.errors || []).length + (result.doc_write_failures || 0);
  console.log(JSON.stringify({ ok: result.ok && failures === 0, docs_written: result.docs_written, failures }));
  process.exit(result.ok && failures === 0 ? 0 : 1);
}

main().catch((err) => {
  console.log(JSON.stringify({ ok: false, status: err.status, error: err.name, reason: err.message }));
  process.exit(1);
});
