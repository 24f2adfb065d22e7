#!/usr/bin/env node
'use strict';
// A real app in a real browser (issue 19, item 3). Debian's jupyter-notebook (base_url /notebook/)
// behind a proxy route with webSockets on; Debian's chromium, headless, driven by puppeteer-core:
//   1. "me": a client certificate from the gateway's CA in the browser's NSS store ($HOME/.pki/nssdb
//      of a throwaway HOME), auto-selected by a managed policy for the required-certificate
//      listener. Logs in to the notebook with its token (a cookie session), creates a notebook,
//      runs print(6*7) over the kernel's WebSocket and reads 42. Then a route no rule grants: 403.
//   2. "friend": another browser, another HOME, no certificate, on the listener with
//      clientCertificate: optional. First the gateway's 401 (HTTP Basic), then the same notebook
//      steps after the Basic login (`gatehouse passwd`).
// Screenshots (PNG) and logs go to .run/browser/. Exits 0 when every step passed, 1 when one failed,
// 77 when the machine cannot run it (no chromium/jupyter/certutil, or not root for the policy).
//
// Env: GATEHOUSE_DLL (required: the built gatehouse.dll), CHROMIUM (/usr/bin/chromium),
// BROWSER_OUT (.run/browser), BROWSER_STEP_TIMEOUT_MS (20000).

