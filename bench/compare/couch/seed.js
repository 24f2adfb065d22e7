#!/usr/bin/env node
'use strict';
// Seeds pouchdb-server for bench scenario 7 (CouchDB pull), once per harness run, untimed.
// Reads one JSON object on stdin (secrets stay out of argv):
//   { "url": "http://127.0.0.1:PORT/", "admin": {"username","password"}, "user": {"username","password"},
//     "attachmentBytes": 102400,
//     "dbs": [ { "name": "bench-replicate", "docs": 10000, "attachments": 100, "manifest": PATH }, ... ] }
// Makes the server admin (the server starts in admin party), a non-admin user who is each database's
// only member, and each database: `docs` JSON documents of about 1 KB, of which `attachments`, evenly
// spread, also carry one binary attachment of `attachmentBytes` random bytes. Writes to `manifest`
// what the pull client checks afterwards: the document count and each attachment's MD5 digest.
// Prints one JSON line {"ok":true,...} when done.

const crypto = require('crypto');
const fs = require('fs');
const { readStdinJson } = require('./stdin-json');

const BATCH = 500;

function basic(cred) {
  return 'Basic ' + Buffer.from(`${cred.username}:${cred.password}`).toString('base64');
}

async function call(url, method, body, auth) {
  const headers = { 'Content-Type': 'application/json' };
  if (auth) headers.Authorization = basic(auth);
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${new URL(url).pathname}: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

// About 1 KB of JSON per document, like a media library's record: fixed fields plus hex filler.
function makeDoc(i) {
  const filler = crypto.createHash('sha512').update(`doc-${i}`).digest('hex');
  return {
    _id: `doc-${String(i).padStart(6, '0')}`,
    type: 'dmedia/file',
    n: i,
    time: 1767225600 + i,
    bytes: 1000000 + i * 17,
    origin: 'user',
    name: `IMG_${String(i).padStart(5, '0')}.CR2`,
    tags: ['bench', i % 2 ? 'odd' : 'even', `group-${i % 37}`],
    stored: { 'store-a': { copies: 1, mtime: 1767225600 + i }, 'store-b': { copies: 2, mtime: 1767225700 + i } },
    notes: filler.repeat(6).slice(0, 760),
  };
}

async function seedDatabase(base, admin, user, spec, attachmentBytes) {
  const db = `${base}${spec.name}`;
  await call(db, 'PUT', undefined, admin);
  await call(`${db}/_security`, 'PUT',
    { admins: { names: [], roles: [] }, members: { names: [user.username], roles: [] } }, admin);

  const every = spec.attachments > 0 ? Math.floor(spec.docs / spec.attachments) : 0;
  const digests = {};
  let docBytes = 0;
  let withAttachment = 0;
  for (let start = 0; start < spec.docs; start += BATCH) {
    const docs = [];
    for (let i = start; i < Math.min(spec.docs, start + BATCH); i++) {
      const doc = makeDoc(i);
      docBytes += JSON.stringify(doc).length;
      if (every && i % every === every - 1 && withAttachment < spec.attachments) {
        const data = crypto.randomBytes(attachmentBytes);
        doc._attachments = { 'preview.bin': { content_type: 'application/octet-stream', data: data.toString('base64') } };
        digests[doc._id] = 'md5-' + crypto.createHash('md5').update(data).digest('base64');
        withAttachment++;
      }
      docs.push(doc);
    }
    const results = await call(`${db}/_bulk_docs`, 'POST', { docs }, admin);
    const failed = results.filter(r => !r.ok);
    if (failed.length) throw new Error(`_bulk_docs: ${failed.length} failed, first: ${JSON.stringify(failed[0])}`);
  }
  const info = await call(db, 'GET', undefined, admin);
  if (info.doc_count !== spec.docs) throw new Error(`${spec.name}: seeded ${info.doc_count} documents, wanted ${spec.docs}`);
  fs.writeFileSync(spec.manifest, JSON.stringify({ db: spec.name, docs: spec.docs, attachment: 'preview.bin', digests }));
  return { name: spec.name, docs: spec.docs, attachments: withAttachment, mean_doc_bytes: Math.round(docBytes / spec.docs) };
}

async function main() {
  const opt = await readStdinJson();
  const base = opt.url.replace(/\/?$/, '/');
  // Admin party until the first admin exists.
  await call(`${base}_config/admins/${opt.admin.username}`, 'PUT', opt.admin.password);
  await call(`${base}_users/org.couchdb.user:${opt.user.username}`, 'PUT',
    { _id: `org.couchdb.user:${opt.user.username}`, name: opt.user.username, password: opt.user.password, roles: [], type: 'user' },
    opt.admin);
  const seeded = [];
  for (const spec of opt.dbs) {
    seeded.push(await seedDatabase(base, opt.admin, opt.user, spec, opt.attachmentBytes));
  }
  console.log(JSON.stringify({ ok: true, attachment_bytes: opt.attachmentBytes, dbs: seeded }));
}

main().catch(err => {
  console.log(JSON.stringify({ ok: false, error: err.message }));
  process.exit(1);
});
