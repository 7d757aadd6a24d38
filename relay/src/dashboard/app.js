/**
 * Arena Relay dashboard: plain DOM, no framework, no build step. Talks to the admin JSON API with
 * the token the operator typed (kept in sessionStorage), polls every 2 s, and updates table rows in
 * place so that keyboard focus survives the refresh. Every value from the API reaches the page
 * through textContent, never as HTML.
 */

const TOKEN_KEY = 'arena-relay.admin-token';
const POLL_MS = 2000;
const TABS = ['overview', 'clients', 'keys', 'usage', 'stats', 'relays', 'aliases', 'audit'];

const $ = (id) => document.getElementById(id);

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? '',
  tab: 'overview',
  agents: [],
  /** Relays that did not answer the last agents listing in time. */
  unreachable: [],
  queueDepth: 0,
  relays: [],
  /** Alias name → its models, as `/api/aliases` lists them. */
  aliases: {},
  /** The relay this page talks to (its answers name it). */
  relayId: '',
  stats: null,
  clients: [],
  keys: [],
  usage: null,
  /** undefined: not tried yet; false: the relay has no usage API. */
  usageAvailable: undefined,
  /** `/api/audit` entries for the filter in `auditQuery`, newest first. */
  audit: [],
  auditQuery: '',
  timer: undefined,
};

// ---------------------------------------------------------------------------------------------
// DOM helpers

/** Creates an element: `attrs` sets properties/attributes (`class`, `text`, `on*` handlers, aria-*). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'disabled' || name === 'hidden') node[name] = Boolean(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

function setText(node, text) {
  const value = text ?? '';
  if (node.textContent !== value) node.textContent = value;
}

function badge(text, tone = '') {
  return el('span', { class: `badge ${tone}`.trim(), text });
}

function announce(message) {
  const region = $('announcer');
  region.textContent = '';
  // A fresh text node after a tick makes screen readers announce a repeated message too.
  setTimeout(() => {
    region.textContent = message;
  }, 50);
}

/**
 * Keeps one row per item in `tbody`: new ids get a row from `create(item)` (which returns
 * `{ tr, update(item) }`), existing rows are updated in place, vanished ones removed.
 */
const rowsOf = new WeakMap();
function syncRows(tbody, items, keyOf, create) {
  let rows = rowsOf.get(tbody);
  if (!rows) {
    rows = new Map();
    rowsOf.set(tbody, rows);
  }
  const seen = new Set();
  let previous = null;
  for (const item of items) {
    const key = keyOf(item);
    seen.add(key);
    let row = rows.get(key);
    if (!row) {
      row = create(item);
      rows.set(key, row);
    }
    row.update(item);
    const expected = previous ? previous.nextSibling : tbody.firstChild;
    if (expected !== row.tr) tbody.insertBefore(row.tr, expected);
    previous = row.tr;
  }
  for (const [key, row] of rows) {
    if (!seen.has(key)) {
      row.tr.remove();
      rows.delete(key);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

const numberFormat = new Intl.NumberFormat();
const fmtInt = (n) => (n === null || n === undefined ? '—' : numberFormat.format(n));
const fmtPct = (r) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(r >= 0.9995 ? 0 : 1)} %`);
const fmtMs = (ms) => {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
};
/** A request rate in the unit that reads best: per second, minute, hour or day. */
function fmtRate(perSecond) {
  if (!perSecond) return '0/min';
  const units = [
    ['s', 1],
    ['min', 60],
    ['h', 3600],
  ];
  for (const [unit, seconds] of units) {
    const value = perSecond * seconds;
    if (value >= 1) return `${value.toFixed(value < 10 ? 1 : 0)}/${unit}`;
  }
  const perDay = perSecond * 86_400;
  return `${perDay.toFixed(perDay < 10 ? 1 : 0)}/day`;
}
function fmtBytes(bytes) {
  if (!bytes) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
function fmtAgo(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}
function fmtDuration(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`;
}
const fmtDate = (iso) => (iso ? new Date(iso).toLocaleDateString() : '—');
const fmtPercentiles = (p) => (p ? `${fmtMs(p.p50)} / ${fmtMs(p.p90)} / ${fmtMs(p.p99)}` : '—');

// ---------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the admin API; answers the response (raw) or its JSON. A 401 signs the operator out. */
async function api(method, path, body, options = {}) {
  const headers = { authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const json = await response.json();
      if (json?.error?.message) message = json.error.message;
    } catch {
      // Not JSON: keep the status line.
    }
    if (response.status === 401 && !options.login)
      signOut('Your session was refused by the relay: sign in again.');
    throw new ApiError(response.status, message);
  }
  return options.raw ? response : response.json();
}

// ---------------------------------------------------------------------------------------------
// Dialogs

