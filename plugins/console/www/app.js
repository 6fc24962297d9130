// hearth web console: one ES module, no build step (docs/console.md).
//
// The page holds no power of its own: every answer comes from the JSON
// endpoints, which act through the account's session in the store. The page
// builds its DOM with createElement and textContent only (never innerHTML),
// and sends the CSRF token it was given at login on every POST.
import { verifyInclusion, verifyCheckpoint } from './verify.js';

const state = { me: null };

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const options = { method, headers: {}, credentials: 'same-origin' };
  if (method !== 'GET') {
    options.headers['Content-Type'] = 'application/json';
    options.headers['X-CSRF-Token'] = state.me ? state.me.csrf : '';
    options.body = JSON.stringify(body || {});
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = text;
  try {
    data = JSON.parse(text);
  } catch (e) {
    // not JSON: kept as text
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || text);
  }
  return data;
}

// h('p', {id: 'x'}, 'text', child): an element with attributes and children.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function main() {
  return document.getElementById('main');
}

function show(...nodes) {
  main().replaceChildren(...nodes);
}

function statusLine(id) {
  return h('p', { id, role: 'status', 'aria-live': 'polite', class: 'status' });
}

function say(id, text, bad) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('bad', !!bad);
}

function table(caption, headers, rows, id) {
  return h('table', { id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows));
}

function field(label, input) {
  const id = input.id;
  return h('p', { class: 'field' }, h('label', { for: id }, label), input);
}

// --- login -----------------------------------------------------------------

function loginPage(message) {
  shownRoute = null;
  document.getElementById('nav').replaceChildren();
  document.getElementById('who').textContent = '';
  const form = h('form', { id: 'login', onsubmit: async (ev) => {
    ev.preventDefault();
    const account = document.getElementById('account').value;
    const password = document.getElementById('password');
    try {
      state.me = await api('POST', '/api/login', { account, password: password.value });
      password.value = '';
      start();
    } catch (e) {
      password.value = '';
      say('login-status', e.status === 429 ? 'Too many failed logins: wait and try again.'
        : 'Wrong account or password.', true);
    }
  } },
  h('h2', {}, 'Log in'),
  field('Account', h('input', { id: 'account', name: 'account', autocomplete: 'username', required: true })),
  field('Password', h('input', { id: 'password', name: 'password', type: 'password',
    autocomplete: 'current-password', required: true })),
  h('button', { type: 'submit' }, 'Log in'),
  statusLine('login-status'));
  show(form);
  if (message) say('login-status', message, true);
}

async function logout() {
  try {
    await api('POST', '/api/logout');
  } catch (e) {
    // the session may already have ended
  }
  state.me = null;
  location.hash = '';
  loginPage();
}

// --- navigation --------------------------------------------------------------

const pages = {
  controller: [['#/requests', 'Rights requests'], ['#/person', 'A person'], ['#/retention', 'Retention review'],
    ['#/timeline', 'Case timeline'], ['#/accounts', 'Accounts']],
  auditor: [['#/timeline', 'Case timeline'], ['#/checkpoints', 'Checkpoints']],
  caseworker: [['#/worklist', 'Worklist'], ['#/timeline', 'Case timeline']],
  partner: [['#/kpi', 'KPI return']],
};

function nav() {
  const links = (pages[state.me.role] || []).map(([href, text]) => h('a', { href }, text));
  links.push(h('button', { type: 'button', id: 'logout', onclick: logout }, 'Log out'));
  document.getElementById('nav').replaceChildren(...links);
  document.getElementById('who').textContent =
    `${state.me.account} (${state.me.role}${state.me.districts.length ? ', ' + state.me.districts.join(', ') : ''})`;
}

// The page shown (or being fetched): the default page and its own hash are
// one page, so moving from one to the other does not render it twice (two
// renders racing would replace a form being filled in).
let shownRoute = null;
// Bumped by each route: a page whose answer arrives after the user moved on
// does not draw over the newer page.
let generation = 0;

function route() {
  if (!state.me) return;
  const [path, query] = location.hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const first = (pages[state.me.role] || [['#/']])[0][0];
  const page = path || first.slice(1);
  const key = `${page}?${params}`;
  if (key === shownRoute) return;
  shownRoute = key;
  generation++;
  const run = {
    '/requests': () => requestsPage(params),
    '/person': () => personPage(params),
    '/checkpoints': checkpointsPage,
    '/retention': () => retentionPage(params),
    '/accounts': accountsPage,
    '/timeline': () => timelinePage(params),
    '/worklist': () => worklistPage(params),
    '/kpi': () => kpiPage(params),
  }[page];
  if (!run) {
    location.hash = first;
    return;
  }
  Promise.resolve(run()).catch(failed);
}

