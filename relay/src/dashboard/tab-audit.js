// @ts-check
/** Audit: every operator action of the cluster, newest first, filtered, and as CSV. */
import { api, request } from './api.js';
import { $, cellsRow, saveBlob, syncTable, textCell, timeCell } from './dom.js';
import { hooks, state } from './state.js';

export async function refresh() {
  state.audit = (await api('GET', `api/audit?limit=200${state.auditQuery}`)).entries;
}

export function render() {
  syncTable(
    'audit-table',
    state.audit,
    (e) => e.id,
    (initial) =>
      cellsRow({ 'data-audit': initial.id }, [
        timeCell((e) => e.at),
        { class: 'mono', fill: textCell((e) => e.action) },
        { class: 'mono', fill: textCell((e) => e.target ?? '—') },
        { class: 'mono', fill: textCell((e) => e.actor) },
        textCell((e) => e.address),
        textCell((e) => String(e.status)),
        { class: 'mono wrap', fill: textCell((e) => (e.change ? JSON.stringify(e.change) : '—')) },
      ]),
  );
}

/** @param {SubmitEvent} event */
async function filterAudit(event) {
  event.preventDefault();
  const data = new FormData(/** @type {HTMLFormElement} */ (event.currentTarget));
  const params = new URLSearchParams();
  for (const name of ['action', 'target']) {
    const value = String(data.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  state.auditQuery = params.size ? `&${params}` : '';
  await refresh().then(hooks.render, hooks.reportError);
}

async function downloadCsv() {
  try {
    const response = await request('GET', `api/audit?format=csv&limit=1000${state.auditQuery}`);
    saveBlob(await response.blob(), 'audit.csv');
  } catch (error) {
    hooks.reportError(error);
  }
}

export function init() {
  $('audit-filter').addEventListener('submit', filterAudit);
  $('audit-csv').addEventListener('click', downloadCsv);
}
