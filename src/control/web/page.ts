/**
 * The dashboard's two pages, each one self-contained document (its style and script inline,
 * allowed by a per-response nonce; nothing from a CDN: the lab and many fleets have no
 * internet). The page renders the live view (routes.ts `/api/live`) with DOM calls and
 * `textContent` only: nothing the fleet or its machines say is ever parsed as HTML.
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --fg: #15191e; --card: #fff; --line: #d8dde3; --muted: #5c6670;
  --ok: #1f7a3a; --ok-bg: #dff3e4; --bad: #a11d1d; --bad-bg: #fbe0e0; --warn: #8a5a00; --warn-bg: #fff0cc; --unk: #4b5563; --unk-bg: #e8eaee; --accent: #1d4ed8; }
@media (prefers-color-scheme: dark) { :root { --bg: #0f1216; --fg: #e6e9ed; --card: #171b21; --line: #2b323b; --muted: #9aa4ae;
  --ok: #7ee2a0; --ok-bg: #12351f; --bad: #ff9c9c; --bad-bg: #451717; --warn: #ffd27a; --warn-bg: #3d2e0a; --unk: #c3c9d1; --unk-bg: #262c34; --accent: #8ab4ff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "DejaVu Sans", sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 1; }
header h1 { font-size: 1.1rem; margin: 0; }
header .sp { flex: 1; }
main { padding: .8rem; display: grid; gap: .8rem; max-width: 1400px; margin: 0 auto; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; min-width: 0; }
section h2 { font-size: 1rem; margin: .1rem 0 .5rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .45rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
.t { display: inline-block; padding: .05rem .45rem; border-radius: 4px; font-weight: 600; white-space: nowrap; }
.ok { color: var(--ok); background: var(--ok-bg); } .bad { color: var(--bad); background: var(--bad-bg); }
.warn { color: var(--warn); background: var(--warn-bg); } .unknown { color: var(--unk); background: var(--unk-bg); }
.muted { color: var(--muted); font-size: .85rem; }
.roles { color: var(--muted); font-size: .8rem; }
button { font: inherit; padding: .45rem .9rem; border-radius: 6px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button.approve { background: var(--ok); color: var(--card); border-color: var(--ok); font-weight: 700; }
button.reject { color: var(--bad); border-color: var(--bad); }
.plan { border: 2px solid var(--warn); }
ol.steps { margin: .3rem 0; padding-left: 1.3rem; } ol.steps li { margin: .2rem 0; }
pre { white-space: pre-wrap; word-break: break-word; background: var(--bg); padding: .4rem; border-radius: 4px; font-size: .8rem; max-height: 12rem; overflow: auto; margin: .2rem 0; }
.events li { margin: .15rem 0; } .events { padding-left: 1rem; margin: 0; max-height: 22rem; overflow: auto; }
.live { font-size: .85rem; }
form.login { max-width: 22rem; margin: 12vh auto; display: grid; gap: .6rem; background: var(--card); padding: 1.2rem; border: 1px solid var(--line); border-radius: 8px; }
input { font: inherit; padding: .5rem; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--fg); }
.error { color: var(--bad); }
.bar-ok { fill: var(--ok); } .bar-bad { fill: var(--bad); } .bar-label { fill: var(--muted); font-size: 11px; }
@media (max-width: 640px) { main { padding: .4rem; } section { padding: .5rem; } th, td { padding: .25rem .3rem; } }
`;

export function loginPage(o: { fleet: string; nonce: string; error?: string; user?: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>lifeboat · ${esc(o.fleet)} · log in</title><style nonce="${o.nonce}">${STYLE}</style></head><body>
<form class="login" method="post" action="/login">
<h1>lifeboat · ${esc(o.fleet)}</h1>
${o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : ''}
<label>Name <input name="user" autocomplete="username" required value="${esc(o.user ?? '')}"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" class="approve">Log in</button>
</form></body></html>`;
}

/** The client: one EventSource, the whole view re-rendered on each message. */
const SCRIPT = String.raw`
"use strict";
const csrf = document.querySelector('meta[name="csrf"]').content;
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'class') e.className = v; else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
const tone = (t, text, title) => el('span', { class: 't ' + t, title: title || '' }, text);
const when = (ms) => ms ? new Date(ms).toLocaleTimeString() : '';
const dur = (a, b) => (a && b) ? ((b - a) / 1000).toFixed(1) + ' s' : (a ? 'running…' : '');
// A run's input as flags: the names of machines, not the whole decision record.
const args = (input) => Object.entries(input || {}).filter(([, v]) => typeof v === 'string').map(([k, v]) => '--' + k + ' ' + v).join(' ');
const ago = (iso) => { if (!iso) return ''; const s = Math.round((Date.now() - Date.parse(iso)) / 1000); return s < 90 ? s + ' s ago' : Math.round(s / 60) + ' min ago'; };
function table(head, rows) {
  return el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))), el('tbody', {}, rows)));
}
const OUTCOME = { recovered: 'ok', failed: 'bad', aborted: 'bad', running: 'warn', planned: 'warn', undone: 'unknown', abandoned: 'unknown' };
const STATE = { verified: 'ok', applied: 'ok', applying: 'warn', pending: 'unknown', failed: 'bad', skipped: 'unknown', undone: 'unknown' };

async function decide(id, verb, button) {
  button.disabled = true;
  const r = await fetch('/api/runs/' + encodeURIComponent(id) + '/' + verb, { method: 'POST', headers: { 'x-csrf-token': csrf } });
  const body = await r.json().catch(() => ({}));
  $('notice').textContent = r.ok ? (verb === 'approve' ? 'Approved: the recovery starts now.' : 'Rejected.') : ('Refused: ' + (body.error || r.status));
  if (!r.ok) button.disabled = false;
}

function steps(run) {
  return el('ol', { class: 'steps' }, run.steps.filter((s) => s.parent === null || run.steps.length < 40).map((s) => el('li', { 'data-state': s.state },
    tone(STATE[s.state] || 'unknown', s.state), ' ', s.title, ' ', el('span', { class: 'muted' }, dur(s.startedAt, s.endedAt)),
    s.error ? el('pre', { class: 'error' }, s.error) : null,
    s.output ? el('pre', {}, s.output) : null,
    run.pending && s.changes.length ? el('pre', {}, s.changes.join('\n')) : null)));
}

function render(v) {
  $('at').textContent = 'updated ' + new Date(v.at).toLocaleTimeString() + (v.readingAt ? ' · conditions read ' + ago(v.readingAt) : '');
  const pending = v.runs.filter((r) => r.pending);
  $('plans').replaceChildren(...(pending.length ? pending.map((r) => el('section', { class: 'plan', 'data-run': r.id },
    el('h2', {}, 'Waiting for approval: ' + r.scenario + ' ' + args(r.input)),
    el('p', { class: 'muted' }, 'planned ' + when(r.startedAt) + ' · run ' + r.id),
    steps(r),
    el('p', {}, el('button', { class: 'approve', onclick: (e) => decide(r.id, 'approve', e.target) }, 'Approve'), ' ',
      el('button', { class: 'reject', onclick: (e) => decide(r.id, 'reject', e.target) }, 'Reject')))) : []));
  const vantages = [...new Set(v.machines.flatMap((m) => Object.keys(m.seen)))];
  $('grid').replaceChildren(el('h2', {}, 'Fleet'), table(['machine', 'verdict', ...v.columns, 'seen by'], v.machines.map((m) => el('tr', { 'data-machine': m.name },
    el('td', {}, el('strong', {}, m.name), el('div', { class: 'muted' }, m.address), el('div', { class: 'roles', 'data-roles': m.roles.join(' ') }, m.roles.join(', '))),
    el('td', {}, tone(m.verdict.tone, m.verdict.text, m.verdict.detail), el('div', { class: 'muted' }, m.verdict.since ? 'since ' + ago(m.verdict.since) : '')),
    v.columns.map((c) => el('td', { 'data-col': c }, m.cells[c] ? tone(m.cells[c].tone, m.cells[c].text, m.cells[c].detail) : el('span', { class: 'muted' }, '–'))),
    el('td', { class: 'muted' }, vantages.filter((x) => m.seen[x]).map((x) => x + ': ' + m.seen[x]).join(', '))))));
  const latest = v.runs.filter((r) => !r.pending).slice(0, 6);
  $('runs').replaceChildren(el('h2', {}, 'Recoveries'), ...(latest.length ? latest.map((r, i) => el('details', { open: i === 0 ? '' : null, 'data-run': r.id, 'data-outcome': r.outcome },
    el('summary', {}, tone(OUTCOME[r.outcome] || 'unknown', r.outcome), ' ', r.scenario, ' ', args(r.input), ' ', el('span', { class: 'muted' }, when(r.startedAt) + ' · ' + dur(r.startedAt, r.endedAt) + ' · run ' + r.id + (r.acknowledgements.length ? ' · ' + r.acknowledgements.map((a) => (a.comment || 'acknowledged') + ' by ' + a.by + ' ' + when(a.at)).join(', ') : ''))),
    r.error ? el('pre', { class: 'error' }, r.error) : null, steps(r))) : [el('p', { class: 'muted' }, 'No recovery yet.')]));
  $('timeline').replaceChildren(el('h2', {}, 'Incidents'), el('ul', { class: 'events' }, v.events.slice().reverse().map((e) => el('li', {},
    el('span', { class: 'muted' }, new Date(e.at).toLocaleTimeString()), ' ',
    tone(e.type === 'verdict' ? (e.kind === 'alive' ? 'ok' : e.kind === 'dead' ? 'bad' : 'warn') : e.type === 'recovery-finished' ? (e.outcome === 'recovered' ? 'ok' : 'bad') : e.type.endsWith('cleared') || e.type === 'incident-closed' || e.type === 'unblocked' ? 'ok' : 'warn', e.type), ' ',
    e.reason || e.detail || e.why || e.message || (e.machine ? e.machine : '') || (e.runId ? e.scenario + ' ' + e.outcome + ' in ' + e.seconds + ' s' : '')))));
  $('domains').replaceChildren(el('h2', {}, 'Domains'), table(['domain', 'machine', 'address', 'state', 'certificate'], v.domains.map((d) => el('tr', {},
    el('td', {}, d.domain), el('td', {}, d.machine), el('td', {}, d.address), el('td', {}, tone(d.tone, d.state)),
    el('td', {}, d.certDaysLeft !== undefined ? tone(d.certDaysLeft > 14 ? 'ok' : 'warn', d.certDaysLeft + ' days') : el('span', { class: 'muted' }, d.certError || '–'))))));
  $('replication').replaceChildren(el('h2', {}, 'Replication'), table(['machine', 'role', 'semi-sync', 'receiving', 'applying', 'GTID received', 'GTID applied', 'risk'], v.replication.map((r) => el('tr', {},
    el('td', {}, r.machine), el('td', {}, r.role), el('td', {}, r.semiSync ? tone(r.semiSync === 'on' ? 'ok' : 'warn', r.semiSync) : '–'),
    el('td', {}, r.receiving || '–'), el('td', {}, r.applying || '–'), el('td', {}, r.received || '–'),
    el('td', {}, r.gtid ? (r.received && r.received !== r.gtid ? tone('warn', r.gtid) : r.gtid) : '–'), el('td', {}, r.risk ? tone('warn', r.risk) : '')))));
  $('drills').replaceChildren(el('h2', {}, 'Drills'), v.drills.length ? chart(v.drills) : el('p', { class: 'muted' }, 'No drill run from this machine yet (lifeboat drill SCENARIO).'),
    v.drills.length ? el('p', { class: 'muted' }, v.drills.length + ' drill(s); last: ' + v.drills[v.drills.length - 1].drill + ', ' + (v.drills[v.drills.length - 1].passed ? 'passed' : 'FAILED') + ', ' + v.drills[v.drills.length - 1].lostWrites + ' lost write(s)') : null);
  $('backups').replaceChildren(el('h2', {}, 'Backups'), table(['store', 'newest copy', 'age', 'size', 'last restore test', 'binary log copy'], v.backups.map((b) => el('tr', {},
    el('td', {}, b.store), el('td', {}, b.error ? tone('unknown', b.error) : (b.newest || tone('bad', 'none'))),
    el('td', {}, b.ageS !== undefined ? Math.round(b.ageS / 60) + ' min' : '–'),
    el('td', {}, b.bytes !== undefined ? (b.bytes / 1048576).toFixed(1) + ' MiB' : '–'),
    el('td', {}, b.restoreTest ? tone(b.restoreTest.ok ? 'ok' : 'bad', (b.restoreTest.ok ? 'passed ' : 'FAILED ') + new Date(b.restoreTest.at).toLocaleString(), b.restoreTest.kind + ' ' + b.restoreTest.stamp) : el('span', { class: 'muted' }, 'none (lifeboat backup verify)')), el('td', {}, b.binlog ? tone(b.binlogTone, b.binlog) : '–')))));
}

/** RTO per drill as bars (a failed drill red, lost writes written above), newest right. */
function chart(drills) {
  const NS = 'http://www.w3.org/2000/svg';
  const w = 640, h = 140, pad = 22, max = Math.max(10, ...drills.map((d) => d.rtoS || 0));
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h); svg.setAttribute('role', 'img'); svg.setAttribute('width', '100%');
  const bw = (w - pad) / Math.max(drills.length, 1);
  drills.forEach((d, i) => {
    const v = d.rtoS || 0, bh = (h - 2 * pad) * v / max, x = pad + i * bw;
    const r = document.createElementNS(NS, 'rect');
    r.setAttribute('x', x + 2); r.setAttribute('y', h - pad - bh); r.setAttribute('width', Math.max(bw - 4, 2)); r.setAttribute('height', bh);
    r.setAttribute('class', d.passed ? 'bar-ok' : 'bar-bad');
    const t = document.createElementNS(NS, 'title'); t.textContent = d.drill + ' ' + new Date(d.at).toLocaleString() + ': RTO ' + (d.rtoS === null ? 'none' : d.rtoS + ' s') + ', ' + d.lostWrites + ' lost write(s)' + (d.passed ? '' : ', FAILED');
    r.append(t); svg.append(r);
    const l = document.createElementNS(NS, 'text'); l.setAttribute('x', x + bw / 2); l.setAttribute('y', h - pad - bh - 4); l.setAttribute('text-anchor', 'middle'); l.setAttribute('class', 'bar-label');
    l.textContent = (d.rtoS === null ? '–' : d.rtoS.toFixed(1)) + (d.lostWrites ? ' ✗' + d.lostWrites : ''); svg.append(l);
  });
  const axis = document.createElementNS(NS, 'text'); axis.setAttribute('x', 2); axis.setAttribute('y', 12); axis.setAttribute('class', 'bar-label'); axis.textContent = 'RTO, s (max ' + max.toFixed(0) + ')'; svg.append(axis);
  return svg;
}

function connect() {
  const live = new EventSource('/api/live');
  live.addEventListener('view', (m) => { $('live').textContent = 'live'; $('live').className = 't ok live'; render(JSON.parse(m.data)); });
  live.addEventListener('logout', () => { location.href = '/login'; });
  live.onerror = () => { $('live').textContent = 'reconnecting…'; $('live').className = 't warn live'; };
}
$('logout').addEventListener('click', async () => { await fetch('/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } }); location.href = '/login'; });
connect();
`;

export function dashboardPage(o: { fleet: string; nonce: string; csrf: string; user: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf" content="${esc(o.csrf)}"><title>lifeboat · ${esc(o.fleet)}</title><style nonce="${o.nonce}">${STYLE}</style></head><body>
<header><h1>lifeboat · ${esc(o.fleet)}</h1><span id="live" class="t unknown live">connecting…</span><span id="at" class="muted"></span>
<span class="sp"></span><span class="muted">${esc(o.user)}</span><button id="logout" type="button">Log out</button></header>
<main><p id="notice" role="status" class="muted"></p><div id="plans"></div>
<section id="grid"></section><section id="runs"></section><section id="timeline"></section>
<section id="domains"></section><section id="replication"></section><section id="backups"></section><section id="drills"></section></main>
<script nonce="${o.nonce}">${SCRIPT}</script></body></html>`;
}