function failed(e) {
  if (e instanceof ApiError && e.status === 401) {
    state.me = null;
    loginPage('Your session has ended: log in again.');
    return;
  }
  show(h('h2', {}, 'Refused'), h('p', { id: 'error', role: 'alert' },
    `${e.status || ''} ${e.message}`));
}

async function start() {
  shownRoute = null;
  try {
    state.me = await api('GET', '/api/me');
  } catch (e) {
    loginPage();
    return;
  }
  nav();
  route();
}

// --- controller: rights requests ------------------------------------------

const kinds = ['access', 'rectification', 'erasure', 'restriction', 'portability', 'objection'];

// The first page holds every open request and the closed ones among the
// newest; `next` pages (?after=) the older closed ones, `openNext` more open
// ones (?open=1&after=) when there are more than a page of them.
async function requestsPage(params) {
  const page = new URLSearchParams();
  for (const key of ['after', 'open']) {
    const value = params instanceof URLSearchParams ? params.get(key) : null;
    if (value) page.set(key, value);
  }
  const gen = generation;
  const qs = page.toString();
  const data = await api('GET', `/api/requests${qs ? `?${qs}` : ''}`);
  if (gen !== generation) return;
  const rows = data.requests.map((q) => {
    const actions = [];
    const open = q.status !== 'fulfilled' && q.status !== 'refused';
    if (open && q.identityNeeded && !q.identityVerifiedOn) {
      actions.push(h('button', { type: 'button', 'data-action': 'identity', 'data-request': q.request,
        onclick: () => act(q.request, 'identity', {}, `Identity of the requester of ${q.request} recorded as verified.`) },
      'Identity verified'));
    }
    if (open && !q.paused) {
      const reason = h('select', { id: `pause-reason-${q.request}`, 'aria-label': `Why the clock of ${q.request} stops` },
        ['clarification', 'identity', 'authority', 'fee'].map((r) => h('option', { value: r }, r)));
      actions.push(reason, h('button', { type: 'button', 'data-action': 'pause', 'data-request': q.request,
        onclick: () => act(q.request, 'pause', { reason: reason.value }, `Clock of ${q.request} stopped.`) },
      'Stop clock'));
    }
    if (open && q.paused) {
      actions.push(h('button', { type: 'button', 'data-action': 'resume', 'data-request': q.request,
        onclick: () => act(q.request, 'resume', {}, `Clock of ${q.request} running again.`) }, 'Resume clock'));
    }
    if (open && q.kind === 'access') {
      actions.push(h('button', { type: 'button', 'data-action': 'pack', 'data-request': q.request,
        onclick: () => generatePack(q.request) }, 'Generate pack'));
      actions.push(h('span', { id: `pack-${q.request}`, class: 'downloads' }));
    }
    if (open && q.kind === 'erasure') {
      actions.push(h('button', { type: 'button', 'data-action': 'erase', 'data-request': q.request,
        onclick: () => twoStep(`/api/requests/${encodeURIComponent(q.request)}/erase`, {},
          `Erasure request ${q.request} decided.`, requestsPage, 'requests-status') }, 'Decide erasure'));
    }
    if (open && q.kind !== 'erasure') {
      actions.push(h('button', { type: 'button', 'data-action': 'fulfil', 'data-request': q.request,
        onclick: () => confirmFulfil(q.request) }, 'Mark fulfilled'));
    }
    const left = q.daysLeft === undefined ? '' : q.daysLeft < 0 ? `overdue by ${-q.daysLeft}` : String(q.daysLeft);
    return h('tr', { 'data-request': q.request, class: q.daysLeft < 0 ? 'overdue' : '' },
      h('th', { scope: 'row' }, q.request), h('td', {}, q.subject), h('td', {}, q.kind),
      h('td', { class: 'state' }, q.paused ? 'paused' : q.status), h('td', {}, q.receivedOn || ''),
      h('td', {}, q.due || q.closedOn || ''), h('td', {}, left), h('td', {}, actions));
  });
  const receive = h('form', { id: 'receive', onsubmit: async (ev) => {
    ev.preventDefault();
    const body = {
      subject: document.getElementById('subject').value.trim(),
      kind: document.getElementById('kind').value,
      identityNeeded: document.getElementById('identity-needed').checked,
    };
    const received = document.getElementById('received').value;
    if (received) body.receivedOn = received;
    try {
      const q = await api('POST', '/api/requests', body);
      await requestsPage();
      say('requests-status', `Request ${q.request} recorded, due ${q.due}.`);
    } catch (e) {
      if (e.status === 401) return failed(e);
      say('requests-status', `Refused: ${e.message}`, true);
    }
  } },
  h('h3', {}, 'Receive a request'),
  field('Data subject reference', h('input', { id: 'subject', required: true, placeholder: 'P-000123' })),
  field('Kind', h('select', { id: 'kind' }, kinds.map((k) => h('option', { value: k }, k)))),
  field('Received on', h('input', { id: 'received', type: 'date' })),
  h('p', { class: 'field check' }, h('input', { id: 'identity-needed', type: 'checkbox' }),
    h('label', { for: 'identity-needed' }, 'Identity must be verified first')),
  h('button', { type: 'submit' }, 'Record receipt'));
  show(h('h2', {}, 'Rights requests'),
    h('p', {}, `Today is ${data.today}. Overdue requests first; the due date follows the ICO's count.`),
    statusLine('requests-status'),
    table('Requests', ['Request', 'Subject', 'Kind', 'Status', 'Received', 'Due / closed', 'Days left', 'Actions'],
      rows, 'requests'),
    ...(data.openNext ? [h('p', {}, h('a', { id: 'requests-open-next',
      href: `#/requests?${new URLSearchParams({ open: '1', after: data.openNext })}` }, 'More open requests'))] : []),
    ...(data.next ? [h('p', {}, h('a', { id: 'requests-next',
      href: `#/requests?${new URLSearchParams({ after: data.next })}` }, 'Older closed requests'))] : []),
    receive);
}