/** Opens the confirm dialog; resolves true when the operator confirms. */
function confirmAction({ title, text, confirmLabel = 'Confirm', danger = false }) {
  const dialog = $('confirm-dialog');
  setText($('confirm-title'), title);
  setText($('confirm-text'), text);
  const ok = $('confirm-ok');
  ok.textContent = confirmLabel;
  ok.className = `button ${danger ? 'danger' : 'primary'}`;
  return new Promise((resolve) => {
    const finish = (value) => {
      ok.removeEventListener('click', onOk);
      $('confirm-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const onOk = () => finish(true);
    const onCancel = () => finish(false);
    const onClose = () => finish(false);
    ok.addEventListener('click', onOk);
    $('confirm-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    // The safe choice has the focus.
    $('confirm-cancel').focus();
  });
}

/** Shows a secret once (new key, new token); resolves when the dialog closes. */
function showSecret({ title, text, value }) {
  const dialog = $('secret-dialog');
  setText($('secret-title'), title);
  setText($('secret-text'), text);
  const input = $('secret-value');
  input.value = value;
  const copy = $('secret-copy');
  copy.textContent = 'Copy';
  return new Promise((resolve) => {
    const onCopy = async () => {
      try {
        await navigator.clipboard.writeText(value);
      } catch {
        input.select();
        document.execCommand('copy');
      }
      copy.textContent = 'Copied';
      announce('Copied to the clipboard');
    };
    const onDone = () => dialog.close();
    const onClose = () => {
      copy.removeEventListener('click', onCopy);
      $('secret-done').removeEventListener('click', onDone);
      dialog.removeEventListener('close', onClose);
      input.value = '';
      resolve();
    };
    copy.addEventListener('click', onCopy);
    $('secret-done').addEventListener('click', onDone);
    dialog.addEventListener('close', onClose);
    dialog.showModal();
    input.focus();
    input.select();
  });
}

// ---------------------------------------------------------------------------------------------
// Sign-in

function showView(signedIn) {
  $('login-view').hidden = signedIn;
  $('app-view').hidden = !signedIn;
  $('logout').hidden = !signedIn;
  $('live-status').hidden = !signedIn;
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  clearTimeout(state.timer);
  state.timer = undefined;
  showView(false);
  setText($('login-error'), message);
  $('login-token').value = '';
  $('login-token').focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = $('login-token').value.trim();
  setText($('login-error'), '');
  if (!token) {
    setText($('login-error'), 'Enter the admin token.');
    return;
  }
  state.token = token;
  try {
    await api('GET', 'api/agents', undefined, { login: true });
  } catch (error) {
    state.token = '';
    setText(
      $('login-error'),
      error.status === 401 || error.status === 403 ? 'The relay did not accept this token.' : error.message,
    );
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  $('login-token').value = '';
  start();
}

function start() {
  showView(true);
  selectTab(tabFromHash(), { focus: false });
  $('main').focus();
  void refreshAll();
}

// ---------------------------------------------------------------------------------------------
// Tabs

function tabFromHash() {
  const name = location.hash.replace('#', '');
  return TABS.includes(name) ? name : 'overview';
}

function selectTab(name, { focus = true } = {}) {
  state.tab = name;
  for (const tab of TABS) {
    const button = $(`tab-${tab}`);
    const selected = tab === name;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`panel-${tab}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  render();
  void refreshTab();
}

function onTabKey(event) {
  const index = TABS.indexOf(state.tab);
  const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: TABS.length - 1 };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(TABS[(moves[event.key] + TABS.length) % TABS.length]);
}

// ---------------------------------------------------------------------------------------------
// Polling

async function refreshLive() {
  const [agents, stats] = await Promise.all([api('GET', 'api/agents'), api('GET', 'api/stats')]);
  state.agents = agents.agents;
  state.unreachable = agents.unreachable ?? [];
  state.queueDepth = agents.queue_depth ?? 0;
  state.stats = stats;
  state.relayId = stats.relay ?? '';
}

async function refreshRelays() {
  state.relays = (await api('GET', 'api/relays')).relays;
}

async function refreshAliases() {
  state.aliases = (await api('GET', 'api/aliases')).aliases;
}

async function refreshClients() {
  state.clients = (await api('GET', 'api/clients')).clients;
}

async function refreshKeys() {
  state.keys = (await api('GET', 'api/keys')).keys;
}

async function refreshUsage() {
  if (state.usageAvailable === false) return;
  try {
    state.usage = await api('GET', 'api/usage?group_by=key');
    state.usageAvailable = true;
  } catch (error) {
    if (error.status === 404) state.usageAvailable = false;
    else throw error;
  }
}

async function refreshAudit() {
  state.audit = (await api('GET', `api/audit?limit=200${state.auditQuery}`)).entries;
}

async function refreshStreams() {
  state.streams = (await api('GET', 'api/streams')).streams;
}

/** What the visible tab needs beyond agents and stats. */
function refreshTab() {
  const jobs = [];
  if (state.tab === 'clients') jobs.push(refreshClients());
  if (state.tab === 'keys') jobs.push(refreshKeys());
  if (state.tab === 'usage') jobs.push(refreshKeys(), refreshUsage());
  if (state.tab === 'stats') jobs.push(refreshClients(), refreshStreams());
  if (state.tab === 'relays') jobs.push(refreshRelays());
  if (state.tab === 'aliases') jobs.push(refreshAliases());
  if (state.tab === 'audit') jobs.push(refreshAudit());
  return Promise.all(jobs).then(render, reportError);
}

async function refreshAll() {
  await Promise.all([refreshLive(), refreshClients(), refreshKeys()]).then(render, reportError);
  schedule();
}

function schedule() {
  clearTimeout(state.timer);
  if (!state.token) return;
  state.timer = setTimeout(tick, POLL_MS);
}

async function tick() {
  if (!state.token) return;
  if (document.hidden) return schedule();
  try {
    await Promise.all([refreshLive(), refreshTab()]);
    render();
  } catch (error) {
    reportError(error);
  }
  schedule();
}

function reportError(error) {
  if (error instanceof ApiError && error.status === 401) return;
  markLive(false, error.message);
}

function markLive(ok, why = '') {
  const status = $('live-status');
  status.classList.toggle('stale', !ok);
  setText($('live-text'), ok ? 'Live' : `Not updating: ${why}`);
}

// ---------------------------------------------------------------------------------------------
// Rendering

function render() {
  if (!state.token || !state.stats) return;
  markLive(true);
  renderCards();
  renderAgents();
  renderChart($('overview-chart'), state.stats.overall.timeline, 'all keys');
  renderLatency();
  if (state.tab === 'clients') renderClients();
  if (state.tab === 'keys') renderKeys();
  if (state.tab === 'usage') renderUsage();
  if (state.tab === 'stats') renderStats();
  if (state.tab === 'relays') renderRelays();
  if (state.tab === 'aliases') renderAliases();
  if (state.tab === 'audit') renderAudit();
}

function card(id, label) {
  let node = document.getElementById(`card-${id}`);
  if (!node) {
    node = el(
      'div',
      { class: 'stat', id: `card-${id}` },
      el('div', { class: 'stat-label', text: label }),
      el('div', { class: 'stat-value' }),
      el('div', { class: 'stat-note' }),
    );
    $('overview-cards').append(node);
  }
  return {
    set(value, note = '') {
      setText(node.children[1], value);
      setText(node.children[2], note);
    },
  };
}

function renderCards() {
  const { agents, stats } = state;
  const ready = agents.filter((a) => a.ready && !a.draining).length;
  const inFlight = agents.reduce((sum, a) => sum + a.in_flight, 0);
  const capacity = agents.reduce((sum, a) => sum + (a.ready && !a.draining ? a.max_concurrency : 0), 0);
  const hour = stats.overall.hour;
  card('agents', 'Agents ready').set(`${ready} / ${agents.length}`, `${capacity} stream slots`);
  card('inflight', 'In flight').set(fmtInt(inFlight), `queue: ${fmtInt(state.queueDepth)}`);
  card('requests', 'Requests · 1 h').set(fmtInt(hour.requests), fmtRate(stats.overall.minute.request_rate));
  card('success', 'Success · 1 h').set(fmtPct(hour.success_rate), `${fmtInt(hour.failed)} failed`);
  card('latency', 'Latency p50 · 1 h').set(fmtMs(hour.latency_ms?.p50), `p99 ${fmtMs(hour.latency_ms?.p99)}`);
  card('ttfb', 'First byte p50 · 1 h').set(fmtMs(hour.ttfb_ms?.p50), `p90 ${fmtMs(hour.ttfb_ms?.p90)}`);
}

function agentState(agent) {
  if (agent.draining) return ['Draining', 'warn'];
  if (agent.cooldown?.benched) return ['Benched', 'bad'];
  if (!agent.ready) return ['Not ready', 'bad'];
  return ['Ready', 'ok'];
}

function renderAgents() {
  const tbody = $('agents-table').tBodies[0];
  $('agents-empty').hidden = state.agents.length > 0;
  syncRows(tbody, state.agents, (a) => a.id, createAgentRow);
  const silent = state.unreachable.map((u) => u.relay);
  const notice = $('agents-unreachable');
  notice.hidden = silent.length === 0;
  setText(notice, silent.length ? `Not answering (their agents are missing here): ${silent.join(', ')}` : '');
}

/** A relay id, marked when it is the relay this page talks to. */
function relayLabel(id) {
  return id === state.relayId ? `${id} (this relay)` : id;
}

function createAgentRow(initial) {
  const name = el('div', { class: 'cell-main' });
  const sub = el('div', { class: 'cell-sub mono' });
  const relay = el('td', { class: 'mono small' });
  const stateCell = el('td');
  const fill = el('div', { class: 'load-fill' });
  const loadText = el('span');
  const models = el('td');
  const rtt = el('td');
  const since = el('td');
  const drain = el('button', {
    type: 'button',
    class: 'button small',
    text: 'Drain',
    onclick: () => drainAgent(current),
  });
  const kick = el('button', {
    type: 'button',
    class: 'button small danger',
    text: 'Disconnect',
    onclick: () => kickAgent(current),
  });
  const tr = el(
    'tr',
    { 'data-agent': initial.id },
    el('td', {}, name, sub),
    relay,
    stateCell,
    el(
      'td',
      {},
      el('span', { class: 'load' }, el('span', { class: 'load-bar', 'aria-hidden': 'true' }, fill), loadText),
    ),
    models,
    rtt,
    since,
    el('td', { class: 'actions' }, drain, kick),
  );
  let current = initial;
  let shownState = '';
  return {
    tr,
    update(agent) {
      current = agent;
      setText(name, agent.client_name);
      setText(sub, agent.id);
      setText(relay, relayLabel(agent.relay ?? ''));
      const [label, tone] = agentState(agent);
      const reason = agent.draining ? '' : (agent.ready_reason ?? agent.cooldown?.reason ?? '');
      const code = agent.draining ? '' : (agent.ready_code ?? '');
      const fix = agent.draining ? '' : (agent.ready_fix ?? '');
      if (shownState !== label + code + reason + fix) {
        shownState = label + code + reason + fix;
        stateCell.replaceChildren(badge(label, tone));
        if (code)
          stateCell.append(el('div', { class: 'cell-sub mono', 'data-reason-code': code, text: code }));
        if (reason && label !== 'Ready') stateCell.append(el('div', { class: 'cell-sub', text: reason }));
        if (fix)
          stateCell.append(el('div', { class: 'cell-sub', 'data-reason-fix': '', text: `Fix: ${fix}` }));
      }
      setText(loadText, `${agent.in_flight} / ${agent.max_concurrency}`);
      fill.style.width = `${Math.min(100, (agent.in_flight / agent.max_concurrency) * 100)}%`;
      setText(models, String(agent.models.length));
      models.title = agent.models.join(', ');
      setText(rtt, agent.rtt_ms === null ? '—' : `${agent.rtt_ms} ms`);
      setText(since, fmtDuration(agent.connected_since));
      drain.disabled = agent.draining;
      drain.setAttribute('aria-label', `Drain agent ${agent.id} of ${agent.client_name}`);
      kick.setAttribute('aria-label', `Disconnect agent ${agent.id} of ${agent.client_name}`);
    },
  };
}

async function drainAgent(agent) {
  const ok = await confirmAction({
    title: `Drain ${agent.client_name}?`,
    text: 'The agent finishes its streams in flight and takes no new ones. It stays connected; it takes work again when it reconnects.',
    confirmLabel: 'Drain',
  });
  if (!ok) return;
  await act(
    () => api('POST', `api/agents/${encodeURIComponent(agent.id)}/drain`),
    `Agent ${agent.id} is draining`,
  );
}

async function kickAgent(agent) {
  const ok = await confirmAction({
    title: `Disconnect ${agent.client_name}?`,
    text: 'Its socket is closed now and its streams in flight fail. The agent will reconnect by itself unless the client is disabled.',
    confirmLabel: 'Disconnect',
    danger: true,
  });
  if (!ok) return;
  await act(
    () => api('DELETE', `api/agents/${encodeURIComponent(agent.id)}`),
    `Agent ${agent.id} disconnected`,
  );
}

/** Runs an admin action, announces the outcome and refreshes what it changed. */
async function act(run, success) {
  try {
    const result = await run();
    announce(success);
    await Promise.all([refreshLive(), refreshClients(), refreshKeys()]);
    render();
    return result;
  } catch (error) {
    announce(`Failed: ${error.message}`);
    markLive(false, error.message);
    return undefined;
  }
}

async function runHealthCheck() {
  const button = $('health-run');
  const box = $('health-result');
  button.disabled = true;
  button.textContent = 'Checking…';
  try {
    const result = await api('POST', 'api/clients/health', {});
    const rows = result.agents.map((a) =>
      el(
        'tr',
        {},
        el(
          'td',
          {},
          el('div', { class: 'cell-main', text: a.client_name }),
          el('div', { class: 'cell-sub mono', text: a.relay ? `${a.agent_id} · ${a.relay}` : a.agent_id }),
        ),
        el(
          'td',
          {},
          a.result !== 'answered'
            ? badge(a.result === 'timeout' ? 'No answer' : 'Disconnected', 'bad')
            : badge(a.ok ? 'Bridge OK' : 'Bridge failing', a.ok ? 'ok' : 'bad'),
          a.bridge?.reason ? el('div', { class: 'cell-sub', text: a.bridge.reason }) : null,
        ),
        el('td', { text: `${a.round_trip_ms} ms` }),
        el('td', { text: a.bridge ? `${a.bridge.latency_ms} ms` : '—' }),
      ),
    );
    box.replaceChildren(
      el('h3', { text: `Health check · ${result.summary.healthy} of ${result.summary.agents} healthy` }),
      rows.length === 0
        ? el('p', { class: 'empty', text: 'No agent to check.' })
        : el(
            'div',
            { class: 'table-wrap' },
            el(
              'table',
              { class: 'table' },
              el('caption', { class: 'sr-only', text: 'Health check results' }),
              el(
                'thead',
                {},
                el(
                  'tr',
                  {},
                  el('th', { scope: 'col', text: 'Agent' }),
                  el('th', { scope: 'col', text: 'Result' }),
                  el('th', { scope: 'col', text: 'Round trip' }),
                  el('th', { scope: 'col', text: 'Bridge probe' }),
                ),
              ),
              el('tbody', {}, rows),
            ),
          ),
    );
    box.hidden = false;
    announce(`Health check done: ${result.summary.healthy} of ${result.summary.agents} agents healthy`);
  } catch (error) {
    announce(`Health check failed: ${error.message}`);
  } finally {
    button.disabled = false;
    button.textContent = 'Health check';
  }
}

function renderLatency() {
  const hour = state.stats.overall.hour;
  const items = [
    ['p50', hour.latency_ms?.p50],
    ['p90', hour.latency_ms?.p90],
    ['p99', hour.latency_ms?.p99],
  ];
  const box = $('overview-latency');
  if (box.children.length === 0) {
    for (const [label] of items) box.append(el('div', {}, el('dt', { text: `Latency ${label}` }), el('dd')));
  }
  for (const [i, [, value]] of items.entries()) setText(box.children[i].lastChild, fmtMs(value));
}

/** Bar chart of a timeline (`requests` and `failed` per bucket, oldest first) as inline SVG. */
function renderChart(container, timeline, what) {
  // Drawn at the container's own width so that labels keep their size on any screen.
  const width = Math.max(320, Math.round(container.clientWidth || 600));
  const height = 180;
  const pad = { left: 34, right: 8, top: 10, bottom: 22 };
  const requests = timeline?.requests ?? [];
  const failed = timeline?.failed ?? [];
  const n = requests.length || 60;
  const max = Math.max(1, ...requests);
  const top = niceMax(max);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const barW = plotW / n;
  const total = requests.reduce((s, v) => s + v, 0);
  const failures = failed.reduce((s, v) => s + v, 0);
  const unit =
    timeline?.bucket_seconds === 86_400 ? 'day' : timeline?.bucket_seconds === 3600 ? 'hour' : 'minute';
  const span = unit === 'day' ? `${n} days` : unit === 'hour' ? `${n} hours` : 'hour';
  const label = `Requests per ${unit} over the last ${span}, ${what}: ${total} in total, ${failures} failed, peak ${Math.max(0, ...requests)} per ${unit}.`;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  root.append(svg('title', { text: label }));
  for (const fraction of [0, 0.5, 1]) {
    const y = pad.top + plotH * (1 - fraction);
    root.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
    root.append(
      svg('text', {
        class: 'axis-label',
        x: pad.left - 6,
        y: y + 4,
        'text-anchor': 'end',
        text: String(Math.round(top * fraction)),
      }),
    );
  }
  requests.forEach((value, i) => {
    if (value === 0) return;
    const x = pad.left + i * barW + barW * 0.15;
    const w = Math.max(1, barW * 0.7);
    const h = (value / top) * plotH;
    const bad = ((failed[i] ?? 0) / top) * plotH;
    root.append(svg('rect', { class: 'bar', x, y: pad.top + plotH - h, width: w, height: h - bad, rx: 1.5 }));
    if (bad > 0)
      root.append(svg('rect', { class: 'bar-failed', x, y: pad.top + plotH - bad, width: w, height: bad }));
  });
  const first = unit === 'day' ? `-${n} d` : unit === 'hour' ? `-${n} h` : '-60 min';
  root.append(svg('text', { class: 'axis-label', x: pad.left, y: height - 6, text: first }));
  root.append(
    svg('text', {
      class: 'axis-label',
      x: width - pad.right,
      y: height - 6,
      'text-anchor': 'end',
      text: 'now',
    }),
  );
  container.replaceChildren(root);
}

function niceMax(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

// --- Clients

function liveAgentsOf(clientId) {
  return state.agents.filter((a) => a.client_id === clientId).length;
}

function renderClients() {
  $('clients-empty').hidden = state.clients.length > 0;
  syncRows($('clients-table').tBodies[0], state.clients, (c) => c.id, createClientRow);
}

const STATUS_TONE = { active: 'ok', pending: 'info', disabled: 'bad' };
const HEALTH_TONE = { healthy: 'ok', degraded: 'warn', unhealthy: 'bad', unknown: '' };

function createClientRow(initial) {
  let current = initial;
  const name = el('div', { class: 'cell-main' });
  const sub = el('div', { class: 'cell-sub mono' });
  const status = el('td');
  const agents = el('td');
  const requests = el('td');
  const seen = el('td');
  const token = el('td', { class: 'mono' });
  const download = el('button', {
    type: 'button',
    class: 'button small primary',
    text: 'Download',
    onclick: () => downloadPackage(current),
  });
  const rotate = el('button', {
    type: 'button',
    class: 'button small',
    text: 'Rotate token',
    onclick: () => rotateToken(current),
  });
  const toggle = el('button', {
    type: 'button',
    class: 'button small',
    onclick: () => toggleClient(current),
  });
  const tr = el(
    'tr',
    { 'data-client': initial.id },
    el('td', {}, name, sub),
    status,
    agents,
    requests,
    seen,
    token,
    el('td', { class: 'actions' }, download, rotate, toggle),
  );
  let shown = '';
  return {
    tr,
    update(client) {
      current = client;
      setText(name, client.name);
      const subText = client.email ? `${client.id} · ${client.email}` : client.id;
      setText(sub, subText);
      sub.title = subText;
      const key = `${client.status}/${client.health}`;
      if (key !== shown) {
        shown = key;
        status.replaceChildren(
          badge(client.status, STATUS_TONE[client.status] ?? ''),
          ' ',
          badge(client.health, HEALTH_TONE[client.health] ?? ''),
        );
      }
      setText(agents, String(liveAgentsOf(client.id)));
      setText(
        requests,
        client.total_requests === 0
          ? '0'
          : `${fmtInt(client.total_requests)} · ${fmtPct(client.successful_requests / client.total_requests)} ok`,
      );
      setText(seen, fmtAgo(client.last_seen));
      setText(token, client.token_preview);
      const disabled = client.status === 'disabled';
      setText(toggle, disabled ? 'Enable' : 'Disable');
      toggle.className = `button small ${disabled ? '' : 'danger'}`.trim();
      download.setAttribute('aria-label', `Download the package of ${client.name}`);
      rotate.setAttribute('aria-label', `Rotate the token of ${client.name}`);
      toggle.setAttribute('aria-label', `${disabled ? 'Enable' : 'Disable'} ${client.name}`);
    },
  };
}

async function registerClient(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const body = { name: String(data.get('name') ?? '').trim() };
  const email = String(data.get('email') ?? '').trim();
  const bridge = String(data.get('lmarena_bridge_url') ?? '').trim();
  if (email) body.email = email;
  if (bridge) body.lmarena_bridge_url = bridge;
  setText($('client-error'), '');
  if (!body.name) {
    setText($('client-error'), 'A name is required.');
    $('client-name').focus();
    return;
  }
  try {
    const created = await api('POST', 'api/clients', body);
    form.reset();
    await refreshClients();
    render();
    announce(`Client ${created.client.name} registered`);
    await showSecret({
      title: `${created.client.name} is registered`,
      text: 'Its client token is below. The simplest way to hand it over is "Download package" in the list, which builds a ready-to-run agent with a fresh token.',
      value: created.token,
    });
  } catch (error) {
    setText($('client-error'), error.message);
  }
}

async function downloadPackage(client) {
  const ok = await confirmAction({
    title: `Download the package of ${client.name}?`,
    text:
      'The package carries a fresh client token, because the relay keeps only a hash of the current one. ' +
      "Downloading it retires the current token after the relay's grace period (CREDENTIAL_GRACE_SECONDS, 5 minutes by default): an agent of this client still running with it keeps serving until then, then stops and must be given the new package.",
    confirmLabel: 'Download and replace the token',
  });
  if (!ok) return;
  const response = await act(
    () => api('GET', `api/clients/${encodeURIComponent(client.id)}/download`, undefined, { raw: true }),
    `Package of ${client.name} downloaded; its previous token is retired after the grace period`,
  );
  if (!response) return;
  // The relay flags a package its agent would dial in clear, or could not reach from elsewhere.
  const warning = response.headers.get('x-package-warning');
  const notice = $('package-warning');
  notice.hidden = !warning;
  setText(notice, warning ? `Package of ${client.name}: ${warning}` : '');
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') ?? '';
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `arena-agent-${client.id}.zip`;
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function rotateToken(client) {
  const ok = await confirmAction({
    title: `Rotate the token of ${client.name}?`,
    text: "A new token replaces the current one, which keeps working for the relay's grace period (5 minutes by default); then agents still using it are disconnected. After a leak, cut it off at once with the admin API: POST /api/clients/{id}/rotate-token?grace_seconds=0.",
    confirmLabel: 'Rotate token',
    danger: true,
  });
  if (!ok) return;
  const result = await act(
    () => api('POST', `api/clients/${encodeURIComponent(client.id)}/rotate-token`),
    `Token of ${client.name} rotated`,
  );
  if (result) {
    await showSecret({
      title: `New token for ${client.name}`,
      text: "Put it in the agent's config.jsonc (platform_integration.api_key), or download the package again instead.",
      value: result.token,
    });
  }
}

async function toggleClient(client) {
  const disable = client.status !== 'disabled';
  if (disable) {
    const ok = await confirmAction({
      title: `Disable ${client.name}?`,
      text: 'Its agents are disconnected now and refused until the client is enabled again.',
      confirmLabel: 'Disable',
      danger: true,
    });
    if (!ok) return;
  }
  await act(
    () =>
      api('PATCH', `api/clients/${encodeURIComponent(client.id)}`, {
        status: disable ? 'disabled' : 'active',
      }),
    `${client.name} ${disable ? 'disabled' : 'enabled'}`,
  );
}

// --- Keys

function keyStats(keyId) {
  return state.stats?.keys.find((k) => k.key_id === keyId);
}

function renderKeys() {
  $('keys-empty').hidden = state.keys.length > 0;
  syncRows($('keys-table').tBodies[0], state.keys, (k) => k.id, createKeyRow);
}

function createKeyRow(initial) {
  let current = initial;
  const name = el('div', { class: 'cell-main' });
  const sub = el('div', { class: 'cell-sub mono' });
  const preview = el('td', { class: 'mono' });
  const scopes = el('td');
  const requests = el('td');
  const created = el('td');
  const used = el('td');
  const revoke = el('button', {
    type: 'button',
    class: 'button small danger',
    text: 'Revoke',
    onclick: () => revokeKey(current),
  });
  const tr = el(
    'tr',
    { 'data-key': initial.id },
    el('td', {}, name, sub),
    preview,
    scopes,
    requests,
    created,
    used,
    el('td', { class: 'actions' }, revoke),
  );
  let shownScopes = '';
  return {
    tr,
    update(key) {
      current = key;
      setText(name, key.name);
      setText(sub, key.id);
      setText(preview, key.preview);
      if (shownScopes !== key.scopes.join()) {
        shownScopes = key.scopes.join();
        scopes.replaceChildren(
          ...key.scopes.flatMap((s, i) => [i > 0 ? ' ' : '', badge(s, s === 'admin' ? 'warn' : 'info')]),
        );
      }
      setText(requests, fmtInt(keyStats(key.id)?.day.requests ?? 0));
      setText(created, fmtDate(key.created_at));
      setText(used, fmtAgo(key.last_used_at));
      revoke.setAttribute('aria-label', `Revoke the key ${key.name}`);
    },
  };
}

async function createKey(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const name = String(data.get('name') ?? '').trim();
  const scopes = data.getAll('scope').map(String);
  setText($('key-error'), '');
  if (!name) {
    setText($('key-error'), 'A name is required.');
    $('key-name').focus();
    return;
  }
  if (scopes.length === 0) {
    setText($('key-error'), 'Pick at least one scope.');
    return;
  }
  try {
    const created = await api('POST', 'api/keys', { name, scopes });
    form.reset();
    await refreshKeys();
    render();
    announce(`Key ${name} created`);
    await showSecret({
      title: `API key "${name}"`,
      text: "Give it to the consumer: it goes in Authorization: Bearer … (or the OpenAI SDK's api_key).",
      value: created.key,
    });
  } catch (error) {
    setText($('key-error'), error.message);
  }
}

async function revokeKey(key) {
  const ok = await confirmAction({
    title: `Revoke ${key.name}?`,
    text: 'Requests with this key are refused from now on. This cannot be undone.',
    confirmLabel: 'Revoke key',
    danger: true,
  });
  if (!ok) return;
  await act(() => api('DELETE', `api/keys/${encodeURIComponent(key.id)}`), `Key ${key.name} revoked`);
}

// --- Usage

function usageOf(keyId) {
  return state.usage?.groups?.find((g) => g.key_id === keyId);
}

function renderUsage() {
  const select = $('usage-key');
  const wanted = state.keys.map((k) => k.id);
  const existing = [...select.options].map((o) => o.value);
  if (wanted.join() !== existing.join()) {
    const chosen = select.value;
    select.replaceChildren(
      ...state.keys.map((k) => el('option', { value: k.id, text: `${k.name} (${k.preview})` })),
    );
    if (wanted.includes(chosen)) select.value = chosen;
  }
  const key = state.keys.find((k) => k.id === select.value);
  renderChart(
    $('usage-chart'),
    keyStats(select.value)?.timeline ?? emptyTimeline(),
    key ? `key ${key.name}` : 'no key',
  );

  syncRows(
    $('usage-table').tBodies[0],
    state.keys,
    (k) => k.id,
    (initial) => {
      const cells = Array.from({ length: 6 }, () => el('td'));
      const tr = el('tr', { 'data-usage': initial.id }, ...cells);
      return {
        tr,
        update(k) {
          const stats = keyStats(k.id);
          const usage = usageOf(k.id);
          setText(cells[0], k.name);
          setText(cells[1], fmtInt(stats?.hour.requests ?? 0));
          setText(cells[2], fmtInt(stats?.day.requests ?? 0));
          setText(cells[3], fmtPct(stats?.day.success_rate ?? null));
          setText(cells[4], fmtBytes(stats?.day.bytes ?? 0));
          setText(cells[5], usage ? fmtInt(usage.total_tokens) : '—');
        },
      };
    },
  );
  setText(
    $('usage-source'),
    state.usageAvailable
      ? 'Requests: every relay, rolling windows. Tokens: metered usage, all time, every relay.'
      : 'Requests: every relay, rolling windows.',
  );
}

function emptyTimeline() {
  return { bucket_seconds: 60, requests: new Array(60).fill(0), failed: new Array(60).fill(0) };
}

// --- Stats

function renderStats() {
  const { overall } = state.stats;
  const windows = [
    ['Last minute', overall.minute],
    ['Last hour', overall.hour],
    ['Last day', overall.day],
  ];
  syncRows(
    $('windows-table').tBodies[0],
    windows,
    ([label]) => label,
    ([label]) => {
      const cells = Array.from({ length: 6 }, () => el('td'));
      const tr = el('tr', {}, el('th', { scope: 'row', text: label }), ...cells);
      return {
        tr,
        update([, w]) {
          setText(cells[0], fmtInt(w.requests));
          setText(cells[1], fmtRate(w.request_rate));
          setText(cells[2], fmtPct(w.success_rate));
          setText(cells[3], fmtPercentiles(w.latency_ms));
          setText(cells[4], fmtPercentiles(w.ttfb_ms));
          setText(cells[5], fmtBytes(w.bytes));
        },
      };
    },
  );
  const names = new Map(state.clients.map((c) => [c.id, c.name]));
  syncRows(
    $('client-stats-table').tBodies[0],
    state.stats.clients,
    (c) => c.client_id,
    () => {
      const cells = Array.from({ length: 5 }, () => el('td'));
      const tr = el('tr', {}, ...cells);
      return {
        tr,
        update(c) {
          setText(cells[0], names.get(c.client_id) ?? c.client_id);
          setText(cells[1], fmtInt(c.hour.requests));
          setText(cells[2], fmtPct(c.hour.success_rate));
          setText(cells[3], fmtPercentiles(c.hour.latency_ms));
          setText(cells[4], fmtMs(c.hour.ttfb_ms?.p50));
        },
      };
    },
  );
  const streams = state.streams ?? [];
  $('streams-empty').hidden = streams.length > 0;
  syncRows(
    $('streams-table').tBodies[0],
    streams,
    (s) => s.id,
    () => {
      const cells = Array.from({ length: 6 }, () => el('td'));
      cells[0].className = 'mono';
      const tr = el('tr', {}, ...cells);
      return {
        tr,
        update(s) {
          setText(cells[0], s.id);
          setText(cells[1], s.model);
          setText(cells[2], names.get(s.client_id) ?? s.client_id ?? '—');
          setText(cells[3], s.key_id);
          setText(cells[4], fmtDuration(s.started));
          setText(cells[5], fmtBytes(s.bytes));
        },
      };
    },
  );
}

// --- Relays

function relayState(relay) {
  if (!relay.reachable) return [relay.error === 'timeout' ? 'No answer' : 'Unreachable', 'bad'];
  if (relay.draining) return ['Shutting down', 'warn'];
  return ['Serving', 'ok'];
}

function redisSummary(redis) {
  if (!redis) return '—';
  if (redis.mode === 'none') return 'none (on its own)';
  const connections = Object.values(redis.connections);
  const ready = connections.filter((c) => c === 'ready').length;
  return `${redis.mode} · ${redis.master ?? 'no master'} · ${ready}/${connections.length} ready`;
}

function renderRelays() {
  const reachable = state.relays.filter((r) => r.reachable).length;
  setText($('relays-note'), `${reachable} of ${state.relays.length} answering`);
  syncRows(
    $('relays-table').tBodies[0],
    state.relays,
    (r) => r.id,
    (initial) => {
      const cells = Array.from({ length: 7 }, () => el('td'));
      cells[0].className = 'mono';
      const tr = el('tr', { 'data-relay': initial.id }, ...cells);
      let shown = '';
      return {
        tr,
        update(r) {
          setText(cells[0], relayLabel(r.id));
          const [label, tone] = relayState(r);
          if (shown !== label) {
            shown = label;
            cells[1].replaceChildren(badge(label, tone));
          }
          cells[1].title = r.reachable ? '' : (r.message ?? '');
          setText(cells[2], r.version ?? '—');
          setText(cells[3], r.started_at ? fmtDuration(r.started_at) : '—');
          setText(cells[4], fmtInt(r.agents));
          setText(cells[5], fmtInt(r.streams_in_flight));
          setText(cells[6], r.reachable ? redisSummary(r.redis) : '—');
        },
      };
    },
  );
}

// --- Aliases

function renderAliases() {
  const rows = Object.entries(state.aliases).map(([name, models]) => ({ name, models }));
  $('aliases-empty').hidden = rows.length > 0;
  syncRows(
    $('aliases-table').tBodies[0],
    rows,
    (a) => a.name,
    (initial) => {
      const name = el('td', { class: 'mono' });
      const models = el('td', { class: 'mono' });
      const remove = el('button', {
        type: 'button',
        class: 'button small danger',
        text: 'Delete',
        onclick: () => deleteAlias(initial.name),
      });
      remove.setAttribute('aria-label', `Delete the alias ${initial.name}`);
      const tr = el(
        'tr',
        { 'data-alias': initial.name },
        name,
        models,
        el('td', { class: 'actions' }, remove),
      );
      return {
        tr,
        update(a) {
          setText(name, a.name);
          setText(models, a.models.join(' → '));
        },
      };
    },
  );
}

async function saveAlias(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const data = new FormData(form);
  const name = String(data.get('name') ?? '').trim();
  const models = String(data.get('models') ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  setText($('alias-error'), '');
  try {
    await api('PUT', `api/aliases/${encodeURIComponent(name)}`, { models });
    form.reset();
    await refreshAliases();
    render();
    announce(`Alias ${name} saved`);
  } catch (error) {
    setText($('alias-error'), error.message);
  }
}

async function deleteAlias(name) {
  await act(() => api('DELETE', `api/aliases/${encodeURIComponent(name)}`), `Alias ${name} deleted`);
  await refreshAliases();
  render();
}

// --- Audit log

function renderAudit() {
  $('audit-empty').hidden = state.audit.length > 0;
  syncRows(
    $('audit-table').tBodies[0],
    state.audit,
    (e) => e.id,
    (initial) => {
      const cells = Array.from({ length: 7 }, () => el('td'));
      for (const i of [1, 2, 3, 6]) cells[i].className = 'mono';
      const tr = el('tr', { 'data-audit': initial.id }, ...cells);
      return {
        tr,
        update(e) {
          setText(cells[0], new Date(e.at).toLocaleString());
          cells[0].title = e.at;
          setText(cells[1], e.action);
          setText(cells[2], e.target ?? '—');
          setText(cells[3], e.actor);
          setText(cells[4], e.address);
          setText(cells[5], String(e.status));
          setText(cells[6], e.change ? JSON.stringify(e.change) : '—');
        },
      };
    },
  );
}

async function filterAudit(event) {
  event.preventDefault();
  const data = new FormData(event.currentTarget);
  const params = new URLSearchParams();
  for (const name of ['action', 'target']) {
    const value = String(data.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  state.auditQuery = params.size ? `&${params}` : '';
  await refreshAudit().then(render, reportError);
}

async function downloadAuditCsv() {
  try {
    const response = await api('GET', `api/audit?format=csv&limit=1000${state.auditQuery}`, undefined, {
      raw: true,
    });
    const link = el('a', { href: URL.createObjectURL(await response.blob()), download: 'audit.csv' });
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    reportError(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Wiring

function init() {
  $('login-form').addEventListener('submit', signIn);
  $('logout').addEventListener('click', () => signOut('Signed out.'));
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => selectTab(tab));
  document.querySelector('[role="tablist"]').addEventListener('keydown', onTabKey);
  window.addEventListener('hashchange', () => state.token && selectTab(tabFromHash(), { focus: false }));
  $('client-form').addEventListener('submit', registerClient);
  $('key-form').addEventListener('submit', createKey);
  $('alias-form').addEventListener('submit', saveAlias);
  $('audit-filter').addEventListener('submit', filterAudit);
  $('audit-csv').addEventListener('click', downloadAuditCsv);
  $('health-run').addEventListener('click', runHealthCheck);
  $('usage-key').addEventListener('change', render);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.token) void tick();
  });
  if (state.token) start();
  else signOut();
}

init();