const fs = require('fs');
const path = require('path');
const net = require('net');
const crypto = require('crypto');
const { spawn, spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.resolve(ROOT, process.env.BROWSER_OUT || '.run/browser');
const WORK = path.join(OUT, 'work');
const DLL = process.env.GATEHOUSE_DLL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = Number(process.env.BROWSER_STEP_TIMEOUT_MS || 20000);
const POLICY_DIR = '/etc/chromium/policies/managed';
// Every process this run starts inherits this variable; the last sweep ends any that is left
// (kernels run in their own session, chromium's helpers in chromium's group). run.sh passes one
// in and sweeps again after this script, in case it was killed outright.
const RUN_ID = /^[A-Za-z0-9-]+$/.test(process.env.GATEHOUSE_BROWSER_RUN || '') ? process.env.GATEHOUSE_BROWSER_RUN
  : `${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
const RUN_MARK = `GATEHOUSE_BROWSER_RUN=${RUN_ID}`;
const SKIP = 77;
const WHO = { me: 'Chromium, my client certificate (picked by policy)',
  friend: 'Chromium, no certificate, Basic login as "friend"' };

const began = Date.now();
const children = new Set();
const cleanups = []; // run last-in first-out, whatever happened
const shots = [];
const results = [];

function log(msg) { process.stderr.write(`browser: ${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s ${msg}\n`); }

// ---- preconditions ------------------------------------------------------------------------------
function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
}
function missing() {
  const need = [];
  if (!fs.existsSync(CHROMIUM)) need.push(`chromium (${CHROMIUM})`);
  for (const cmd of ['certutil', 'pk12util']) if (!which(cmd)) need.push(`${cmd} (libnss3-tools)`);
  if (!which('jupyter') || spawnSync('jupyter', ['notebook', '--version'], { encoding: 'utf8' }).status !== 0) need.push('jupyter-notebook');
  if (!which('openssl')) need.push('openssl');
  if (process.getuid && process.getuid() !== 0) need.push(`root (the certificate policy goes in ${POLICY_DIR})`);
  let puppeteer = null;
  try { puppeteer = require(path.join(ROOT, 'tools', 'node_modules', 'puppeteer-core')); } catch { need.push('puppeteer-core (make tools)'); }
  return { need, puppeteer };
}

// ---- processes ----------------------------------------------------------------------------------
const markedEnv = extra => ({ ...process.env, [RUN_MARK.split('=')[0]]: RUN_MARK.split('=')[1], ...extra });

function start(name, cmd, args, opts = {}) {
  const logFile = path.join(OUT, `${name}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: [opts.stdin || 'ignore', opts.stdout || out, out], detached: true,
    ...opts, env: markedEnv(opts.env) });
  fs.closeSync(out);
  child.logFile = logFile;
  child.label = name;
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.on('error', err => log(`${name}: ${err.message}`));
  return child;
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30000, ...opts, env: markedEnv(opts.env) });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${res.status}${res.error ? ` (${res.error.message})` : ''}\n${res.stderr}${res.stdout}`);
  return res.stdout;
}

// Our processes by the run mark in their environment (only those of this run carry it).
function markedPids() {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid || Number(entry) === process.ppid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(RUN_MARK)) pids.push(Number(entry));
    } catch { /* gone, or not ours to read */ }
  }
  return pids;
}

async function stopAll() {
  for (const child of [...children]) {
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
  }
  const deadline = Date.now() + 5000;
  while (children.size && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
  for (const child of [...children]) {
    log(`${child.label} did not stop on SIGTERM: SIGKILL`);
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  let left = markedPids();
  for (const pid of left) { try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ } }
  for (let i = 0; i < 40 && left.length; i++) { await new Promise(r => setTimeout(r, 50)); left = markedPids(); }
  for (const pid of left) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  return left;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
    srv.on('error', reject);
  });
}

// Resolves with the first line of `stream` that `test` accepts; rejects when the process exits or
// after `ms`.
function waitForLine(child, stream, test, ms, what) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`${what}: not within ${ms / 1000} s; see ${child.logFile}`)), ms);
    const onData = d => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (test(line)) return done(null, line);
      }
    };
    const onExit = code => done(new Error(`${what}: the process exited (${code}); see ${child.logFile}`));
    function done(err, line) {
      clearTimeout(timer);
      stream.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err); else resolve(line);
    }
    stream.on('data', onData);
    child.on('exit', onExit);
  });
}

// A bound on one step; the browser hangs without a word when no certificate policy matches.
function bounded(promise, what, ms = STEP_MS) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  })]).finally(() => clearTimeout(timer));
}

async function step(who, what, fn, ms = STEP_MS) {
  const t0 = Date.now();
  try {
    const detail = await bounded(Promise.resolve().then(fn), `${who}: ${what}`, ms);
    results.push({ ok: true, who, what, detail, ms: Date.now() - t0 });
    log(`ok   ${who}: ${what}${detail ? ` (${detail})` : ''} [${Date.now() - t0} ms]`);
    return detail;
  } catch (err) {
    results.push({ ok: false, who, what, detail: err.message.split('\n')[0], ms: Date.now() - t0 });
    log(`FAIL ${who}: ${what}: ${err.message}`);
    throw err;
  }
}

// ---- set-up -------------------------------------------------------------------------------------
function makeKeys() {
  const keys = path.join(WORK, 'keys');
  run('dotnet', [DLL, 'init', keys, '--no-passphrase', '--name', 'localhost']);
  run('openssl', ['pkcs12', '-export', '-in', path.join(keys, 'client.crt'), '-inkey', path.join(keys, 'client.key'),
    '-name', 'gatehouse-browser-test', '-out', path.join(keys, 'client.p12'), '-passout', 'pass:']);
  return keys;
}

// A HOME whose NSS database trusts the gateway's CA and, for "me", holds the client key.
function makeHome(name, keys, withClientKey) {
  const home = path.join(WORK, `home-${name}`);
  const db = `sql:${path.join(home, '.pki', 'nssdb')}`;
  fs.mkdirSync(path.join(home, '.pki', 'nssdb'), { recursive: true });
  run('certutil', ['-N', '-d', db, '--empty-password']);
  run('certutil', ['-A', '-d', db, '-n', 'gatehouse-user-ca', '-t', 'C,,', '-i', path.join(keys, 'ca.crt')]);
  if (withClientKey) run('pk12util', ['-i', path.join(keys, 'client.p12'), '-d', db, '-W', '']);
  return home;
}

// The gateway sends the backend its own Host (127.0.0.1:PORT), so the browser's Origin (the
// gateway's public origin) differs from it, and the notebook blocks every API call and WebSocket as
// cross-origin ("Blocking Cross Origin API request") unless it is told the public origins: that is
// the one notebook setting a person puts behind Gatehouse (allow_origin for one origin).
async function startJupyter(token, port, origins) {
  const originPattern = `^(${origins.map(o => o.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
  const dir = path.join(WORK, 'jupyter');
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(dir, 'notebooks'), { recursive: true });
  fs.mkdirSync(home, { recursive: true });
  const child = start('jupyter', 'jupyter', ['notebook', '--no-browser', '--allow-root', '--ip=127.0.0.1', `--port=${port}`,
    '--port-retries=0', '--NotebookApp.base_url=/notebook/', `--NotebookApp.token=${token}`,
    `--NotebookApp.allow_origin_pat=${originPattern}`,
    `--notebook-dir=${path.join(dir, 'notebooks')}`],
  { stdout: 'pipe', stdin: 'ignore', env: { HOME: home, JUPYTER_CONFIG_DIR: path.join(home, 'config'),
    JUPYTER_RUNTIME_DIR: path.join(home, 'runtime'), JUPYTER_DATA_DIR: path.join(home, 'data'), IPYTHONDIR: path.join(home, 'ipython') },
  cwd: dir });
  // Notebook logs to stderr, which goes to its log file: readiness is its line there.
  child.stdout.resume();
  const ready = waitForFile(child, line => /is running at:/.test(line), 60000, 'jupyter: its "is running at" line');
  ready.catch(() => {});
  return { child, port, ready };
}

// Waits for a line in a child's log file (stderr is a file there, so it is read as it grows).
function waitForFile(child, test, ms, what) {
  return new Promise((resolve, reject) => {
    let offset = 0; let rest = '';
    const timer = setTimeout(() => finish(new Error(`${what}: not within ${ms / 1000} s; see ${child.logFile}`)), ms);
    const onExit = code => finish(new Error(`${what}: the process exited (${code}); see ${child.logFile}`));
    const watcher = fs.watch(child.logFile, () => check());
    function check() {
      const fd = fs.openSync(child.logFile, 'r');
      const buf = Buffer.alloc(65536);
      let n;
      while ((n = fs.readSync(fd, buf, 0, buf.length, offset)) > 0) {
        offset += n;
        rest += buf.toString('utf8', 0, n);
        const lines = rest.split('\n');
        rest = lines.pop();
        for (const line of lines) if (test(line)) { fs.closeSync(fd); return finish(null, line); }
      }
      fs.closeSync(fd);
    }
    function finish(err, line) {
      clearTimeout(timer); watcher.close(); child.off('exit', onExit);
      if (err) reject(err); else resolve(line);
    }
    child.on('exit', onExit);
    check();
  });
}

async function startGateway(keys, jupyterPort) {
  const dir = path.join(WORK, 'gateway');
  fs.mkdirSync(dir, { recursive: true });
  const friendPassword = crypto.randomBytes(12).toString('base64url');
  run('dotnet', [DLL, 'passwd', path.join(dir, 'users.passwd'), 'friend'], { input: `${friendPassword}\n` });
  const config = {
    listen: [
      { address: '127.0.0.1', port: 0, clientCertificate: 'required' },
      { address: '127.0.0.1', port: 0, clientCertificate: 'optional' },
      // The device's own user on plain loopback: the status page (/_gatehouse/) is theirs.
      { address: '127.0.0.1', port: 0, tls: false, local: true },
    ],
    tls: { certificate: path.join(keys, 'server.crt'), key: path.join(keys, 'server.key') },
    trust: { cas: [{ name: 'user', certificate: path.join(keys, 'ca.crt') }] },
    routes: [
      // The notebook answers under its base_url, which the backend URL's path names: the mount is
      // stripped and put back, Set-Cookie paths and Locations map one to one.
      { kind: 'proxy', name: 'notebook', prefix: '/notebook/', backend: `http://127.0.0.1:${jupyterPort}/notebook/`,
        webSockets: true, access: { principals: ['ca:user'], usersFile: path.join(dir, 'users.passwd') } },
      // Granted to nobody: the 403 a browser with a good key shows.
      { kind: 'proxy', name: 'private', prefix: '/private/', backend: `http://127.0.0.1:${jupyterPort}/` },
    ],
    rules: [],
  };
  const configFile = path.join(dir, 'gatehouse.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  run('dotnet', [DLL, 'check-config', configFile]);
  const child = start('gatehouse', 'dotnet', [DLL, 'serve', '--config', configFile], { stdout: 'pipe' });
  const line = await waitForLine(child, child.stdout, l => l.startsWith('{'), 30000, 'gatehouse: its ready line');
  child.stdout.resume();
  const ready = JSON.parse(line);
  return { child, certPort: ready.listen[0].port, optionalPort: ready.listen[1].port, localPort: ready.listen[2].port, friendPassword };
}

// The managed policy that selects the client certificate for the required listener (root only,
// system-wide, so it is removed again in every case).
function writePolicy(port) {
  const created = [];
  for (let d = POLICY_DIR; !fs.existsSync(d); d = path.dirname(d)) created.unshift(d);
  fs.mkdirSync(POLICY_DIR, { recursive: true });
  const file = path.join(POLICY_DIR, `gatehouse-browser-test-${RUN_ID}.json`);
  cleanups.push(() => {
    fs.rmSync(file, { force: true });
    for (const d of created.reverse()) { try { fs.rmdirSync(d); } catch { /* not empty: someone else's */ } }
  });
  fs.writeFileSync(file, JSON.stringify({ AutoSelectCertificateForUrls: [
    JSON.stringify({ pattern: `https://127.0.0.1:${port}`, filter: { ISSUER: { CN: 'Gatehouse user CA (localhost)' } } }),
  ] }));
  return file;
}

async function launch(puppeteer, name, home) {
  let browser;
  await step(name, 'start chromium (headless, HOME with its NSS database)', async () => {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: path.join(WORK, `profile-${name}`),
      env: markedEnv({ HOME: home }),
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--no-first-run', '--disable-gpu'],
      defaultViewport: { width: 1100, height: 560 },
      protocolTimeout: STEP_MS,
    });
    return (await browser.version());
  });
  let closed = null;
  browser.closeNow = () => closed || (closed = (async () => {
    const proc = browser.process();
    await bounded(browser.close(), `${name}: chromium close`, 5000).catch(() => {});
    if (proc && proc.exitCode === null) { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } }
  })());
  cleanups.push(() => browser.closeNow());
  return browser;
}

