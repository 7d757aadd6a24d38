// @ts-check
/** Relays: every relay sharing this one's Redis, as each describes itself. */
/** @import { Relay } from './types.js' */
import { api } from './api.js';
import { $, badge, cellsRow, setText, syncTable, textCell } from './dom.js';
import { fmtDuration, fmtInt } from './format.js';
import { state } from './state.js';
import { relayLabel } from './tab-overview.js';

export async function refresh() {
  state.relays = (await api('GET', 'api/relays')).relays;
}

/**
 * @param {Relay} relay
 * @returns {[string, 'ok' | 'warn' | 'bad']}
 */
function relayState(relay) {
  if (!relay.reachable) return [relay.error === 'timeout' ? 'No answer' : 'Unreachable', 'bad'];
  if (relay.draining) return ['Shutting down', 'warn'];
  return ['Serving', 'ok'];
}

/** @param {Relay['redis']} redis */
function redisSummary(redis) {
  if (!redis) return '—';
  if (redis.mode === 'none') return 'none (on its own)';
  const connections = Object.values(redis.connections);
  const ready = connections.filter((c) => c === 'ready').length;
  return `${redis.mode} · ${redis.master ?? 'no master'} · ${ready}/${connections.length} ready`;
}

export function render() {
  const reachable = state.relays.filter((r) => r.reachable).length;
  setText($('relays-note'), `${reachable} of ${state.relays.length} answering`);
  syncTable(
    'relays-table',
    state.relays,
    (r) => r.id,
    (initial) => {
      let shown = '';
      return cellsRow({ 'data-relay': initial.id }, [
        { class: 'mono', fill: textCell((r) => relayLabel(r.id)) },
        (td, r) => {
          const [label, tone] = relayState(r);
          if (shown !== label) {
            shown = label;
            td.replaceChildren(badge(label, tone));
          }
          td.title = r.reachable ? '' : (r.message ?? '');
        },
        textCell((r) => r.version ?? '—'),
        textCell((r) => (r.started_at ? fmtDuration(r.started_at) : '—')),
        textCell((r) => fmtInt(r.agents)),
        textCell((r) => fmtInt(r.streams_in_flight)),
        textCell((r) => (r.reachable ? redisSummary(r.redis) : '—')),
      ]);
    },
  );
}
