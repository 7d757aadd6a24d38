// @ts-check
/** Stats: this relay's request figures per window and per client, and the streams in flight. */
/** @import { Stream, WindowSummary } from './types.js' */
import { api } from './api.js';
import { cellsRow, el, syncTable, textCell } from './dom.js';
import { fmtBytes, fmtDuration, fmtInt, fmtMs, fmtPct, fmtPercentiles, fmtRate } from './format.js';
import { state } from './state.js';
import { refresh as refreshClients } from './tab-clients.js';

export async function refresh() {
  const [streams] = await Promise.all([api('GET', 'api/streams'), refreshClients()]);
  state.streams = streams.streams;
}

export function render() {
  const stats = state.stats;
  if (!stats) return;
  /** @type {Array<[string, WindowSummary]>} */
  const windows = [
    ['Last minute', stats.overall.minute],
    ['Last hour', stats.overall.hour],
    ['Last day', stats.overall.day],
  ];
  syncTable(
    'windows-table',
    windows,
    ([label]) => label,
    ([label]) =>
      cellsRow(
        {},
        [
          textCell(([, w]) => fmtInt(w.requests)),
          textCell(([, w]) => fmtRate(w.request_rate)),
          textCell(([, w]) => fmtPct(w.success_rate)),
          textCell(([, w]) => fmtPercentiles(w.latency_ms)),
          textCell(([, w]) => fmtPercentiles(w.ttfb_ms)),
          textCell(([, w]) => fmtBytes(w.bytes)),
        ],
        el('th', { scope: 'row', text: label }),
      ),
  );
  const names = new Map(state.clients.map((c) => [c.id, c.name]));
  syncTable(
    'client-stats-table',
    stats.clients,
    (c) => c.client_id,
    () =>
      cellsRow({}, [
        textCell((c) => names.get(c.client_id) ?? c.client_id),
        textCell((c) => fmtInt(c.hour.requests)),
        textCell((c) => fmtPct(c.hour.success_rate)),
        textCell((c) => fmtPercentiles(c.hour.latency_ms)),
        textCell((c) => fmtMs(c.hour.ttfb_ms?.p50)),
      ]),
  );
  syncTable(
    'streams-table',
    state.streams,
    (s) => s.id,
    () =>
      cellsRow({}, [
        { class: 'mono', fill: textCell((s) => s.id) },
        textCell((s) => s.model),
        textCell((s) => (s.client_id ? (names.get(s.client_id) ?? s.client_id) : '—')),
        textCell((s) => s.key_id),
        textCell((s) => fmtDuration(s.started)),
        textCell((s) => fmtBytes(s.bytes)),
      ]),
  );
}
