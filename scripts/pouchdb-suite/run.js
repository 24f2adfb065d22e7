#!/usr/bin/env node
'use strict';
// PouchDB's own integration suite (../shared/pouchdb-suite, unmodified, Apache-2.0) as a test of the
// gateway's CouchDB mount (issue 23). Each file's http-adapter tests run twice at once: through the
// real gateway's plain loopback listener (`local` principal, /couch mount) against one in-memory
// pouchdb-server, and straight at a second pouchdb-server set up the same way. A test that passes
// directly but fails through the gate is a gateway failure unless expected-refusals.js says the
// gate refuses that endpoint on purpose. Prints a per-file table; exits 1 on any unexpected
// gate-only failure or when the harness itself is broken.
// With --restricted, the second run (restricted.js): a key without design, query, maintain and
// replicate, on the tests that reach them; its refusals must be exactly the expected ones.
//
// Env: GATEHOUSE_DLL (required: the built gatehouse.dll), POUCHDB_SUITE_FILES (comma list of
// test.<name>.js names), POUCHDB_SUITE_LANES (3), POUCHDB_SUITE_SRC, and for exploring only
// POUCHDB_SUITE_ALLOW (comma list of classes instead of every class; the expected-refusals list is
// for the full key, so expect unlisted failures: with pull,push alone every test fails at PUT /db).

const fs = require('fs');
const path = require('path');
const net = require('net');
const http = require('http');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');
const { expectedRefusal, entries } = require('./expected-refusals');
const restricted = require('./restricted');

const ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = path.join(ROOT, 'tools', 'node_modules');
const SRC = path.resolve(ROOT, process.env.POUCHDB_SUITE_SRC || '../shared/pouchdb-suite');
const RESTRICTED = process.argv.includes('--restricted');
const WORK = path.join(ROOT, '.run', RESTRICTED ? 'pouchdb-suite-restricted' : 'pouchdb-suite');
const DLL = process.env.GATEHOUSE_DLL;
const FILES = (process.env.POUCHDB_SUITE_FILES ||
  'all_docs,attachments,basics,bulk_docs,bulk_get,changes,design_docs,get,local_docs,revs_diff,replication')
  .split(',').map(s => s.trim()).filter(Boolean);
// The suite's http suites, including local<->http replication (README beside the suite).
const GREP = 'js-(local-)?http|js- (local:)?http';
const FILE_TIMEOUT_MS = 240000; // one file; the replication file takes the longest
const ADMIN = 'admin';
const ADMIN_PASSWORD = crypto.randomBytes(18).toString('base64url');

const children = new Set(); // every process we started, ended on exit
let stopping = false;

function log(msg) { process.stderr.write(`pouchdb-suite: ${msg}\n`); }

// ---- lay out the suite --------------------------------------------------------------------------
// The suite requires PouchDB from the monorepo's build (`packages/node_modules/...`, relative to the
// test files' real paths), so the files are copied (not linked) into a gitignored folder whose
// packages/node_modules holds npm's pouchdb@9.0.0 and our pouchdb-for-coverage stand-in, and whose
// node_modules is tools/node_modules (mocha, chai, seedrandom ...).
function layOut(SUITE) {
  if (!fs.existsSync(path.join(SRC, 'tests', 'integration', 'node.setup.js'))) {
    throw new Error(`PouchDB's suite is not at ${SRC}`);
  }
  fs.mkdirSync(path.join(SUITE, 'packages', 'node_modules', 'pouchdb-for-coverage'), { recursive: true });
  fs.cpSync(path.join(SRC, 'tests'), path.join(SUITE, 'tests'), { recursive: true });
  fs.symlinkSync(TOOLS, path.join(SUITE, 'node_modules'));
  fs.symlinkSync(path.join(TOOLS, 'pouchdb'), path.join(SUITE, 'packages', 'node_modules', 'pouchdb'));
  const shim = path.join(SUITE, 'packages', 'node_modules', 'pouchdb-for-coverage');
  fs.copyFileSync(path.join(__dirname, 'pouchdb-for-coverage.js'), path.join(shim, 'index.js'));
  fs.writeFileSync(path.join(shim, 'package.json'), '{ "name": "pouchdb-for-coverage", "main": "index.js" }\n');
}

// ---- processes ----------------------------------------------------------------------------------
function start(cmd, args, opts, logFile) {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: [opts.stdin || 'ignore', opts.stdout || out, out], ...opts });
  fs.closeSync(out);
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('error', err => log(`${cmd} ${args[0]}: ${err.message}`));
  return child;
}