async function act(ref, action, body, done) {
  try {
    await api('POST', `/api/requests/${encodeURIComponent(ref)}/${action}`, body);
    await requestsPage();
    say('requests-status', done);
  } catch (e) {
    if (e.status === 401) return failed(e);
    say('requests-status', `Refused: ${e.message}`, true);
  }
}

async function generatePack(ref) {
  try {
    const p = await api('POST', `/api/requests/${encodeURIComponent(ref)}/pack`);
    const base = `/api/requests/${encodeURIComponent(ref)}`;
    document.getElementById(`pack-${ref}`).replaceChildren(
      h('a', { href: `${base}/pack.json`, download: `sar-${ref}.json`, id: `download-json-${ref}` }, 'Download JSON'),
      ' ',
      h('a', { href: `${base}/pack.html`, download: `sar-${ref}.html`, id: `download-html-${ref}` }, 'Download HTML'));
    say('requests-status', `Pack for ${ref}: ${p.events} entries, ${p.withheldSections} sections withheld, ` +
      `${p.heldForReview} notes held for review.`);
    // Other people named with the person: release their sections with a
    // basis, or withhold them (then generate the pack again).
    const review = p.thirdParties.map((t) => {
      const basis = h('select', { id: `basis-${t.subject}`, 'aria-label': `Decision about ${t.subject}` },
        ['withhold', 'thirdPartyConsented', 'reasonableWithoutConsent'].map((b) => h('option', { value: b }, b)));
      const reason = h('input', { id: `reason-${t.subject}`, 'aria-label': `Reason code for ${t.subject}`,
        value: 'reviewed' });
      return h('tr', { 'data-third-party': t.subject }, h('th', { scope: 'row' }, t.subject), h('td', {}, t.role),
        h('td', {}, basis), h('td', {}, reason),
        h('td', {}, h('button', { type: 'button', onclick: () => act(ref, 'third-party',
          { thirdParty: t.subject, role: t.role, basis: basis.value, reasonCode: reason.value.trim() },
          `Decision about ${t.subject} recorded: generate the pack of ${ref} again.`) }, 'Record decision')));
    });
    document.getElementById('third-parties')?.remove();
    if (review.length) {
      main().append(h('section', { id: 'third-parties' }, table(`Other people in the pack of ${ref}`,
        ['Person', 'Role', 'Decision', 'Reason code', ''], review, 'third-party-table')));
    }
    // Notes that mention someone else: send whole, send the reviewer's
    // redacted text, or withhold (then generate the pack again).
    const notes = (p.heldNotes || []).map((n) => {
      const id = `note-${n.position}`;
      const basis = h('select', { id: `${id}-basis`, 'aria-label': `Decision about the note at ${n.position}` },
        ['releaseRedacted', 'withhold', 'thirdPartyConsented', 'reasonableWithoutConsent']
          .map((b) => h('option', { value: b }, b)));
      const text = h('textarea', { id: `${id}-text`, rows: 3, cols: 50,
        'aria-label': `Redacted text of the note at ${n.position}` });
      text.value = n.text;
      const reason = h('input', { id: `${id}-reason`, 'aria-label': `Reason code for the note at ${n.position}`,
        value: 'reviewed' });
      return h('tr', { 'data-held-note': String(n.position) }, h('th', { scope: 'row' }, n.date),
        h('td', {}, h('p', {}, n.text), text), h('td', {}, basis), h('td', {}, reason),
        h('td', {}, h('button', { type: 'button', id: `${id}-decide`, onclick: () => act(ref, 'held-note',
          { notePosition: n.position, basis: basis.value, reasonCode: reason.value.trim(),
            ...(basis.value === 'releaseRedacted' ? { redactedText: text.value } : {}) },
          `Decision about the note of ${n.date} recorded: generate the pack of ${ref} again.`) },
        'Record decision')));
    });
    document.getElementById('held-notes')?.remove();
    if (notes.length) {
      main().append(h('section', { id: 'held-notes' }, table(`Notes held for review in the pack of ${ref}`,
        ['Date', 'Text (edit it to redact)', 'Decision', 'Reason code', ''], notes, 'held-note-table')));
    }
  } catch (e) {
    if (e.status === 401) return failed(e);
    say('requests-status', `Refused: ${e.message}`, true);
  }
}

