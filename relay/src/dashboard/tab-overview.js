// @ts-check
/**
 * Overview: the headline figures, the live agents of every relay (drain, disconnect), a health
 * check of every bridge, and the last hour's requests.
 */
/** @import { Agent, HealthAnswer } from './types.js' */
import { api, messageOf, seg } from './api.js';
import { renderChart } from './chart.js';
import { confirmThenAct } from './dialogs.js';
import { $, announce, badge, el, rowButton, setText, syncTable } from './dom.js';
import { fmtDuration, fmtInt, fmtMs, fmtPct, fmtRate } from './format.js';
import { state } from './state.js';
import { requestsLink } from './tab-requests.js';

/** A relay id, marked when it is the relay this page talks to. @param {string} id */
export function relayLabel(id) {
  return id === state.relayId ? `${id} (this relay)` : id;
}

/**
 * One stat card, created on first use.
 * @param {string} id
 * @param {string} label
 * @param {string} value
 * @param {string} note
 */
function card(id, label, value, note) {
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
  const [, valueNode, noteNode] = node.children;
  if (valueNode) setText(valueNode, value);
  if (noteNode) setText(noteNode, note);
}

function renderCards() {
  const { agents, stats } = state;
  if (!stats) return;
  const serving = agents.filter((a) => a.ready && !a.draining);
  const inFlight = agents.reduce((sum, a) => sum + a.in_flight, 0);
  const capacity = serving.reduce((sum, a) => sum + a.max_concurrency, 0);
  const hour = stats.overall.hour;
  card('agents', 'Agents ready', `${serving.length} / ${agents.length}`, `${capacity} stream slots`);
  card('inflight', 'In flight', fmtInt(inFlight), `queue: ${fmtInt(state.queueDepth)}`);
  card('requests', 'Requests · 1 h', fmtInt(hour.requests), fmtRate(stats.overall.minute.request_rate));
  // Consumer errors (a 4xx the consumer caused) are neither success nor failure (metrics/figures.ts).
  const consumerErrors = hour.consumer_errors ?? 0;
  card(
    'success',
    'Success · 1 h',
    fmtPct(hour.success_rate),
    `${fmtInt(hour.failed)} failed${consumerErrors > 0 ? ` · ${fmtInt(consumerErrors)} consumer errors` : ''}`,
  );
  card('latency', 'Latency p50 · 1 h', fmtMs(hour.latency_ms?.p50), `p99 ${fmtMs(hour.latency_ms?.p99)}`);
  card('ttfb', 'First byte p50 · 1 h', fmtMs(hour.ttfb_ms?.p50), `p90 ${fmtMs(hour.ttfb_ms?.p90)}`);
}

/**
 * @param {Agent} agent
 * @returns {[string, 'ok' | 'warn' | 'bad']}
 */
function agentState(agent) {
  if (agent.draining) return ['Draining', 'warn'];
  if (agent.cooldown?.benched) return ['Benched', 'bad'];
  if (!agent.ready) return ['Not ready', 'bad'];
  return ['Ready', 'ok'];
}

/** @param {Agent} agent */
const drainAgent = (agent) =>
  confirmThenAct(
    {
      title: `Drain ${agent.client_name}?`,
      text: 'The agent finishes its streams in flight and takes no new ones. It stays connected; it takes work again when it reconnects.',
      confirmLabel: 'Drain',
    },
    () => api('POST', `api/agents/${seg(agent.id)}/drain`),
    `Agent ${agent.id} is draining`,
  );

/** @param {Agent} agent */
const kickAgent = (agent) =>
  confirmThenAct(
    {
      title: `Disconnect ${agent.client_name}?`,
      text: 'Its socket is closed now and its streams in flight fail. The agent will reconnect by itself unless the client is disabled.',
      confirmLabel: 'Disconnect',
      danger: true,
    },
    () => api('DELETE', `api/agents/${seg(agent.id)}`),
    `Agent ${agent.id} disconnected`,
  );

/** @param {Agent} initial */
function createAgentRow(initial) {
  let current = initial;
  const name = el('div', { class: 'cell-main' });
  const sub = requestsLink('agent', initial.id, `Requests served or tried by agent ${initial.id}`);
  const relay = el('td', { class: 'mono small' });
  const stateCell = el('td', { class: 'state' });
  const fill = el('div', { class: 'load-fill' });
  const loadText = el('span');
  const models = el('td');
  const rtt = el('td');
  const since = el('td');
  const drain = rowButton('Drain', '', () => drainAgent(current));
  const kick = rowButton('Disconnect', 'danger', () => kickAgent(current));
  const tr = el(
    'tr',
    { 'data-agent': initial.id },
    el('td', {}, name, el('div', { class: 'cell-sub mono' }, sub)),
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
  let shownState = '';
  return {
    tr,
    /** @param {Agent} agent */
    update(agent) {
      current = agent;
      setText(name, agent.client_name);
      name.title = agent.client_name;
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
      fill.style.width = `${Math.min(100, (agent.in_flight / Math.max(1, agent.max_concurrency)) * 100)}%`;
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

function renderAgents() {
  syncTable('agents-table', state.agents, (a) => a.id, createAgentRow);
  const silent = state.unreachable.map((u) => u.relay);
  const notice = $('agents-unreachable');
  notice.hidden = silent.length === 0;
  setText(notice, silent.length ? `Not answering (their agents are missing here): ${silent.join(', ')}` : '');
}

/** @param {HealthAnswer['agents'][number]} a */
function healthRow(a) {
  return el(
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
  );
}

async function runHealthCheck() {
  const button = /** @type {HTMLButtonElement} */ ($('health-run'));
  const box = $('health-result');
  button.disabled = true;
  button.textContent = 'Checking…';
  try {
    /** @type {HealthAnswer} */
    const result = await api('POST', 'api/clients/health', {});
    const rows = result.agents.map(healthRow);
    const head = ['Agent', 'Result', 'Round trip', 'Bridge probe'].map((text) =>
      el('th', { scope: 'col', text }),
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
              el('thead', {}, el('tr', {}, head)),
              el('tbody', {}, rows),
            ),
          ),
    );
    box.hidden = false;
    announce(`Health check done: ${result.summary.healthy} of ${result.summary.agents} agents healthy`);
  } catch (error) {
    announce(`Health check failed: ${messageOf(error)}`);
  } finally {
    button.disabled = false;
    button.textContent = 'Health check';
  }
}

function renderLatency() {
  if (!state.stats) return;
  const hour = state.stats.overall.hour;
  /** @type {Array<[string, number | undefined]>} */
  const items = [
    ['p50', hour.latency_ms?.p50],
    ['p90', hour.latency_ms?.p90],
    ['p99', hour.latency_ms?.p99],
  ];
  const box = $('overview-latency');
  if (box.children.length === 0) {
    for (const [label] of items) box.append(el('div', {}, el('dt', { text: `Latency ${label}` }), el('dd')));
  }
  for (const [i, [, value]] of items.entries()) {
    const dd = box.children[i]?.lastChild;
    if (dd) setText(dd, fmtMs(value));
  }
}

/** Drawn on every refresh: the cards and agents show whichever tab is open. */
export function render() {
  if (!state.stats) return;
  renderCards();
  renderAgents();
  renderChart($('overview-chart'), state.stats.overall.timeline, 'all keys');
  renderLatency();
}

export function init() {
  $('health-run').addEventListener('click', runHealthCheck);
}
