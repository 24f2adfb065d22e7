// PouchDB replication as a local app on device A runs it through the peer link: plain HTTP to
// Gatehouse on loopback (no certificate; Gatehouse carries it to the peer over mutual TLS).
// usage: node replicate-http.js MODULES URL push|pull|live COUNT|DOC-ID
// push writes COUNT docs plus one with an attachment, then replicates them to URL.
'use strict';
const path = require('path');

const [, , modules, remoteUrl, mode, countText] = process.argv;
const PouchDB = require(path.join(modules, 'pouchdb'))
  .plugin(require(path.join(modules, 'pouchdb-adapter-memory')));

const remote = new PouchDB(remoteUrl, { skip_setup: true });
const local = new PouchDB('local-' + process.pid, { adapter: 'memory' });

async function main() {
  const count = parseInt(countText, 10);
  let result;
  if (mode === 'push') {
    const docs = [];
    for (let i = 0; i < count; i++) {
      docs.push({ _id: `peer-doc-${i}`, n: i });
    }
    docs.push({
      _id: 'with-attachment',
      _attachments: { 'note.txt': { content_type: 'text/plain', data: Buffer.from('through the peer link').toString('base64') } },
    });
    await local.bulkDocs(docs);
    result = await local.replicate.to(remote);
  } else if (mode === 'live') {
    // Continuous pull: say "ready" once caught up, then wait for the document named by COUNT.
    const want = countText;
    const rep = local.replicate.from(remote, { live: true, retry: false });
    let announced = false;
    rep.on('paused', () => {
      if (!announced) {
        announced = true;
        console.log('ready');
      }
    });
    rep.on('change', (info) => {
      if (info.docs.some((d) => d._id === want)) {
        console.log(JSON.stringify({ ok: true, seen: want }));
        rep.cancel();
        process.exit(0);
      }
    });
    rep.on('error', (err) => {
      console.log(JSON.stringify({ ok: false, status: err.status, reason: err.message }));
      process.exit(1);
    });
    return;
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