// A strip along the bottom, marked as the test's, says what the window would show in its address
// bar (headless has none) and who is looking.
async function screenshot(page, name, who, fullPage = false) {
  const file = path.join(OUT, `${name}.png`);
  await page.evaluate((url, who) => {
    const note = document.createElement('div');
    note.textContent = `[test note] ${url} — ${who}`;
    note.style.cssText = 'position:fixed;left:0;right:0;bottom:0;padding:4px 8px;font:13px monospace;' +
      'background:#333;color:#fff;z-index:99999';
    document.body.appendChild(note);
  }, page.url(), who);
  await page.screenshot({ path: file, fullPage });
  shots.push(file);
  return path.relative(ROOT, file);
}

// Answers the browser's HTTP authentication challenges (the dialog a person sees) through the
// DevTools Fetch domain: CancelAuth until `credentials` is set, then those.
async function basicLoginDialog(page) {
  const state = { credentials: null, challenges: 0 };
  const cdp = await page.createCDPSession();
  cdp.on('Fetch.requestPaused', e => cdp.send('Fetch.continueRequest', { requestId: e.requestId }).catch(() => {}));
  cdp.on('Fetch.authRequired', e => {
    state.challenges++;
    const authChallengeResponse = state.credentials ? { response: 'ProvideCredentials', ...state.credentials } : { response: 'CancelAuth' };
    cdp.send('Fetch.continueWithAuth', { requestId: e.requestId, authChallengeResponse }).catch(() => {});
  });
  await cdp.send('Fetch.enable', { handleAuthRequests: true, patterns: [{ urlPattern: '*' }] });
  return state;
}