function confirmFulfil(ref) {
  // A second step that says exactly what will happen.
  const box = h('div', { id: 'confirm', role: 'alertdialog', 'aria-labelledby': 'confirm-text' },
    h('p', { id: 'confirm-text' }, `Record request ${ref} as fulfilled today (pack sent)? ` +
      'This closes the request; it cannot be reopened.'),
    h('button', { type: 'button', id: 'confirm-yes', onclick: () => {
      box.remove();
      act(ref, 'fulfil', { actionCode: 'packSent' }, `Request ${ref} fulfilled.`);
    } }, `Yes, mark ${ref} fulfilled`),
    h('button', { type: 'button', onclick: () => box.remove() }, 'Cancel'));
  main().prepend(box);
  document.getElementById('confirm-yes').focus();
}

// A change with a second step: the server says exactly what would happen
// (nothing is done without "confirm": true), the page asks, then confirms.
async function twoStep(path, body, done, refresh, statusId) {
  try {
    const first = await api('POST', path, body);
    if (!first.confirmNeeded) throw new Error('the server did not ask for confirmation');
    const box = h('div', { id: 'confirm', role: 'alertdialog', 'aria-labelledby': 'confirm-text' },
      h('p', { id: 'confirm-text' }, `This will ${first.wouldDo}.`),
      h('button', { type: 'button', id: 'confirm-yes', onclick: async () => {
        box.remove();
        try {
          await api('POST', path, { ...body, confirm: true });
          await refresh();
          say(statusId, done);
        } catch (e) {
          if (e.status === 401) return failed(e);
          say(statusId, `Refused: ${e.message}`, true);
        }
      } }, 'Yes, do it'),
      h('button', { type: 'button', onclick: () => box.remove() }, 'Cancel'));
    main().prepend(box);
    document.getElementById('confirm-yes').focus();
  } catch (e) {
    if (e.status === 401) return failed(e);
    say(statusId, `Refused: ${e.message}`, true);
  }
}

// --- controller: a person (disclosures, restriction) -------------------------

async function personPage(params) {
  const subject = params.get('subject') || '';
  const form = h('form', { id: 'person-form', onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = `#/person?${new URLSearchParams({ subject: document.getElementById('person').value.trim() })}`;
  } },
  field('Data subject reference', h('input', { id: 'person', value: subject, required: true, placeholder: 'P-000123' })),
  h('button', { type: 'submit' }, 'Show disclosures'));
  show(h('h2', {}, 'A person'), form, statusLine('person-status'));
  if (!subject) return;
  const base = `/api/subjects/${encodeURIComponent(subject)}`;
  const reason = h('input', { id: 'reason', value: 'accuracyContested' });
  const refresh = () => personPage(params);
  main().append(h('form', { id: 'restrict-form', onsubmit: (ev) => ev.preventDefault() },
    h('h3', {}, 'Restriction of processing (Art. 18)'),
    field('Reason code', reason),
    h('button', { type: 'button', id: 'restrict', onclick: () => twoStep(`${base}/restrict`,
      { reason: reason.value.trim() }, `${subject} restricted.`, refresh, 'person-status') }, 'Restrict'),
    h('button', { type: 'button', id: 'lift', onclick: () => twoStep(`${base}/lift`,
      { reason: reason.value.trim() }, `Restriction of ${subject} lifted.`, refresh, 'person-status') }, 'Lift')));
  const gen = generation;
  const log = await api('GET', `${base}/disclosures`);
  if (gen !== generation) return;
  const rows = log.map((d) => h('tr', {},
    h('td', {}, d.date), h('td', {}, d.kind), h('td', {}, d.by || ''), h('td', {}, d.role || ''),
    h('td', {}, d.plugin || ''), h('td', {}, d.purpose || ''), h('td', {}, d.recipientRef || d.recipientType || '')));
  main().append(table(`Reads and disclosures of ${subject}'s personal data`,
    ['When', 'Action', 'By', 'Role', 'Through', 'Why', 'Recipient'], rows, 'disclosures'));
}

