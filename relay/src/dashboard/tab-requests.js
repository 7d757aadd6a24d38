// @ts-check
/**
 * Requests: the request log of every relay (`GET /api/requests`), newest first, filtered by key,
 * client, agent, model, status, outcome, time or one `x-request-id`; a chosen request opens
 * below with its attempts (request-detail.js). Other tabs link here filtered:
 * `#requests?client=cl_…` (see `requestsLink`).
 */
/** @import { RequestLine } from './types.js' */
import { api, messageOf, seg } from './api.js';
import {
  $,
  announce,
  badge,
  cellsRow,
  el,
  fillName,
  rowButton,
  setText,
  syncTable,
  textCell,
  timeCell,
} from './dom.js';
import { fmtBytes, fmtInt, fmtMs, fmtWhen } from './format.js';
import { clientName, outcomeBadge, renderDetail } from './request-detail.js';
import { hooks, state } from './state.js';

/** The filters the form and a link may set, as `GET /api/requests` names them. */
const FILTERS = ['id', 'key', 'client', 'agent', 'model', 'status', 'outcome', 'since', 'until'];

export async function refresh() {
  /** @type {{ requests: RequestLine[], unreachable?: { relay: string }[] }} */
  const answer = await api('GET', `api/requests?limit=100${state.requestsQuery}`);
  state.requests = answer.requests;
  state.requestsUnreachable = (answer.unreachable ?? []).map((u) => u.relay);
  const chosen = state.request && state.requests.find((r) => r.id === state.request?.id);
  if (chosen) state.request = chosen;
}

/** @param {RequestLine} r */
async function choose(r) {
  state.request = r;
  renderDetail();
  render();
  $('request-detail-title').focus();
  announce(`Request ${r.id}: ${r.outcome}, ${r.attempts.length} attempts`);
}

/** @param {RequestLine} initial */
function requestRow(initial) {
  let current = initial;
  let shown = '';
  const details = rowButton('Details', '', () => choose(current));
  const row = cellsRow({ 'data-request': initial.id }, [
    timeCell((r) => r.at, fmtWhen),
    { class: 'mono', fill: textCell((r) => r.key_id) },
    {
      class: 'mono wrap',
      fill: textCell((r) =>
        r.model_served && r.model_served !== r.model ? `${r.model} → ${r.model_served}` : r.model,
      ),
    },
    (td, r) => fillName(td, clientName(r.client_id), r.agent_id ?? '—'),
    textCell((r) => String(r.status)),
    (td, r) => {
      const [label, tone] = outcomeBadge(r);
      if (shown === label) return;
      shown = label;
      td.replaceChildren(badge(label, tone));
    },
    textCell((r) => fmtInt(r.attempts.length)),
    textCell((r) => fmtMs(r.ttfb_ms)),
    textCell((r) => fmtMs(r.duration_ms)),
    textCell((r) => fmtBytes(r.bytes)),
  ]);
  row.tr.append(el('td', { class: 'actions' }, details));
  return {
    tr: row.tr,
    /** @param {RequestLine} r */
    update(r) {
      current = r;
      row.update(r);
      row.tr.classList.toggle('selected', state.request?.id === r.id);
      details.setAttribute('aria-label', `Details of request ${r.id}`);
    },
  };
}

export function render() {
  syncTable('requests-table', state.requests, (r) => r.id, requestRow);
  const silent = state.requestsUnreachable;
  setText(
    $('requests-note'),
    `${fmtInt(state.requests.length)} shown${silent.length ? ` · not answering: ${silent.join(', ')}` : ''}`,
  );
  renderDetail();
}

/**
 * The form's filters as the API's query (a time in the operator's zone becomes an instant).
 * @param {FormData} data
 */
function queryOf(data) {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = String(data.get(name) ?? '').trim();
    if (!value) continue;
    params.set(name, name === 'since' || name === 'until' ? new Date(value).toISOString() : value);
  }
  return params.size ? `&${params}` : '';
}

async function search() {
  const error = $('requests-error');
  setText(error, '');
  state.requestsQuery = queryOf(new FormData(/** @type {HTMLFormElement} */ ($('requests-filter'))));
  try {
    await refresh();
    // One request asked for by its id: open it.
    const only = state.requests[0];
    if (state.requestsQuery.includes('id=') && state.requests.length === 1 && only) state.request = only;
    hooks.render();
    announce(`${state.requests.length} requests found`);
  } catch (failure) {
    setText(error, messageOf(failure));
  }
}

/**
 * Sets the form from a link's filters (`#requests?client=…`) and searches.
 * @param {URLSearchParams} params
 */
export function applyFilter(params) {
  const form = /** @type {HTMLFormElement} */ ($('requests-filter'));
  for (const name of FILTERS) {
    const input = form.elements.namedItem(name);
    if (input instanceof HTMLInputElement) input.value = params.get(name) ?? '';
  }
  state.request = null;
  void search();
}

/**
 * A link to this tab filtered by one field (a key's, a client's or an agent's requests); its
 * text is the caller's.
 * @param {'key' | 'client' | 'agent'} name
 * @param {string} value
 * @param {string} title
 */
export const requestsLink = (name, value, title) =>
  el('a', { href: `#requests?${name}=${seg(value)}`, title });

export function init() {
  const form = $('requests-filter');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void search();
  });
  // Cleared: the list shows everything again.
  form.addEventListener('reset', () => setTimeout(search));
  $('request-close').addEventListener('click', () => {
    state.request = null;
    render();
  });
}