function stopAll() {
  stopping = true;
  for (const child of children) {
    try { child.kill('SIGTERM'); } catch { /* already gone */ }
  }
}
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { stopAll(); process.exit(130); });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

function request(port, method, urlPath, body, auth) {
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Type': 'application/json' };
    if (auth) headers.Authorization = 'Basic ' + Buffer.from(auth).toString('base64');
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, timeout: 5000 }, res => {
      let text = '';
      res.on('data', d => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end(body);
  });
}

// pouchdb-server 4.2.0 exits on some error paths (filter/view errors, an unauthenticated PUT /db),
// so it runs under a restart loop on the same port: a crash costs the tests running at that moment
// (in both runs alike), not the rest of the file. Readiness: its port answers GET / (bounded poll).
class Couch {
  constructor(laneDir, name) {
    this.name = `${path.basename(laneDir)} ${name}`;
    this.dir = path.join(laneDir, name);
    this.logFile = path.join(laneDir, `${name}.log`);
    this.restarts = 0;
  }

  async start() {
    fs.mkdirSync(this.dir, { recursive: true });
    this.port = await freePort();
    await this.spawn();
  }

  async spawn() {
    const bin = path.join(TOOLS, 'pouchdb-server', 'bin', 'pouchdb-server');
    // Its cwd holds its config.json (the admin) and log: one folder per server.
    this.child = start(process.execPath, [bin, '--in-memory', '--host', '127.0.0.1', '--port', String(this.port)],
      { cwd: this.dir }, this.logFile);
    this.child.on('exit', code => {
      if (stopping) return;
      this.restarts++;
      log(`${this.name} pouchdb-server exited (${code}); restarting on port ${this.port}`);
      this.spawn().catch(err => log(`${this.name}: restart failed: ${err.message}`));
    });
    await this.waitReady();
    // Admin party until the first admin exists (credentials are refused until then); the suite's
    // databases are then created and deleted as this admin in both runs. After a restart the admin
    // comes back from config.json, and this PUT (now as that admin) changes nothing.
    const res = await request(this.port, 'PUT', `/_config/admins/${ADMIN}`, JSON.stringify(ADMIN_PASSWORD),
      this.restarts ? `${ADMIN}:${ADMIN_PASSWORD}` : undefined);
    if (res.status !== 200) throw new Error(`${this.name}: setting the admin failed: ${res.status} ${res.text}`);
  }

  async waitReady() {
    for (let i = 0; i < 600; i++) { // 60 s at most
      if (this.child.exitCode !== null) throw new Error(`${this.name} pouchdb-server exited; see ${this.logFile}`);
      try {
        if ((await request(this.port, 'GET', '/')).status === 200) return;
      } catch { /* not listening yet */ }
      await new Promise(r => setTimeout(r, 100));
    }
    throw new Error(`${this.name} pouchdb-server did not open port ${this.port}`);
  }
}

// The classes a CouchDB rule may grant, read from the schema so that classes added later are granted
// here without touching this file: the enum of rules[].couchdb.allow.
function grantableClasses() {
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, 'gatehouse.schema.json'), 'utf8'));
  let found = null;
  (function walk(node) {
    if (found || !node || typeof node !== 'object') return;
    const allow = node.couchdb && node.couchdb.properties && node.couchdb.properties.allow;
    if (allow && allow.items && Array.isArray(allow.items.enum)) { found = allow.items.enum; return; }
    Object.values(node).forEach(walk);
  })(schema);
  if (!found) throw new Error('no couchdb allow enum in gatehouse.schema.json');
  return found;
}

async function startGateway(laneDir, couch, allow) {
  const config = {
    // The suite's http adapter has no client certificate: the plain loopback listener, whose
    // callers are the `local` principal. The gateway still judges every request by the rule below.
    listen: [{ address: '127.0.0.1', port: 0, tls: false, local: true }],
    routes: [{ kind: 'couchdb', prefix: '/couch/' }],
    rules: [{ principals: ['local'], role: 'device', couchdb: { databases: ['*'], allow } }],
  };
  const configFile = path.join(laneDir, 'gatehouse.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const check = spawnSync('dotnet', [DLL, 'check-config', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`gatehouse check-config refused ${configFile}: ${check.stderr}${check.stdout}`);
  // The role's credential is the pouchdb-server admin: the suite creates and deletes its own
  // databases, and the direct run does the same as that admin, so both runs meet one server setup.
  // The gateway never hands the client's credentials on; it injects this one after judging.
  const env = { couchdb: { url: `http://127.0.0.1:${couch.port}/`,
    credentials: { device: { username: ADMIN, password: ADMIN_PASSWORD } } } };
  const child = start('dotnet', [DLL, 'serve', '--config', configFile, '--env-stdin'],
    { stdin: 'pipe', stdout: 'pipe' }, path.join(laneDir, 'gateway.log'));
  child.stdin.end(JSON.stringify(env));
  // Ready when it prints its ready line (stdout carries nothing else).
  const line = await new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', d => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    child.on('exit', code => reject(new Error(`gatehouse exited (${code}) before its ready line; see gateway.log`)));
  });
  child.stdout.resume();
  const ready = JSON.parse(line);
  return ready.listen[0].port;
}

