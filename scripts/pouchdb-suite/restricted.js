'use strict';
// The second run of PouchDB's suite (issue 23 item 3): a key without the classes that run or write
// design code or touch the server (design, query, maintain, replicate), through the gate only on
// the tests that reach those classes. `run.js --restricted` runs it and judges it here: the
// gateway's refusals (its access log) must be exactly REFUSALS, and every test that passes straight
// at pouchdb-server and fails through the gate must be one of FAILURES, failing for its refusal.
//
// pull and push alone would fail every test at PUT /db (the suite creates its databases) and at
// db.put: the key keeps what a device had before issue 23 (pull, push, read, write, create) and
// delete, which every test's clean-up needs (db.destroy()).
const ALLOW = ['pull', 'push', 'read', 'write', 'create', 'delete'];

// The http adapter's suites, as run.js's full run greps them.
const ADAPTER = 'js-(local-)?http|js- (local:)?http';
const only = titles => `^(?=.*(?:${ADAPTER}))(?=.*(?:${titles}))`;

// Files and the tests in them that reach a refused class, and the allowed changes filters beside
// them (_doc_ids, _selector pass with pull alone). Tests that time out directly too are left out.
const UNITS = [
  { file: 'design_docs', name: 'design_docs', grep: only('.') },
  { file: 'changes', name: 'changes', grep: `${only('ddoc|view|_doc_ids|selector')}(?!.*(?:not present in ddoc|#4451|missing param))` },
  { file: 'attachments', name: 'attachments', grep: only('#2818|#8456') },
];

// Every refusal the gate may log in this run, as run.js folds it (method, path shape, status,
// reason), and the files whose tests make it (required when one of them ran). `sometimes`:
// allowed but not required (timing).
const REFUSALS = [
  // The suite writes its design documents with bulkDocs: the design guard refuses the body.
  { shape: 'POST /couch/{db}/_bulk_docs -> 403 (design document _design/{doc} needs the design grant)', files: ['design_docs', 'changes'] },
  { shape: 'GET /couch/{db}/_design/{doc}/_view/{view} -> 403 (no query grant on {db} for this key)', files: ['design_docs'] },
  { shape: 'GET /couch/{db}/_changes -> 403 (no query grant on {db} for this key)', files: ['design_docs', 'changes'] },
  { shape: 'POST /couch/{db}/_compact -> 403 (no maintain grant on {db} for this key)', files: ['attachments'] },
  { shape: 'GET /couch/{db}/_changes -> 429 (this key already holds its 16 connections to the upstream)', sometimes: true },
];

// Tests that pass directly and fail through the gate, and the class whose refusal fails them.
// A failure whose message names a refusal ("no X grant") must name that class.
const FAILURES = [
  ['design_docs', /Test writing design doc$/, 'design'],
  ['design_docs', /Changes filter$/, 'query'],
  ['design_docs', /Basic views$/, 'design'],
  ['design_docs', /Concurrent queries$/, 'design'],
  ['changes', /Changes limit and view instead of filter$/, 'query'],
  ['changes', /#3609 view option implies filter: _view$/, 'design'],
  ['attachments', /#2818 - save same attachment in different revs$/, 'maintain'],
  // local:http compacts the local database, not through the gate.
  ['attachments', / http:(http|local) #8456 bad attachment rev after replication$/, 'maintain'],
];

function expectedFailure(file, title) {
  const hit = FAILURES.find(([f, re]) => f === file && re.test(title));
  return hit ? `${hit[2]} refused` : null;
}

// rows: run.js's per-file rows (gateOnly: [{file, title, message}]); refusals: [[key, count]]
// from run.js's access-log summary. Returns the report lines and whether the run is as expected.
function judge(rows, refusals, files) {
  const lines = [];
  let ok = true;
  const seen = new Map(refusals);
  const missing = REFUSALS.filter(r => !r.sometimes && !seen.has(r.shape) &&
    r.files.some(f => files.includes(f)));
  const unexpected = [...seen.keys()].filter(key => !REFUSALS.some(r => r.shape === key));
  lines.push('', 'Refusals (the gate\'s access log) against the expected list:');
  for (const r of REFUSALS) lines.push(`- ${seen.get(r.shape) || 0} x ${r.shape}${r.sometimes ? ' (allowed, not required)' : ''}`);
  if (missing.length) { ok = false; lines.push('', 'MISSING refusals (expected, never logged):', ...missing.map(r => `- ${r.shape}`)); }
  if (unexpected.length) { ok = false; lines.push('', 'UNEXPECTED refusals:', ...unexpected.map(k => `- ${seen.get(k)} x ${k}`)); }

  const wrong = [];
  for (const e of rows.flatMap(r => r.gateOnly)) {
    const hit = FAILURES.find(([f, re]) => f === e.file && re.test(e.title));
    const named = /no (\w+) grant/.exec(e.message || '');
    if (!hit) wrong.push(`${e.file}: ${e.title}\n    not an expected refusal: ${e.message}`);
    else if (named && named[1] !== hit[2]) wrong.push(`${e.file}: ${e.title}\n    refused for ${named[1]}, expected ${hit[2]}: ${e.message}`);
  }
  // A listed test that passed through the gate means its class opened. (One that failed directly
  // too, as pouchdb-server's restarts sometimes make it, shows nothing either way.)
  const notFailing = FAILURES.filter(([f, re]) => rows.some(r => r.file === f &&
    [...r.gate.results].some(([title, g]) => re.test(title) && g.state === 'pass')));
  if (wrong.length) { ok = false; lines.push('', 'UNEXPECTED gate-only failures (pass directly, fail through the gate not for an expected refusal):', ...wrong.map(w => `- ${w}`)); }
  if (notFailing.length) { ok = false; lines.push('', 'Expected refusals whose test passed through the gate (did a class open?):', ...notFailing.map(([f, re, c]) => `- ${f}: ${re} (${c})`)); }
  return { lines, ok };
}

module.exports = { ALLOW, UNITS, REFUSALS, FAILURES, expectedFailure, judge };
