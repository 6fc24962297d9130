// The web console's journeys in headless Chromium against a real
// `hearth serve` on the demo county (docs/console.md, docs/testing.md).
//
//   node journeys.mjs HEARTH_BIN WORK_DIR [SCREENSHOT_DIR]
//
// Everything is made here, now, in WORK_DIR: the store (hearth demo), the
// accounts (test passwords, never used elsewhere), a CA and the server's
// certificate. Each journey asserts what the store let through, not what
// the page chose to show.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [hearth, work, shots] = process.argv.slice(2);
if (!hearth || !work) {
  console.error('usage: node journeys.mjs HEARTH_BIN WORK_DIR [SCREENSHOT_DIR]');
  process.exit(2);
}
const chromiumPath = process.env.HEARTH_CHROMIUM || '/usr/bin/chromium';

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

const run = (...args) => execFileSync(hearth, args, { cwd: work, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
const runIn = (input, ...args) => execFileSync(hearth, args, { cwd: work, input, encoding: 'utf8' });
const store = ['--data', 'store', '--key-file', 'root.key'];

// --- the store, the accounts, the certificates ---------------------------
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
run('init', ...store);
run('demo', ...store, '--seed', '1');
const passwords = {
  ctl1: 'controller-test-pass', cw1: 'caseworker-test-pass', cw9: 'added-in-the-page-pass', aud1: 'auditor-test-pass', par1: 'partner-test-pass',
};
runIn(passwords.ctl1 + '\n', 'users', 'add', ...store, '--name', 'ctl1', '--role', 'controller', '--password-stdin');
runIn(passwords.cw1 + '\n', 'users', 'add', ...store, '--name', 'cw1', '--role', 'caseworker', '--district', 'D1', '--password-stdin');
runIn(passwords.aud1 + '\n', 'users', 'add', ...store, '--name', 'aud1', '--role', 'auditor', '--password-stdin');
runIn(passwords.par1 + '\n', 'users', 'add', ...store, '--name', 'par1', '--role', 'partner', '--password-stdin');
run('checkpoint', ...store);
run('ca', 'init', '--dir', 'ca');
run('ca', 'issue', '--dir', 'ca', '--name', 'localhost', '--server');
fs.writeFileSync(path.join(work, 'server.json'), JSON.stringify({
  listen: { address: '127.0.0.1', port: 0 },
  tls: { ca: 'ca/ca.pem', cert: 'ca/localhost.pem', key: 'ca/localhost.key' },
  console: { listen: { address: '127.0.0.1', port: 0 }, max_body_bytes: 16384 },
  plugins: {},
}));

// A D1 case and its client, and a D2 case, from the log.
const firstEvents = run('read', ...store, '--from', '1', '--limit', '400').trim().split('\n').map((l) => JSON.parse(l));
const d1 = firstEvents.find((e) => e.stream.startsWith('case/D1/') && e.type === 'ContactRecorded');
const d1Case = d1.stream;
const d2Case = JSON.parse(run('read', ...store, '--stream', 'case/D2/000001', '--limit', '1').trim()).stream;
const subject = d1.subjects.find((s) => s.role === 'client').id;
// A note held for review of another client (the demo's notes that name the
// client's carer), read before the server holds the store.
let heldNote = null;
for (let from = 1; !heldNote; from += 500) {
  const lines = run('read', ...store, '--from', String(from), '--limit', '500').trim();
  if (!lines) break;
  heldNote = lines.split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'CaseNoteAdded' &&
    e.facts && e.facts.mentionsThirdParty && e.personal[0].subject !== subject);
}

// --- the server ------------------------------------------------------------
let server = null;
let base = '';
async function startServer(config = 'server.json') {
  server = spawn(hearth, ['serve', ...store, '--config', config], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  server.stderr.on('data', () => {});
  base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hearth serve did not start: ' + out)), 60000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/web console on (https:\/\/localhost:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`hearth serve exited ${code}: ${out}`)));
  });
}
async function stopServer() {
  if (!server) return;
  const s = server;
  server = null;
  const exited = new Promise((resolve) => s.on('exit', resolve));
  s.kill('SIGTERM');
  await exited;
}

