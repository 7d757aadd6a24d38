// @ts-check
/**
 * Usage: one key's requests over the last hour as a chart, every key's figures in a table, and
 * the metered usage (tokens and cost, every relay) exported as CSV for a period.
 */
/** @import { ApiKeyRecord } from './types.js' */
import { ApiError, api, messageOf, request } from './api.js';
import { emptyTimeline, renderChart } from './chart.js';
import { $, cellsRow, el, saveBlob, setText, syncTable, textCell } from './dom.js';
import { checkboxes } from './fields.js';
import { fmtBytes, fmtInt, fmtPct } from './format.js';
import { state } from './state.js';
import { keyStats, refresh as refreshKeys } from './tab-keys.js';

async function refreshUsage() {
  if (state.usageAvailable === false) return;
  try {
    state.usage = await api('GET', 'api/usage?group_by=key');
    state.usageAvailable = true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) state.usageAvailable = false;
    else throw error;
  }
}

export async function refresh() {
  await Promise.all([refreshKeys(), refreshUsage()]);
}

/** @param {string} keyId */
const usageOf = (keyId) => state.usage?.groups?.find((g) => g.key_id === keyId);

export function render() {
  // Revoked keys (listed on the keys tab on request) have no live figures.
  const keys = state.keys.filter((k) => !k.revoked);
  $('usage-export-card').hidden = state.usageAvailable === false;
  const select = /** @type {HTMLSelectElement} */ ($('usage-key'));
  const wanted = keys.map((k) => k.id);
  const existing = [...select.options].map((o) => o.value);
  if (wanted.join() !== existing.join()) {
    const chosen = select.value;
    select.replaceChildren(
      ...keys.map((k) => el('option', { value: k.id, text: `${k.name} (${k.preview})` })),
    );
    if (wanted.includes(chosen)) select.value = chosen;
  }
  const key = keys.find((k) => k.id === select.value);
  renderChart(
    $('usage-chart'),
    keyStats(select.value)?.timeline ?? emptyTimeline(),
    key ? `key ${key.name}` : 'no key',
  );

  syncTable(
    'usage-table',
    keys,
    (k) => k.id,
    /** @param {ApiKeyRecord} initial */
    (initial) =>
      cellsRow({ 'data-usage': initial.id }, [
        textCell((k) => k.name),
        textCell((k) => fmtInt(keyStats(k.id)?.hour.requests ?? 0)),
        textCell((k) => fmtInt(keyStats(k.id)?.day.requests ?? 0)),
        textCell((k) => fmtPct(keyStats(k.id)?.day.success_rate ?? null)),
        textCell((k) => fmtBytes(keyStats(k.id)?.day.bytes ?? 0)),
        textCell((k) => {
          const usage = usageOf(k.id);
          return usage ? fmtInt(usage.total_tokens) : '—';
        }),
      ]),
  );
  setText(
    $('usage-source'),
    state.usageAvailable
      ? 'Requests: every relay, rolling windows. Tokens: metered usage, all time, every relay.'
      : 'Requests: every relay, rolling windows.',
  );
}

/**
 * `GET /api/usage` as CSV for the period and grouping in the form (dates are UTC days, `to`
 * included).
 * @param {SubmitEvent} event
 */
async function exportUsage(event) {
  event.preventDefault();
  const data = new FormData(/** @type {HTMLFormElement} */ (event.currentTarget));
  const params = new URLSearchParams({
    format: 'csv',
    group_by: data.getAll('group_by').map(String).join(','),
  });
  for (const name of ['from', 'to']) {
    const value = String(data.get(name) ?? '');
    if (value) params.set(name, value);
  }
  const error = $('usage-export-error');
  setText(error, '');
  try {
    const response = await request('GET', `api/usage?${params}`);
    saveBlob(await response.blob(), 'usage.csv');
  } catch (failure) {
    setText(error, messageOf(failure));
  }
}

/** @param {() => void} rerender */
export function init(rerender) {
  $('usage-key').addEventListener('change', rerender);
  $('usage-group-by').replaceWith(
    checkboxes('Group by', 'group_by', ['day', 'key', 'client', 'model'], ['key']),
  );
  $('usage-export').addEventListener('submit', exportUsage);
}