// ---- the notebook, as a person uses it ----------------------------------------------------------
async function useNotebook(browser, page, who, origin, token) {
  await step(who, 'open /notebook/: the notebook\'s login page', async () => {
    const res = await page.goto(`${origin}/notebook/`, { waitUntil: 'domcontentloaded' });
    if (!res || res.status() !== 200) throw new Error(`status ${res && res.status()} at ${page.url()}`);
    if (!new URL(page.url()).pathname.startsWith('/notebook/login')) throw new Error(`landed on ${page.url()}`);
    await page.waitForSelector('#password_input');
    return page.url().replace(origin, '');
  });
  await step(who, 'log in with the token (a cookie session)', async () => {
    // The login page is hidden until its script (require.js, auth/js/main) shows it and focuses
    // the field; keys typed before that are lost and the notebook answers 401. Wait as a person
    // waits for the page to appear, and check what was typed before sending it.
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'password_input');
    await page.type('#password_input', token);
    const typed = await page.$eval('#password_input', e => e.value);
    if (typed !== token) throw new Error(`the field holds ${typed.length} of the token's ${token.length} characters`);
    let sent = null;
    const onRequest = r => { if (r.method() === 'POST') sent = r.postData() || ''; };
    page.on('request', onRequest);
    const [answer] = await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('#login_submit')]);
    page.off('request', onRequest);
    if (new URL(page.url()).pathname !== '/notebook/tree') {
      // Say what the browser sent and what came back, so a failure tells the gateway's part apart
      // from the notebook's (a 401 here is the notebook judging the password it received).
      const password = new URLSearchParams(sent || '').get('password');
      throw new Error(`after login at ${page.url()}: ${answer ? answer.status() : 'no answer'}; the browser sent `
        + `${sent === null ? 'no POST' : `${sent.length} bytes, password ${password === token ? 'equal to the token' : `of ${(password || '').length} characters, not the token`}`}`);
    }
    await page.waitForSelector('#new-dropdown-button');
    const cookies = (await page.cookies()).filter(c => c.name.startsWith('username-'));
    if (!cookies.length) throw new Error('no login cookie');
    return `cookie ${cookies[0].name} Path=${cookies[0].path}`;
  });
  let nb;
  await step(who, 'create a Python 3 notebook (New > Python 3)', async () => {
    // The New menu's kernels come from /api/kernelspecs after the page has loaded.
    await page.waitForSelector('#kernel-python3 a');
    await page.waitForSelector('#new-dropdown-button', { visible: true });
    await page.click('#new-dropdown-button');
    await page.waitForSelector('#kernel-python3 a', { visible: true });
    const opened = browser.waitForTarget(t => t.url().includes('/notebook/notebooks/'), { timeout: STEP_MS });
    await page.click('#kernel-python3 a');
    nb = await (await opened).page();
    await nb.setViewport({ width: 1100, height: 560 });
    return new URL(nb.url()).pathname;
  });
  await step(who, 'the kernel connects over its WebSocket', async () => {
    await nb.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
      Jupyter.notebook.kernel.is_connected() && Jupyter.notebook.kernel.ws &&
      Jupyter.notebook.kernel.ws.readyState === 1, { timeout: 2 * STEP_MS });
    const url = new URL(await nb.evaluate(() => Jupyter.notebook.kernel.ws.url));
    return `${url.origin}${url.pathname.replace(/kernels\/[^/]+/, 'kernels/ID')}`;
  }, 2 * STEP_MS); // a Python kernel's start: 3-6 s on a busy 2-core machine
  await step(who, 'type print(6*7), Shift+Enter, read 42', async () => {
    await nb.click('.cell .CodeMirror');
    await nb.keyboard.type('print(6*7)');
    await nb.keyboard.down('Shift'); await nb.keyboard.press('Enter'); await nb.keyboard.up('Shift');
    await nb.waitForFunction(() => {
      const out = document.querySelector('.cell .output_subarea');
      return out && out.textContent.trim() === '42';
    }, { timeout: STEP_MS });
    return await nb.evaluate(() => document.querySelector('.cell .input_prompt').textContent.trim() + ' → 42');
  });
  await step(who, 'screenshot of the notebook', () => screenshot(nb, `${who}-notebook`, WHO[who]));
  return nb;
}