// A raw HTTPS request (no URL normalisation), trusting the test CA.
const ca = () => fs.readFileSync(path.join(work, 'ca/ca.pem'));
function raw(method, target, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = https.request({ host: u.hostname, port: u.port, method, path: target, headers, ca: ca() }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

let browser;
const cspViolations = [];
async function newPage() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  // Generous: the suite runs beside others on a 2-core machine, under the
  // sanitizers.
  context.setDefaultTimeout(90000);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  return { context, page };
}

async function login(page, account) {
  await page.goto(base + '/');
  await page.getByLabel('Account').fill(account);
  await page.getByLabel('Password').fill(passwords[account]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe: no serious or critical violation on the ${name} page` +
    (bad.length ? ': ' + bad.map((v) => `${v.id} (${v.nodes.length})`).join(', ') : ''));
}

async function shot(page, name) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false });
}

// page.evaluate(fetch) with the page's cookie; returns status and body.
async function inPage(page, method, target, { headers = {}, body } = {}) {
  return page.evaluate(async ({ method, target, headers, body }) => {
    const r = await fetch(target, { method, headers, body, credentials: 'same-origin' });
    return { status: r.status, body: await r.text() };
  }, { method, target, headers, body });
}

try {
  await startServer();
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });

  // --- unauthenticated: headers, static files, bad logins -------------------
  {
    const index = await raw('GET', '/');
    check(index.status === 200, 'the login page is served');
    check(/frame-ancestors 'none'/.test(index.headers['content-security-policy'] || '') &&
      !/unsafe-inline/.test(index.headers['content-security-policy']), 'a strict CSP with frame-ancestors none');
    check(/max-age=\d+/.test(index.headers['strict-transport-security'] || ''), 'HSTS');
    check(index.headers['x-content-type-options'] === 'nosniff', 'nosniff');
    for (const target of ['/static/../../../etc/passwd', '/static/%2e%2e/%2e%2e/etc/passwd',
      '/static/..%2f..%2fetc%2fpasswd', '/../etc/passwd', '/static//etc/passwd']) {
      const r = await raw('GET', target);
      check(r.status === 404 && !r.body.includes('root:'), `path traversal ${target} refused (${r.status})`);
    }
    const wrong = await raw('POST', '/api/login', {
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ account: 'ctl1', password: 'not-the-password' }),
    });
    check(wrong.status === 401 && !wrong.headers['set-cookie'], 'a wrong password is refused (401, no cookie)');
    const noSession = await raw('GET', '/api/requests');
    check(noSession.status === 401, 'no session: 401');
  }

  // --- auditor: every event verified, a tampered proof failed ------------------
  {
    const { context, page } = await newPage();
    await login(page, 'aud1');
    await page.goto(`${base}/#/timeline?case=${encodeURIComponent(d1Case)}`);
    await page.waitForFunction(() => document.querySelectorAll('#timeline td.proof').length > 0 &&
      ![...document.querySelectorAll('#timeline td.proof')].some((c) => c.dataset.proof === 'checking'));
    const marks = await page.$$eval('#timeline td.proof', (cells) => cells.map((c) => c.dataset.proof));
    check(marks.length > 1 && marks.every((m) => m === 'verified'),
      `auditor: all ${marks.length} events of ${d1Case} verified in the browser`);
    const personal = await page.evaluate(async (c) => (await fetch(`/api/timeline?case=${encodeURIComponent(c)}`)).text(), d1Case);
    check(!personal.includes('"personal"'), 'auditor: facts only, no personal section');
    await axe(page, 'auditor timeline');
    await shot(page, 'auditor-timeline');
    // The same page with one proof's path changed in transit.
    await page.route('**/api/timeline?**', async (route) => {
      const response = await route.fetch();
      const tl = await response.json();
      const p = tl.events[1].proof;
      const h = p.path.length ? p.path[0] : p.leafHash;
      const flipped = (h[0] === '0' ? '1' : '0') + h.slice(1);
      if (p.path.length) p.path[0] = flipped; else p.leafHash = flipped;
      await route.fulfill({ response, json: tl });
    });
    await page.goto(`${base}/#/timeline?case=${encodeURIComponent(d1Case)}&asOf=2030-01-01`);
    await page.waitForFunction(() => document.querySelectorAll('#timeline td.proof').length > 0 &&
      ![...document.querySelectorAll('#timeline td.proof')].some((c) => c.dataset.proof === 'checking'));
    const tampered = await page.$$eval('#timeline td.proof', (cells) => cells.map((c) => c.dataset.proof));
    check(tampered[1] === 'failed' && tampered.filter((m) => m === 'failed').length === 1,
      'auditor: the tampered proof is marked failed, the others verified');
    await page.unroute('**/api/timeline?**');
    await page.goto(`${base}/#/checkpoints`);
    await page.locator('#checkpoints tbody tr').first().waitFor();
    const sigs = await page.$$eval('#checkpoints td[data-signature]', (cells) => cells.map((c) => c.dataset.signature));
    check(sigs.length > 0 && sigs.every((v) => v === 'verified'), `auditor: ${sigs.length} checkpoint signatures verified in the browser`);
    await axe(page, 'auditor checkpoints');
    await context.close();
  }

  // --- caseworker: only her districts -----------------------------------------
  {
    const { context, page } = await newPage();
    await login(page, 'cw1');
    await page.goto(`${base}/#/worklist?district=D1&asOf=2019-03-31`);
    await page.locator('#worklist tbody tr').first().waitFor();
    const districts = await page.$$eval('#worklist tbody tr', (rows) => rows.map((r) => r.dataset.district));
    check(districts.length > 0 && districts.every((d) => d === 'D1'), `caseworker: ${districts.length} worklist items, all in D1`);
    await axe(page, 'caseworker worklist');
    await shot(page, 'caseworker-worklist');
    const other = await inPage(page, 'GET', '/api/worklist?district=D2&asOf=2019-03-31');
    check(other.status === 403, `caseworker: another district's worklist is refused (${other.status})`);
    const otherCase = await inPage(page, 'GET', `/api/timeline?case=${encodeURIComponent(d2Case)}`);
    check(otherCase.status === 403 && !otherCase.body.includes('"events"'),
      `caseworker: a case in another district is refused (${otherCase.status})`);
    const all = await inPage(page, 'GET', '/api/worklist?asOf=2019-03-31');
    const allItems = JSON.parse(all.body).items || [];
    check(all.status === 200 && allItems.every((i) => i.district === 'D1'), 'caseworker: the all-districts worklist holds only D1');
    const requests = await inPage(page, 'GET', '/api/requests');
    check(requests.status === 403, `caseworker: rights requests refused (${requests.status})`);
    // Her own case opens from the worklist.
    await page.locator('#worklist tbody tr a').first().click();
    await page.locator('#timeline tbody tr').first().waitFor();
    check(true, 'caseworker: a case of her worklist opens on its timeline');
    await context.close();
  }

  // --- partner: the return, nothing personal, no timeline -------------------------
  {
    const { context, page } = await newPage();
    const bodies = [];
    page.on('response', async (r) => {
      if (!r.url().includes('/api/')) return;  // the pages' own files hold no data
      try {
        bodies.push(await r.text());
      } catch (e) {
        // redirects and aborted responses have no body
      }
    });
    await login(page, 'par1');
    await page.goto(`${base}/#/kpi?period=2018%2F19`);
    await page.locator('table').first().waitFor();
    check(await page.locator('#kpi-csv').count() === 1, 'partner: the KPI return and its CSV link');
    // The money table, with the demo county's allocations (config/allocations
    // is published configuration: the partner's reader sees it).
    const allocation = await page.locator('#kpi-money tr', { hasText: 'money.mandatoryDfg.allocation' }).innerText();
    check(/£[1-9][\d,]*\.\d\d/.test(allocation), `partner: the money table shows the DFG allocations (${allocation.slice(0, 120)})`);
    await page.getByRole('button', { name: /Chart by quarter/ }).click();
    await page.locator('#chart svg').waitFor();
    const bars = await page.locator('#chart svg rect').count();
    check(bars > 0, `partner: a chart of the figure by quarter and district (${bars} bars)`);
    await axe(page, 'partner KPI');
    await shot(page, 'partner-kpi');
    const csv = await inPage(page, 'GET', '/api/kpi.csv?period=2018%2F19');
    check(csv.status === 200 && csv.body.split('\n').length > 3, 'partner: the CSV downloads');
    bodies.push(csv.body);
    for (const target of [`/api/timeline?case=${encodeURIComponent(d1Case)}`, '/api/worklist?district=D1',
      '/api/requests', `/api/disclosures?subject=${subject}`, '/api/checkpoints']) {
      const r = await inPage(page, 'GET', target);
      bodies.push(r.body);
      check(r.status === 403, `partner: ${target.split('?')[0]} refused (${r.status})`);
    }
    const leaked = bodies.filter((b) => /P-D\d-\d{6}|"personal"|case\/D\d\/\d+/.test(b));
    check(leaked.length === 0, `partner: no personal data or case reference in any of ${bodies.length} responses` +
      leaked.map((b) => ': ' + b.slice(0, 200)).join(''));
    await context.close();
  }

  // --- controller: receipt to fulfilled; the pack equals hearth sar's --------
  {
    const { context, page } = await newPage();
    await login(page, 'ctl1');
    await page.goto(`${base}/#/requests`);
    await page.getByLabel('Data subject reference').fill(subject);
    await page.getByLabel('Kind').selectOption('access');
    await page.getByLabel('Identity must be verified first').check();
    await page.getByRole('button', { name: 'Record receipt' }).click();
    const row = page.locator('#requests tbody tr', { hasText: subject });
    try {
      await row.first().waitFor();
    } catch (e) {
      console.error('requests page says:', await page.locator('main').textContent());
      throw e;
    }
    const ref = await row.first().getAttribute('data-request');
    check(/^R-\d+$/.test(ref), `controller: request ${ref} received`);
    await axe(page, 'controller requests');
    await shot(page, 'controller-requests');
    // Bad input changes nothing.
    const before = await inPage(page, 'GET', '/api/requests');
    const noCsrf = await inPage(page, 'POST', '/api/requests', {
      headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ subject, kind: 'access' }),
    });
    check(noCsrf.status === 403, `controller: a POST without the CSRF token is refused (${noCsrf.status})`);
    const csrf = await page.evaluate(async () => (await (await fetch('/api/me')).json()).csrf);
    const big = await inPage(page, 'POST', '/api/requests', {
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ subject, kind: 'access', padding: 'x'.repeat(40000) }),
    });
    check(big.status === 413, `controller: an oversized body is refused (${big.status})`);
    const fulfilEarly = await inPage(page, 'POST', `/api/requests/${ref}/fulfil`, {
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: '{}',
    });
    check(fulfilEarly.status === 400 && /identity/.test(fulfilEarly.body),
      `controller: fulfilling before identity is verified is refused by the store's rule (${fulfilEarly.status})`);
    const after = await inPage(page, 'GET', '/api/requests');
    check(before.body === after.body, 'controller: the refused requests changed nothing');

    await page.locator(`button[data-action=pause][data-request="${ref}"]`).click();
    await page.locator(`#requests tbody tr[data-request="${ref}"] td.state`, { hasText: 'paused' }).waitFor();
    await page.locator(`button[data-action=resume][data-request="${ref}"]`).click();
    await page.locator(`#requests tbody tr[data-request="${ref}"] td.state`, { hasText: 'open' }).waitFor();
    check(true, `controller: the clock of ${ref} stopped and resumed`);
    await page.locator(`button[data-action=identity][data-request="${ref}"]`).click();
    await page.locator('#requests-status', { hasText: 'verified' }).waitFor();
    // The store as it stands before the pack, for `hearth sar` to compare with.
    await context.close();
    await stopServer();
    fs.cpSync(path.join(work, 'store'), path.join(work, 'store-copy'), { recursive: true });
    await startServer();
    const again = await newPage();
    await login(again.page, 'ctl1');
    await again.page.goto(`${base}/#/requests`);
    await again.page.locator(`button[data-action=pack][data-request="${ref}"]`).click();
    const link = again.page.locator(`#download-json-${ref}`);
    await link.waitFor();
    const [download] = await Promise.all([again.page.waitForEvent('download'), link.click()]);
    const downloaded = fs.readFileSync(await download.path(), 'utf8');
    const [downloadHtml] = await Promise.all([again.page.waitForEvent('download'),
      again.page.locator(`#download-html-${ref}`).click()]);
    const downloadedHtml = fs.readFileSync(await downloadHtml.path(), 'utf8');
    await again.page.locator(`button[data-action=fulfil][data-request="${ref}"]`).click();
    await again.page.locator('#confirm-yes').click();
    await again.page.locator(`#requests tbody tr[data-request="${ref}"] td.state`, { hasText: 'fulfilled' }).waitFor();
    check(true, `controller: ${ref} fulfilled`);
    await again.page.goto(`${base}/#/retention?asOf=2040-01-01`);
    await again.page.locator('#retention tbody tr').first().waitFor();
    check(await again.page.locator('#retention tbody tr[data-action=erase]').count() > 0,
      'controller: the retention review lists cases past their rule');
    await axe(again.page, 'controller retention');
    // A person: the disclosures show the pack just given; restriction takes a second step.
    await again.page.goto(`${base}/#/person?subject=${encodeURIComponent(subject)}`);
    await again.page.locator('#disclosures tbody tr', { hasText: 'ctl1' }).first().waitFor();
    check(true, 'controller: the person\'s disclosures list the pack given by ctl1');
    await axe(again.page, 'controller person');
    await again.page.locator('#restrict').click();
    const would = await again.page.locator('#confirm-text').textContent();
    check(/restrict processing of/.test(would), 'controller: restriction first says what will happen');
    await again.page.getByRole('button', { name: 'Cancel' }).click();
    await again.context.close();
    await stopServer();
    run('sar', '--data', 'store-copy', '--key-file', 'root.key', '--subject', subject, '--request', ref,
      '--out', 'sar-cli');
    const cli = fs.readFileSync(path.join(work, 'sar-cli/sar.json'), 'utf8');
    const cliHtml = fs.readFileSync(path.join(work, 'sar-cli/sar.html'), 'utf8');
    check(downloaded.length > 100 && downloaded === cli, `controller: the downloaded pack equals hearth sar's sar.json (${cli.length} bytes)`);
    check(downloadedHtml === cliHtml, "controller: the downloaded HTML equals hearth sar's sar.html");
    const restricted = run('rights', 'list', ...store, '--all', '--json');
    let restrictions = '';
    try {
      restrictions = run('read', ...store, '--stream', 'rights/restrictions');
    } catch (e) {
      restrictions = '';  // no such stream: nothing was ever restricted
    }
    check(!restrictions.includes(subject), 'controller: a cancelled restriction wrote nothing');
    const status = JSON.parse(restricted).requests.find((q) => q.request === ref);  // the newest page: ref is on it
    check(status && status.status === 'fulfilled', `controller: the store has ${ref} fulfilled`);
    const log = JSON.parse(run('disclosures', ...store, '--subject', subject));
    check(JSON.stringify(log).includes('ctl1'), 'controller: the access log names the account');
  }
  // --- controller: a note held for review, redacted in the page ------------
  {
    check(heldNote !== null, 'the demo county has a note held for review');
    if (!server) await startServer();
    const heldClient = heldNote.personal[0].subject;
    const words = heldNote.personal[0].details.freeText;
    const { context, page } = await newPage();
    await login(page, 'ctl1');
    await page.goto(`${base}/#/requests`);
    await page.getByLabel('Data subject reference').fill(heldClient);
    await page.getByLabel('Kind').selectOption('access');
    await page.getByRole('button', { name: 'Record receipt' }).click();
    const row = page.locator('#requests tbody tr', { hasText: heldClient });
    await row.first().waitFor();
    const ref = await row.first().getAttribute('data-request');
    await page.locator(`button[data-action=pack][data-request="${ref}"]`).click();
    const noteRow = page.locator(`#held-notes tr[data-held-note="${heldNote.position}"]`);
    await noteRow.waitFor();
    check((await noteRow.textContent()).includes(words), 'controller: the reviewer reads the note held for review');
    await axe(page, 'controller held notes');
    await page.locator('#held-notes').scrollIntoViewIfNeeded();
    await shot(page, 'controller-held-notes');
    const redacted = "Spoke with the client's carer about visit dates.";
    await page.locator(`#note-${heldNote.position}-text`).fill(redacted);
    await page.locator(`#note-${heldNote.position}-basis`).selectOption('releaseRedacted');
    await page.locator(`#note-${heldNote.position}-decide`).click();
    await page.locator('#requests-status', { hasText: 'recorded' }).waitFor();
    await page.locator(`button[data-action=pack][data-request="${ref}"]`).click();
    const link = page.locator(`#download-json-${ref}`);
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const sent = fs.readFileSync(await download.path(), 'utf8');
    check(sent.includes(redacted) && !sent.includes(words),
      "controller: the pack carries the reviewer's redaction, not the note's own words");
    await context.close();
  }

  // --- controller: accounts managed while the server runs --------------------
  {
    if (!server) await startServer();
    const admin = await newPage();
    await login(admin.page, 'ctl1');
    await admin.page.goto(`${base}/#/accounts`);
    await admin.page.getByLabel('Account name (a staff reference)').fill('cw9');
    await admin.page.getByLabel('Role').selectOption('caseworker');
    await admin.page.getByLabel("Districts (a caseworker's, comma separated)").fill('D3');
    await admin.page.getByLabel('Password (at least 12 characters)').fill(passwords.cw9);
    await admin.page.getByRole('button', { name: 'Add account' }).click();
    await admin.page.locator('#accounts tr[data-account="cw9"]').waitFor();
    check(true, 'controller: an account added in the page while the server runs');
    await axe(admin.page, 'controller accounts');
    const listed = await inPage(admin.page, 'GET', '/api/accounts');
    check(!/argon2/.test(listed.body) && !listed.body.includes(passwords.cw9), 'accounts: no hash or password leaves the server');
    const added = await newPage();
    await login(added.page, 'cw9');
    const own = await inPage(added.page, 'GET', '/api/worklist?district=D3');
    const other = await inPage(added.page, 'GET', '/api/worklist?district=D1');
    check(own.status === 200 && other.status === 403, `accounts: the new caseworker reads D3 only (${own.status}, ${other.status})`);
    await admin.page.locator('button[data-action=disable][data-account="cw9"]').click();
    await admin.page.locator('#confirm-yes').click();
    await admin.page.locator('#accounts tr[data-account="cw9"]', { hasText: 'disabled' }).waitFor();
    const after = await inPage(added.page, 'GET', '/api/worklist?district=D3');
    check(after.status === 401, `accounts: disabling ends the account's session (${after.status})`);
    const cwTry = await inPage(added.page, 'GET', '/api/accounts');
    check(cwTry.status === 401, 'accounts: nothing answers the disabled account');
    await added.context.close();
    await admin.context.close();
  }

  // --- an expired session: the page asks to log in again, nothing is done ----
  {
    await stopServer();
    const short = JSON.parse(fs.readFileSync(path.join(work, 'server.json'), 'utf8'));
    short.console.session_idle_ms = 6000;
    fs.writeFileSync(path.join(work, 'server-short.json'), JSON.stringify(short));
    await startServer('server-short.json');
    const { context, page } = await newPage();
    await login(page, 'ctl1');
    await page.goto(`${base}/#/requests`);
    await page.getByLabel('Data subject reference').waitFor();
    const before = await inPage(page, 'GET', '/api/requests');
    await page.waitForTimeout(8000);
    await page.getByLabel('Data subject reference').fill(subject);
    await page.getByLabel('Kind').selectOption('rectification');
    await page.getByRole('button', { name: 'Record receipt' }).click();
    await page.getByText('Your session has ended: log in again.').waitFor();
    check(true, 'an idle session expired: the page asks to log in again');
    await login(page, 'ctl1');
    const after = await inPage(page, 'GET', '/api/requests');
    check(before.body === after.body, 'an expired session recorded nothing');
    await context.close();
  }

  check(cspViolations.length === 0, `no Content-Security-Policy violation (${cspViolations.join('; ')})`);
} catch (e) {
  console.error(e);
  failures++;
} finally {
  if (browser) await browser.close();
  await stopServer();
}
console.log(failures ? `${failures} check(s) failed` : 'every journey passed');
process.exit(failures ? 1 : 0);