// --- controller: retention review ------------------------------------------------

async function retentionPage(params) {
  const asOf = params.get('asOf') || '';
  const form = h('form', { id: 'retention-form', onsubmit: (ev) => {
    ev.preventDefault();
    const d = document.getElementById('ret-as-of').value;
    location.hash = d ? `#/retention?${new URLSearchParams({ asOf: d })}` : '#/retention';
  } },
  field('As of (optional)', h('input', { id: 'ret-as-of', type: 'date', value: asOf })),
  h('button', { type: 'submit' }, 'Review'));
  show(h('h2', {}, 'Retention review'), form);
  const gen = generation;
  const r = await api('GET', `/api/retention${asOf ? '?' + new URLSearchParams({ asOf }) : ''}`);
  if (gen !== generation) return;
  const rows = r.items.map((i) => h('tr', { 'data-action': i.action },
    h('th', { scope: 'row' }, h('a', { href: `#/timeline?case=${encodeURIComponent(i.case)}` }, i.case)),
    h('td', {}, i.subject), h('td', {}, i.recordClass), h('td', {}, i.rule), h('td', {}, i.keepUntil),
    h('td', { class: i.action === 'erase' ? 'bad' : '' }, i.action + (i.legalHold ? ' (legal hold)' : '')),
    h('td', {}, i.explanation)));
  main().append(h('p', { id: 'retention-summary' },
    `${r.cases} cases reviewed as of ${r.asOf}; those past their rule first. Erasure follows an erasure ` +
    'request decided on the Rights requests page.'),
  table('Cases and their retention', ['Case', 'Client', 'Record class', 'Rule', 'Keep until', 'Action', 'How'],
    rows, 'retention'));
}

// --- controller: console accounts --------------------------------------------------

async function accountsPage() {
  const refresh = () => accountsPage();
  const role = h('select', { id: 'acc-role' },
    ['caseworker', 'controller', 'auditor', 'partner'].map((r) => h('option', { value: r }, r)));
  const form = h('form', { id: 'account-form', onsubmit: async (ev) => {
    ev.preventDefault();
    const password = document.getElementById('acc-password');
    const districts = document.getElementById('acc-districts').value.split(',').map((d) => d.trim())
      .filter((d) => d);
    const name = document.getElementById('acc-name').value.trim();
    try {
      await api('POST', '/api/accounts', { account: name, role: role.value, districts, password: password.value });
      password.value = '';
      await refresh();
      say('accounts-status', `Account ${name} added.`);
    } catch (e) {
      password.value = '';
      if (e.status === 401) return failed(e);
      say('accounts-status', `Refused: ${e.message}`, true);
    }
  } },
  h('h3', {}, 'Add an account'),
  field('Account name (a staff reference)', h('input', { id: 'acc-name', required: true, autocomplete: 'off' })),
  field('Role', role),
  field('Districts (a caseworker\'s, comma separated)', h('input', { id: 'acc-districts', placeholder: 'D1, D2' })),
  field('Password (at least 12 characters)', h('input', { id: 'acc-password', type: 'password', required: true,
    autocomplete: 'new-password' })),
  h('button', { type: 'submit' }, 'Add account'));
  show(h('h2', {}, 'Accounts'),
    h('p', {}, 'Console accounts. A new password or a disabled account ends its sessions at once; ' +
      'a disabled account is final.'),
    statusLine('accounts-status'));
  const gen = generation;
  const r = await api('GET', '/api/accounts');
  if (gen !== generation) return;
  const rows = r.accounts.map((a) => {
    const actions = [];
    if (!a.disabled) {
      const pw = h('input', { type: 'password', id: `pw-${a.account}`, autocomplete: 'new-password',
        'aria-label': `New password for ${a.account}` });
      actions.push(pw, h('button', { type: 'button', 'data-action': 'password', 'data-account': a.account,
        onclick: async () => {
          try {
            await api('POST', `/api/accounts/${encodeURIComponent(a.account)}/password`, { password: pw.value });
            pw.value = '';
            await refresh();
            say('accounts-status', `New password of ${a.account} set; its sessions ended.`);
          } catch (e) {
            pw.value = '';
            if (e.status === 401) return failed(e);
            say('accounts-status', `Refused: ${e.message}`, true);
          }
        } }, 'Set password'),
      h('button', { type: 'button', 'data-action': 'disable', 'data-account': a.account,
        onclick: () => twoStep(`/api/accounts/${encodeURIComponent(a.account)}/disable`, {},
          `Account ${a.account} disabled.`, refresh, 'accounts-status') }, 'Disable'));
    }
    return h('tr', { 'data-account': a.account }, h('th', { scope: 'row' }, a.account), h('td', {}, a.role),
      h('td', {}, a.districts.join(', ')), h('td', {}, a.disabled ? 'disabled' : 'active'),
      h('td', {}, a.addedOn), h('td', {}, a.passwordSetOn), h('td', {}, actions));
  });
  main().append(table('Accounts', ['Account', 'Role', 'Districts', 'Status', 'Added', 'Password set', 'Actions'],
    rows, 'accounts'), form);
}