// ---- main ---------------------------------------------------------------------------------------
async function main() {
  if (!DLL || !fs.existsSync(DLL)) throw new Error('GATEHOUSE_DLL must name the built gatehouse.dll');
  const { need, puppeteer } = missing();
  if (need.length) {
    process.stdout.write(`browser: SKIPPED: this machine lacks ${need.join(', ')} ` +
      '(Debian: apt-get install -y chromium libnss3-tools jupyter-notebook; run as root)\n');
    return SKIP;
  }
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(WORK, { recursive: true });
  const token = crypto.randomBytes(24).toString('hex');

  const keys = makeKeys();
  const homeMe = makeHome('me', keys, true);
  const homeFriend = makeHome('friend', keys, false);
  log('keys made (gatehouse init), NSS databases ready');
  // The gateway first (its ports, from its ready line, are the notebook's allowed origins).
  const jupyterPort = await freePort();
  const gw = await startGateway(keys, jupyterPort);
  log(`gatehouse ready: certificate listener 127.0.0.1:${gw.certPort}, optional listener 127.0.0.1:${gw.optionalPort}`);
  const jupyter = await startJupyter(token, jupyterPort, [`https://127.0.0.1:${gw.certPort}`, `https://127.0.0.1:${gw.optionalPort}`]);
  await jupyter.ready;
  log(`jupyter notebook on 127.0.0.1:${jupyter.port} (base_url /notebook/)`);
  const policy = writePolicy(gw.certPort);
  log(`policy ${policy} selects the client certificate for https://127.0.0.1:${gw.certPort}`);

  // 1. Me, with my key.
  const me = await launch(puppeteer, 'me', homeMe);
  const page = await me.newPage();
  const certOrigin = `https://127.0.0.1:${gw.certPort}`;
  await useNotebook(me, page, 'me', certOrigin, token);
  await step('me', 'who the gateway saw: my certificate', async () => {
    const pin = run('dotnet', [DLL, 'pin', path.join(keys, 'client.crt')]).trim();
    await page.goto(`${certOrigin}/_gatehouse/whoami`, { waitUntil: 'domcontentloaded' });
    const who = JSON.parse(await page.evaluate(() => document.body.innerText));
    if (who.pin !== pin || who.trust !== 'ca' || who.trustName !== 'user') throw new Error(`whoami said ${JSON.stringify(who)}, want ${pin} by ca:user`);
    return `${who.subject}, ${who.pin.slice(0, 20)}…`;
  });
  await step('me', 'a route no rule grants me: the 403 page', async () => {
    const res = await page.goto(`${certOrigin}/private/`, { waitUntil: 'domcontentloaded' });
    if (res.status() !== 403) throw new Error(`status ${res.status()}`);
    if (!/^text\/html/.test(res.headers()['content-type'] || '')) throw new Error(`content-type ${res.headers()['content-type']}`);
    return `403, ${await screenshot(page, 'me-403', WHO.me)}`;
  });

  // 2. A friend without a certificate, on the optional listener.
  const friend = await launch(puppeteer, 'friend', homeFriend);
  const fpage = await friend.newPage();
  const optOrigin = `https://127.0.0.1:${gw.optionalPort}`;
  // The browser's login dialog, by hand: Cancel while the friend has typed nothing (the browser
  // then shows the 401 page), the user name and password once they have.
  const login = await basicLoginDialog(fpage);
  await step('friend', 'open /notebook/, cancel the login dialog: the 401 page', async () => {
    const res = await fpage.goto(`${optOrigin}/notebook/`, { waitUntil: 'domcontentloaded' });
    if (res.status() !== 401) throw new Error(`status ${res.status()}`);
    if (!/^Basic realm=/.test(res.headers()['www-authenticate'] || '')) throw new Error(`WWW-Authenticate ${res.headers()['www-authenticate']}`);
    if (login.challenges !== 1) throw new Error(`${login.challenges} login dialogs`);
    return `401, ${await screenshot(fpage, 'friend-401', 'Chromium, no certificate, login dialog cancelled')}`;
  });
  login.credentials = { username: 'friend', password: gw.friendPassword };
  await useNotebook(friend, fpage, 'friend', optOrigin, token);

  // The status page, as the device's own user sees it while both browsers are still connected:
  // who is connected, who may use which route, and the refusals just seen (403 and 401).
  await step('me', 'the status page on the loopback listener', async () => {
    const spage = await me.newPage();
    const res = await spage.goto(`http://127.0.0.1:${gw.localPort}/_gatehouse/`, { waitUntil: 'domcontentloaded' });
    if (res.status() !== 200) throw new Error(`status ${res.status()}`);
    const text = await spage.evaluate(() => document.body.innerText);
    const myPin = run('dotnet', [DLL, 'pin', path.join(keys, 'client.crt')]).trim();
    for (const want of ['/notebook/', 'no grant for this route', myPin]) {
      if (!text.includes(want)) throw new Error(`the page does not show "${want}"`);
    }
    return await screenshot(spage, 'status-page', 'Chromium on the device itself, plain loopback', true);
  });

  // The kernels' WebSockets went through the gateway: its access log has their 101s, written
  // when each tunnel closes (so after the browsers are gone).
  await step('both', 'close the browsers', async () => { await Promise.all([me.closeNow(), friend.closeNow()]); });
  await step('both', 'the gateway tunnelled both kernel WebSockets (101 in its access log)', async () => {
    const upgrades = fs.readFileSync(gw.child.logFile, 'utf8').split('\n').flatMap(l => {
      try { const st = JSON.parse(l).State; return st && st.Status === 101 && /^\/notebook\/api\/kernels\/[^/]+\/channels$/.test(st.Path) ? [st] : []; } catch { return []; }
    });
    const withKey = upgrades.filter(st => st.Pin).length;
    if (withKey < 1 || upgrades.length - withKey < 1) throw new Error(`${withKey} with a key, ${upgrades.length - withKey} without, in ${gw.child.logFile}`);
    return `${withKey} with my key, ${upgrades.length - withKey} as the friend`;
  });
  return 0;
}

