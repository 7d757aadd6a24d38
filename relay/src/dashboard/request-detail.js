// @ts-check
/**
 * One request of the log in detail: what it asked, how it ended, and each attempt — the agent and
 * client tried, its code in plain words, the bridge's reason with its owner's fix, its timing —
 * so that a failed request says why, attempt by attempt. Nothing here can show a prompt: the log
 * has none.
 */
/** @import { RequestAttempt, RequestLine } from './types.js' */
import { $, badge, cellsRow, el, fillName, setText, syncTable, textCell } from './dom.js';
import { fmtBytes, fmtInt, fmtMs } from './format.js';
import { state } from './state.js';

/**
 * What a failure code means, in plain words: the agent's stream codes (shared/src/frames.ts
 * `streamErrorCode`, `agent_gone`) and the relay's error codes a request ends with.
 * @type {Readonly<Record<string, string>>}
 */
const CODE_TEXTS = {
  busy: 'the agent was at its limit of streams, or draining',
  upstream_unavailable: 'the bridge could not serve: not running, its browser tab gone, or a check to pass',
  upstream_error: 'the bridge answered with an error (a 5xx, or "[LMArena Bridge Error]" in its answer)',
  upstream_rejected: 'the bridge refused the request itself: retrying elsewhere would not help',
  upstream_timeout: 'the bridge stayed silent for longer than the agent waits',
  timeout: 'the bridge stayed silent for longer than the agent waits',
  cancelled: 'the relay cancelled the stream',
  protocol_error: 'the agent broke the tunnel protocol',
  internal: 'the agent failed for a reason it did not name',
  agent_gone: "the agent's connection closed under the stream",
  agent_unavailable: 'the agent failed (its connection closed, or it broke the protocol)',
  no_agents_available: 'no agent serving this model had a free stream',
  model_not_found: 'no bridge offers this model (and no alias names it)',
  prompt_too_long: 'the prompt is longer than every bridge serving the model takes',
  request_too_large: 'the request was larger than the relay takes',
  consumer_disconnected: 'the consumer left before the answer was complete',
};

/** @param {string | null} code */
export const codeText = (code) => (code ? (CODE_TEXTS[code] ?? code) : 'served');

/**
 * How an outcome reads: a badge's text and tone.
 * @param {RequestLine} r
 * @returns {[string, 'ok' | 'warn' | 'bad']}
 */
export function outcomeBadge(r) {
  if (r.outcome === 'ok') return ['ok', 'ok'];
  if (r.outcome === 'consumer_disconnected' || r.result === 'consumer_error') return [r.outcome, 'warn'];
  return [r.outcome, 'bad'];
}

/** A client's name when the page knows it, else its id. @param {string | null} id */
export const clientName = (id) => (id ? (state.clients.find((c) => c.id === id)?.name ?? id) : '—');

/** @param {RequestLine} r */
function verdict(r) {
  const tries = `${r.attempts.length} attempt${r.attempts.length === 1 ? '' : 's'}`;
  if (r.outcome === 'ok')
    return r.attempts.length > 1 ? `Served after ${tries}: the last one answered.` : 'Served.';
  const why = codeText(r.outcome);
  if (r.attempts.length === 0) return `Failed before any agent was tried (${r.outcome}): ${why}.`;
  return `Ended ${r.outcome === 'consumer_disconnected' ? '' : 'in failure '}with ${r.outcome} after ${tries}: ${why}.`;
}

/** @param {RequestLine} r @returns {Array<[string, string]>} */
function facts(r) {
  return [
    ['Request id', r.id],
    ['When', `${new Date(r.at).toLocaleString()} · relay ${r.relay}`],
    ['Key', r.key_id],
    ['Model', r.model_served && r.model_served !== r.model ? `${r.model} → ${r.model_served}` : r.model],
    ['Served by', r.client_id ? `${clientName(r.client_id)} · ${r.agent_id ?? '—'}` : '—'],
    [
      'Status',
      `${r.status === 0 ? '0 (the consumer left first)' : r.status}${r.stream ? ' · streamed' : ''}`,
    ],
    [
      'Outcome',
      r.error_code && r.error_code !== r.outcome ? `${r.outcome} (told: ${r.error_code})` : r.outcome,
    ],
    ['First byte · total', `${fmtMs(r.ttfb_ms)} · ${fmtMs(r.duration_ms)}`],
    ['Bytes relayed', fmtBytes(r.bytes)],
  ];
}

/**
 * The attempt's result: its code, what that means, and the bridge's reason with its fix.
 * @param {HTMLTableCellElement} td
 * @param {RequestAttempt} a
 */
function fillResult(td, a) {
  td.replaceChildren(a.code ? badge(a.code, 'bad') : badge('served', 'ok'));
  td.append(
    el('div', { class: 'cell-sub', 'data-code-text': '', text: a.code ? codeText(a.code) : 'it answered' }),
  );
  if (a.reason)
    td.append(el('div', { class: 'cell-sub mono', 'data-reason-code': a.reason, text: a.reason }));
  if (a.fix) td.append(el('div', { class: 'cell-sub', 'data-reason-fix': '', text: `Fix: ${a.fix}` }));
}

/** @param {[number, RequestAttempt]} initial */
function attemptRow(initial) {
  let shown = '';
  return cellsRow({ 'data-attempt': String(initial[0] + 1) }, [
    textCell(([i]) => String(i + 1)),
    (td, [, a]) => fillName(td, clientName(a.client_id), a.agent_id),
    { class: 'mono', fill: textCell(([, a]) => a.model) },
    {
      class: 'wrap',
      fill: (td, [, a]) => {
        const key = `${a.code}/${a.reason}/${a.fix}`;
        if (key === shown) return;
        shown = key;
        fillResult(td, a);
      },
    },
    textCell(([, a]) => `+${fmtMs(a.started_ms)}`),
    textCell(([, a]) => fmtMs(a.duration_ms)),
    textCell(([, a]) => (a.upstream_status === null ? '—' : String(a.upstream_status))),
  ]);
}

/** Draws the chosen request, or hides the card when none is chosen. */
export function renderDetail() {
  const r = state.request;
  const card = $('request-detail');
  card.hidden = !r;
  if (!r) return;
  setText($('request-detail-title'), `Request ${r.id}`);
  const verdictNode = $('request-verdict');
  setText(verdictNode, verdict(r));
  verdictNode.className = r.outcome === 'ok' ? 'ok-text' : 'bad-text';
  const list = $('request-facts');
  const items = facts(r);
  if (list.children.length !== items.length)
    list.replaceChildren(...items.map(([label]) => el('div', {}, el('dt', { text: label }), el('dd'))));
  for (const [i, [, value]] of items.entries()) {
    const dd = list.children[i]?.lastChild;
    if (dd) setText(dd, value);
  }
  // Keyed by the request too: another request's first attempt is another row.
  syncTable('attempts-table', [...r.attempts.entries()], ([i]) => `${r.id}/${i}`, attemptRow);
  setText($('request-attempts-note'), `${fmtInt(r.attempts.length)} tried, in order`);
}