// --- auditor: checkpoints ------------------------------------------------------

async function checkpointsPage() {
  const gen = generation;
  const cps = await api('GET', '/api/checkpoints');
  if (gen !== generation) return;
  const rows = [];
  for (const c of [...cps.checkpoints].reverse()) {
    let ok = false;
    let why = '';
    try {
      ok = await verifyCheckpoint(c, cps.publicKey);
    } catch (e) {
      why = ` (${e.message})`;
    }
    rows.push(h('tr', { 'data-size': c.size },
      h('th', { scope: 'row' }, c.size), h('td', {}, new Date(c.timeMicros / 1000).toISOString()),
      h('td', { class: 'hash' }, c.root),
      h('td', { class: ok ? 'good' : 'bad', 'data-signature': ok ? 'verified' : 'failed' },
        ok ? 'verified' : `failed${why}`)));
  }
  if (gen !== generation) return;
  show(h('h2', {}, 'Checkpoints'),
    h('p', {}, `Signed with the Ed25519 key ${cps.publicKey}; compare it with the one published ` +
      'out of band (hearth keys export-public). Each signature is checked in this browser.'),
    table('Signed checkpoints, newest first', ['Records', 'Signed at (UTC)', 'Root', 'Signature'], rows, 'checkpoints'));
}

// --- auditor: timeline with proofs --------------------------------------------

async function timelinePage(params) {
  const caseId = params.get('case') || '';
  const asOf = params.get('asOf') || '';
  const form = h('form', { id: 'timeline-form', onsubmit: (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ case: document.getElementById('case').value.trim() });
    const d = document.getElementById('as-of').value;
    if (d) q.set('asOf', d);
    location.hash = `#/timeline?${q}`;
  } },
  field('Case', h('input', { id: 'case', value: caseId, required: true, placeholder: 'case/D1/000001' })),
  field('As of (optional)', h('input', { id: 'as-of', type: 'date', value: asOf })),
  h('button', { type: 'submit' }, 'Show timeline'));
  show(h('h2', {}, 'Case timeline'), form, statusLine('timeline-status'));
  if (!caseId) return;
  const q = new URLSearchParams({ case: caseId });
  if (asOf) q.set('asOf', asOf);
  const gen = generation;
  const tl = await api('GET', `/api/timeline?${q}`);
  if (gen !== generation) return;
  const rows = tl.events.map((e) => h('tr', { 'data-position': e.position },
    h('th', { scope: 'row' }, e.streamVersion), h('td', {}, e.businessDate || e.recordedAt.slice(0, 10)),
    h('td', {}, e.type), h('td', {}, e.summary), h('td', {}, `${e.actor.user} (${e.actor.role})`),
    h('td', { class: 'proof', 'data-proof': 'checking' }, 'checking…')));
  main().append(
    h('p', {}, h('a', { id: 'proof-bundle', href: `/api/proofs?${q}`, download: 'proofs.json' },
      'Download the proof bundle (timeline, proofs, checkpoints, key)')),
    h('p', { id: 'timeline-summary' }, `${tl.case}: ${tl.shown} of ${tl.streamEvents} events, ${tl.cut}.` +
      (tl.personalShown ? '' : ' Personal sections are not shown to this role.')),
    table(`Events of ${tl.case}`, ['#', 'Date', 'Event', 'What happened', 'By', 'Inclusion proof'], rows, 'timeline'));
  await checkProofs(tl);
}