let exitCode = 1;
const timeoutAll = setTimeout(() => { log('the whole run is over 150 s: stopping'); finish(1); }, 150000);
let finishing = false;
async function finish(code) {
  if (finishing) return;
  finishing = true;
  clearTimeout(timeoutAll);
  for (const fn of cleanups.reverse()) { try { await fn(); } catch (err) { log(`cleanup: ${err.message}`); } }
  const left = await stopAll();
  if (left.length) log(`killed ${left.length} leftover processes of this run: ${left.join(' ')}`);
  const policyLeft = fs.existsSync(POLICY_DIR) && fs.existsSync(path.join(POLICY_DIR, `gatehouse-browser-test-${RUN_ID}.json`));
  if (policyLeft) { log('the policy file is still there'); code = 1; }
  if (code !== SKIP) {
    const passed = results.filter(r => r.ok).length;
    const failed = results.filter(r => !r.ok).length;
    process.stdout.write(`browser: ${passed} steps passed, ${failed} failed in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
    for (const f of shots) process.stdout.write(`browser: screenshot ${path.relative(ROOT, f)}\n`);
    if (code === 0 && failed === 0) process.stdout.write('browser: ok\n');
    else process.stdout.write(`browser: FAILED (logs in ${path.relative(ROOT, OUT)})\n`);
  }
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { log(`${sig}: stopping`); finish(1); });
// A closed stdout/stderr (a reader that went away) must not end the run before its clean-up.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
process.on('uncaughtException', err => { log(`uncaught: ${err.stack || err}`); finish(1); });
process.on('unhandledRejection', err => { log(`unhandled: ${err && err.stack ? err.stack : err}`); finish(1); });

main().then(code => { exitCode = code; }, err => { log(err.stack || String(err)); exitCode = 1; })
  .finally(() => finish(exitCode));