// ---- running one file ---------------------------------------------------------------------------
function runMocha(laneDir, unit, couchHost, tag, grep = unit.grep, suite = tag) {
  const out = path.join(laneDir, 'results', `${unit.name}.${tag}.json`);
  const logFile = path.join(laneDir, 'results', `${unit.name}.${tag}.log`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const args = [path.join(TOOLS, 'mocha', 'bin', 'mocha.js'),
    '--require', 'tests/integration/node.setup.js', '--timeout', '15000', '--grep', grep,
    '--reporter', 'json', '--reporter-option', `output=${out}`, '--exit',
    `tests/integration/test.${unit.file}.js`];
  const started = Date.now();
  return new Promise(resolve => {
    const child = start(process.execPath, args, { cwd: path.join(laneDir, `suite-${suite}`),
      env: { ...process.env, COUCH_HOST: couchHost } }, logFile);
    const timer = setTimeout(() => { log(`${unit.name} (${tag}) over ${FILE_TIMEOUT_MS / 1000} s: killed`); child.kill('SIGKILL'); },
      FILE_TIMEOUT_MS);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ seconds: (Date.now() - started) / 1000, results: readResults(out) });
    });
  });
}

// title -> { state: pass|fail|skip, message }. Hook failures count as failures under their own
// title; a test mocha never reached is simply absent (and so not a pass).
function readResults(file) {
  const map = new Map();
  let json;
  try { json = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { return map; }
  const add = (t, state) => {
    let title = t.fullTitle;
    for (let n = 2; map.has(title); n++) title = `${t.fullTitle} #${n}`;
    map.set(title, { state, message: t.err && t.err.message ? String(t.err.message).split('\n')[0].slice(0, 160) : '' });
  };
  json.passes.forEach(t => add(t, 'pass'));
  json.failures.forEach(t => add(t, 'fail'));
  json.pending.forEach(t => add(t, 'skip'));
  return map;
}

function count(results, state) { return [...results.values()].filter(r => r.state === state).length; }

// What the gate itself refused, from its access log (JSON lines on stderr, one per request, with a
// refusal reason when the gate answered instead of forwarding): method, path shape, status, reason,
// with database and document names folded so that repeats group.
function refusalSummary(laneDirs) {
  const counts = new Map();
  const lines = laneDirs.flatMap(d => fs.readFileSync(path.join(d, 'gateway.log'), 'utf8').split('\n'));
  for (const line of lines) {
    let state;
    try { state = JSON.parse(line).State; } catch { continue; }
    if (!state || !state.Refusal || !state.Path) continue;
    const shape = state.Path.replace(/^\/couch\/[^/]+/, '/couch/{db}')
      .replace(/^(\/couch\/\{db\}\/(?:_local\/|_design\/)?)[^/_][^/]*/, '$1{doc}')
      .replace(/(\/_view\/)[^/]+$/, '$1{view}')
      .replace(/^(\/couch\/\{db\}\/_local\/\{doc\}\/).+$/, '$1{att}');
    const reason = state.Refusal.replace(/^ refused=/, '').replace(/\b(testdb|test_repl_remote)_\d+\S*/g, '{db}')
      .replace(/_design\/\S+/g, '_design/{doc}');
    const key = `${state.Method} ${shape} -> ${state.Status} (${reason})`;
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

// The replication file is the longest by far; it runs as one unit per adapter pair so that lanes
// can share it out. Every other file is one unit.
const SPLIT = { replication: ['local-http', 'http-http', 'http-local'] };
function unitsOf(file) {
  if (!SPLIT[file]) return [{ file, name: file, grep: GREP }];
  return SPLIT[file].map(pair => ({ file, name: `${file}.${pair}`, grep: `test\\.${file}\\.js-${pair}` }));
}
// Rough seconds per unit through the gate (measured on a busy 2-core machine): units are dealt to
// lanes longest first, each to the lane with the least so far.
const WEIGHT = { 'replication.local-http': 90, 'replication.http-http': 90, changes: 85, attachments: 55,
  basics: 45, all_docs: 30, 'replication.http-local': 12, bulk_docs: 8, get: 6 };
const weight = unit => WEIGHT[unit.name] || 4;

const escapeRegExp = text => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// One lane: its own gateway and pair of pouchdb-servers, running its units one after another.
async function runLane(laneDir, units, allow, expected) {
  // One suite copy per run: the suite keeps its local databases in ./tmp under its working folder,
  // named by Date.now(), so two runs at once in one folder could meet on one name.
  layOut(path.join(laneDir, 'suite-gate'));
  layOut(path.join(laneDir, 'suite-direct'));
  const gateCouch = new Couch(laneDir, 'couch-gate');
  const directCouch = new Couch(laneDir, 'couch-direct');
  await Promise.all([gateCouch.start(), directCouch.start()]);
  const gatePort = await startGateway(laneDir, gateCouch, allow);
  const gateHost = `http://127.0.0.1:${gatePort}/couch`;
  const rows = [];
  for (const unit of units) {
    // The two runs go at once, each against its own server (the suite's database names would
    // collide on one). The direct run carries the admin in the URL, as the gate injects it.
    const [gate, direct] = await Promise.all([
      runMocha(laneDir, unit, gateHost, 'gate'),
      runMocha(laneDir, unit, `http://${ADMIN}:${ADMIN_PASSWORD}@127.0.0.1:${directCouch.port}`, 'direct'),
    ]);
    const gateOnly = () => [...direct.results].filter(([title, d]) => d.state === 'pass' &&
      !(gate.results.has(title) && gate.results.get(title).state === 'pass')).map(([title]) => title);
    // On a busy machine a test can time out once: an unlisted gate-only failure is run once more
    // through the gate, alone, and counts only if it fails again (the report names the retried).
    const retry = gateOnly().filter(title => !expected(unit.file, title));
    if (retry.length) {
      const again = await runMocha(laneDir, unit, gateHost, 'gate-retry',
        retry.map(t => `^${escapeRegExp(t)}$`).join('|'), 'gate');
      for (const [title, r] of again.results) {
        if (r.state === 'pass' && retry.includes(title)) gate.results.set(title, { state: 'pass', message: '', retried: true });
      }
    }
    rows.push({ unit, gate, direct, gateOnly: gateOnly().map(title => ({ file: unit.file, title,
      message: gate.results.has(title) ? gate.results.get(title).message : '(not run through the gate)',
      why: expected(unit.file, title) })) });
    log(`${unit.name}: gate ${count(gate.results, 'pass')}/${count(gate.results, 'fail')} (${gate.seconds.toFixed(0)} s), ` +
      `direct ${count(direct.results, 'pass')}/${count(direct.results, 'fail')} (${direct.seconds.toFixed(0)} s), ` +
      `gate-only ${rows[rows.length - 1].gateOnly.length}${retry.length ? `, ${retry.length} retried` : ''}`);
  }
  rows.restarts = gateCouch.restarts + directCouch.restarts;
  return rows;
}

// A file's row: its units' results together (their titles are disjoint).
function mergeRows(file, unitRows) {
  const merge = key => new Map(unitRows.flatMap(r => [...r[key].results]));
  return { file, gate: { results: merge('gate') }, direct: { results: merge('direct') },
    gateOnly: unitRows.flatMap(r => r.gateOnly) };
}

async function main() {
  if (!DLL || !fs.existsSync(DLL)) throw new Error('GATEHOUSE_DLL must name the built gatehouse.dll');
  const began = Date.now();
  fs.rmSync(WORK, { recursive: true, force: true });
  const allow = RESTRICTED ? restricted.ALLOW
    : process.env.POUCHDB_SUITE_ALLOW ? process.env.POUCHDB_SUITE_ALLOW.split(',') : grantableClasses();
  const expected = RESTRICTED ? restricted.expectedFailure : expectedRefusal;
  const units = RESTRICTED ? restricted.UNITS.filter(u => FILES.includes(u.file)) : FILES.flatMap(unitsOf);
  if (!units.length) { log('no file of the restricted run was picked: nothing to run'); return; }
  const files = [...new Set(units.map(u => u.file))];
  const laneCount = Math.max(1, Math.min(units.length, Number(process.env.POUCHDB_SUITE_LANES || 3)));
  const lanes = Array.from({ length: laneCount }, (_, i) => ({ dir: path.join(WORK, `lane${i + 1}`), units: [], load: 0 }));
  for (const unit of [...units].sort((a, b) => weight(b) - weight(a))) {
    const lane = lanes.reduce((min, l) => (l.load < min.load ? l : min));
    lane.units.push(unit);
    lane.load += weight(unit);
  }
  log(`key grants [${allow.join(', ')}]; ${laneCount} lanes: ${lanes.map(l => l.units.map(u => u.name).join(' ')).join(' | ')}`);
  const laneRows = await Promise.all(lanes.map(l => runLane(l.dir, l.units, allow, expected)));
  const rows = files.map(f => mergeRows(f, laneRows.flat().filter(r => r.unit.file === f)));
  const gateOnlyAll = rows.flatMap(r => r.gateOnly);
  const explained = gateOnlyAll.filter(e => e.why);
  const unexpected = gateOnlyAll.filter(e => !e.why);
  // A direct run that passed nothing means the harness, not the gate, is broken.
  const broken = rows.some(r => count(r.direct.results, 'pass') === 0);

  const lines = [];
  lines.push(`PouchDB suite through the gate (key granted: ${allow.join(', ')}${RESTRICTED ? '; restricted run, chosen tests' : ''}); pass/fail per file`, '');
  lines.push('| file | through the gate | direct | gate-only failures (expected + unexpected) |');
  lines.push('| --- | --- | --- | --- |');
  for (const r of rows) {
    const exp = r.gateOnly.filter(e => e.why).length;
    lines.push(`| ${r.file} | ${count(r.gate.results, 'pass')}/${count(r.gate.results, 'fail')} | ` +
      `${count(r.direct.results, 'pass')}/${count(r.direct.results, 'fail')} | ${exp} + ${r.gateOnly.length - exp} |`);
  }
  if (explained.length) {
    lines.push('', 'Expected refusals (gate-only failures the gate causes on purpose):');
    const byWhy = new Map();
    for (const e of explained) byWhy.set(e.why, (byWhy.get(e.why) || 0) + 1);
    for (const [why, n] of byWhy) lines.push(`- ${n} x ${why}`);
  }
  const retried = rows.flatMap(r => [...r.gate.results].filter(([, g]) => g.retried).map(([t]) => `${r.file}: ${t}`));
  if (retried.length) {
    lines.push('', 'Failed through the gate once, passed when run again (timing on a busy machine):');
    for (const t of retried) lines.push(`- ${t}`);
  }
  const refusals = refusalSummary(lanes.map(l => l.dir));
  const verdict = RESTRICTED ? restricted.judge(rows, refusals, files) : null;
  if (verdict) lines.push(...verdict.lines);
  if (!verdict && unexpected.length) {
    lines.push('', 'UNEXPECTED gate-only failures (pass directly, fail through the gate):');
    for (const e of unexpected) lines.push(`- ${e.file}: ${e.title}\n    ${e.message}`);
  }
  // Entries that matched nothing: a class landed or a fix went in (or their file was not run).
  const unused = RESTRICTED ? [] : entries.filter(([f, re, , sometimes]) => !sometimes && FILES.includes(f) && !gateOnlyAll.some(e => e.file === f && re.test(e.title)));
  if (unused.length) {
    lines.push('', 'Expected refusals that did not happen (delete them from expected-refusals.js):');
    for (const [f, re] of unused) lines.push(`- ${f}: ${re}`);
  }
  if (!verdict) {
    lines.push('', 'Requests the gate refused (its access log, names folded):');
    for (const [key, n] of refusals.slice(0, 40)) lines.push(`- ${n} x ${key}`);
  }
  lines.push('', `pouchdb-server restarts: ${laneRows.reduce((n, r) => n + r.restarts, 0)}; ` +
    `wall time ${((Date.now() - began) / 1000).toFixed(0)} s; logs and results in ${path.relative(ROOT, WORK)}`);
  const report = lines.join('\n') + '\n';
  fs.writeFileSync(path.join(WORK, 'report.md'), report);
  process.stdout.write(report);
  if (broken) log('a direct run passed nothing: the harness is broken (see the results logs)');
  process.exitCode = (verdict ? !verdict.ok : unexpected.length) || broken ? 1 : 0;
}

main().catch(err => { log(err.stack || String(err)); process.exitCode = 1; }).finally(stopAll);