async function checkProofs(tl) {
  const cells = [...document.querySelectorAll('#timeline td.proof')];
  const mark = (cell, ok, why) => {
    cell.dataset.proof = ok ? 'verified' : 'failed';
    cell.textContent = ok ? 'verified' : `failed: ${why}`;
    cell.classList.add(ok ? 'good' : 'bad');
  };
  let checkpoint = null;
  let why = '';
  if (!tl.tree || !tl.tree.signed) {
    why = 'no signed checkpoint covers this case yet';
  } else {
    const cps = await api('GET', '/api/checkpoints');
    checkpoint = cps.checkpoints.find((c) => c.size === tl.tree.size);
    if (!checkpoint) {
      why = `no checkpoint of size ${tl.tree.size}`;
    } else {
      try {
        if (!(await verifyCheckpoint(checkpoint, cps.publicKey))) {
          why = 'the checkpoint signature does not verify';
          checkpoint = null;
        }
      } catch (e) {
        why = `this browser cannot check Ed25519 signatures (${e.message})`;
        checkpoint = null;
      }
    }
  }
  let verified = 0;
  for (let i = 0; i < tl.events.length; ++i) {
    const e = tl.events[i];
    if (!checkpoint) {
      mark(cells[i], false, why);
      continue;
    }
    const ok = e.proof && e.proof.treeSize === checkpoint.size &&
      (await verifyInclusion(e.proof.leafIndex, e.proof.treeSize, e.proof.leafHash, e.proof.path, checkpoint.root));
    mark(cells[i], ok, 'the path does not lead to the signed root');
    if (ok) ++verified;
  }
  say('timeline-status', checkpoint
    ? `${verified} of ${tl.events.length} events verified against the checkpoint of ${checkpoint.size} records, ` +
      'signature checked in this browser.'
    : `Not verified: ${why}.`, verified !== tl.events.length);
}

// --- caseworker: worklist ------------------------------------------------------

async function worklistPage(params) {
  const districts = state.me.districts;
  const district = params.get('district') || districts[0] || '';
  const asOf = params.get('asOf') || '';
  const form = h('form', { id: 'worklist-form', onsubmit: (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams({ district: document.getElementById('district').value });
    const d = document.getElementById('wl-as-of').value;
    if (d) q.set('asOf', d);
    location.hash = `#/worklist?${q}`;
  } },
  field('District', h('select', { id: 'district' }, districts.map((d) =>
    h('option', { value: d, selected: d === district }, d)))),
  field('As of (optional)', h('input', { id: 'wl-as-of', type: 'date', value: asOf })),
  h('button', { type: 'submit' }, 'Show worklist'));
  show(h('h2', {}, 'Worklist'), form);
  const after = params.get('after') || '';
  const q = new URLSearchParams({ district });
  if (asOf) q.set('asOf', asOf);
  if (after) q.set('after', after);
  const gen = generation;
  const wl = await api('GET', `/api/worklist?${q}`);
  if (gen !== generation) return;
  const order = { overdue: 0, stalled: 1, 'due-soon': 2, 'on-track': 3 };
  const items = [...wl.items].sort((a, b) => (order[a.status] ?? 9) - (order[b.status] ?? 9));
  const rows = items.map((w) => h('tr', { 'data-case': w.case, 'data-district': w.district },
    h('td', {}, w.kind), h('td', { class: w.status === 'overdue' ? 'bad' : '' }, w.status),
    h('th', { scope: 'row' }, h('a', { href: `#/timeline?case=${encodeURIComponent(w.case)}` }, w.case)),
    h('td', {}, w.district), h('td', {}, w.stage), h('td', {}, w.since), h('td', {}, w.due || ''),
    h('td', {}, `${w.elapsed} / ${w.target} ${w.unit === 'workingDays' ? 'working days' : 'days'}`)));
  const total = wl.totalItems ?? wl.items.length;
  main().append(h('p', { id: 'worklist-summary' },
    `District ${wl.district || 'all'} on ${wl.asOf}: ${total} items from ${wl.casesConsidered} cases` +
    (wl.items.length < total ? `, ${wl.items.length} on this page.` : '.')),
  table('Work due', ['Kind', 'Status', 'Case', 'District', 'Stage', 'Since', 'Due', 'Elapsed / target'], rows, 'worklist'));
  if (wl.next) {
    const more = new URLSearchParams(q);
    more.set('after', wl.next);
    main().append(h('p', {}, h('a', { id: 'worklist-next', href: `#/worklist?${more}` }, 'Next page')));
  }
}

// --- partner: KPI return -----------------------------------------------------

async function kpiPage(params) {
  const period = params.get('period') || '2018/19';
  const form = h('form', { id: 'kpi-form', onsubmit: (ev) => {
    ev.preventDefault();
    location.hash = `#/kpi?${new URLSearchParams({ period: document.getElementById('period').value.trim() })}`;
  } },
  field('Period (2018/19 or 2018/19-Q1)', h('input', { id: 'period', value: period, required: true })),
  h('button', { type: 'submit' }, 'Show return'));
  show(h('h2', {}, 'KPI return'), form);
  const gen = generation;
  const kpi = await api('GET', `/api/kpi?${new URLSearchParams({ period })}`);
  if (gen !== generation) return;
  const sections = kpi.tables.map((t) => table(t.title, ['Figure', ...kpi.areas],
    t.figures.map((f) => h('tr', {}, h('th', { scope: 'row' }, f.id),
      f.values.map((v) => h('td', {}, v === null ? 'suppressed' : String(v))))), `kpi-${t.id}`));
  if (kpi.money) sections.push(moneyTable(kpi.money, kpi.areas));
  const figures = kpi.tables.flatMap((t) => t.figures.map((f) => f.id));
  const pick = h('select', { id: 'chart-figure' }, figures.map((f) => h('option', { value: f }, f)));
  const year = kpi.period.label.split('-')[0];
  main().append(h('form', { id: 'chart-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      await chart(year, pick.value, kpi.areas);
    } catch (e) {
      failed(e);
    }
  } }, field('Figure', pick), h('button', { type: 'submit' }, `Chart by quarter of ${year}`)),
  h('div', { id: 'chart' }));
  main().append(
    h('p', {}, `Period ${kpi.period.label} (${kpi.period.first} to ${kpi.period.last}), under the ` +
      `${kpi.policy.name || 'ons'} disclosure policy: small numbers suppressed, others rounded.`),
    h('p', {}, h('a', { id: 'kpi-csv', href: `/api/kpi.csv?${new URLSearchParams({ period })}`, download: 'kpi.csv' },
      'Download CSV')),
    ...sections);
}

// The return's money table (docs/exports.md, "Money"): each fund's
// allocation, committed and spent in pounds, and the share committed or
// spent against Appendix E's target; suppressed and withheld cells say so.
function moneyTable(money, areas) {
  const pounds = (p) => `£${(p / 100).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const row = (id, cells) => h('tr', {}, h('th', { scope: 'row' }, id), cells.map((c) => h('td', {}, c)));
  const rows = [
    ...money.figures.map((f) => row(f.id, f.values.map((v) => (v === null ? 'suppressed' : pounds(v))))),
    ...money.shares.map((s) => row(s.id, s.values.map((v, i) => (v === null ? 'withheld'
      : `${v} % (${s.meetsTarget[i] ? 'meets' : 'below'} ${money.targetPercent} %)`)))),
  ];
  return table(`Spend against the allocation, financial year ${money.financialYear} to ${money.asOf}`,
    ['Figure', ...areas], rows, 'kpi-money');
}

// A grouped bar chart of one figure: each quarter of the year, one bar per
// area (SVG built node by node; suppressed cells drawn as gaps and listed).
async function chart(year, figure, areas) {
  const quarters = ['Q1', 'Q2', 'Q3', 'Q4'];
  const values = [];
  for (const q of quarters) {
    const r = await api('GET', `/api/kpi?${new URLSearchParams({ period: `${year}-${q}` })}`);
    const f = r.tables.flatMap((t) => t.figures).find((x) => x.id === figure);
    values.push(f ? f.values : areas.map(() => null));
  }
  const districts = areas.filter((a) => a !== 'county');
  const max = Math.max(1, ...values.flat().filter((v, i) => v !== null && areas[i % areas.length] !== 'county'));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = (tag, attrs, ...kids) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    el.append(...kids);
    return el;
  };
  const W = 720;
  const H = 260;
  const group = (W - 60) / quarters.length;
  const bar = group / (districts.length + 1);
  const shades = ['#1d4f91', '#2e7d32', '#8e24aa', '#c62828', '#ef6c00', '#00838f', '#5d4037'];
  const nodes = [];
  quarters.forEach((q, qi) => {
    districts.forEach((d, di) => {
      const v = values[qi][areas.indexOf(d)];
      if (v === null || v === undefined) return;
      const hgt = ((H - 40) * v) / max;
      nodes.push(svg('rect', { x: 50 + qi * group + di * bar, y: H - 20 - hgt, width: bar - 2, height: hgt,
        fill: shades[di % shades.length] }, svg('title', {}, `${d} ${q}: ${v}`)));
    });
    nodes.push(svg('text', { x: 50 + qi * group + group / 2 - 10, y: H - 4, 'font-size': 12 }, q));
  });
  nodes.push(svg('text', { x: 0, y: 14, 'font-size': 12 }, String(max)));
  const suppressed = [];
  quarters.forEach((q, qi) => districts.forEach((d) => {
    if (values[qi][areas.indexOf(d)] === null) suppressed.push(`${d} ${q}`);
  }));
  document.getElementById('chart').replaceChildren(
    svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img',
      'aria-label': `${figure} by quarter of ${year}, one bar per district (${districts.join(', ')})` }, ...nodes),
    h('p', {}, `Bars left to right in each quarter: ${districts.join(', ')}.` +
      (suppressed.length ? ` Suppressed (small numbers): ${suppressed.join(', ')}.` : '')));
}

window.addEventListener('hashchange', route);
start();
