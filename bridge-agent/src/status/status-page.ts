/**
 * The status server's `/`: one small HTML page for the bridge's owner, saying whether the agent
 * serves and, when not, why and what to do. Self-contained (no script, no external asset); every
 * value is escaped, and stripped of control characters, since the bridge's and relay's words end
 * up in it.
 */
import { stripControls } from '@arena-relay/shared';
import type { PlatformStatus } from './status-server.js';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe inside HTML text and quoted attribute values, with no control or bidi character. */
export function escapeHtml(text: string): string {
  return stripControls(text).replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

const row = (name: string, value: string | number | null): string =>
  `<tr><th>${escapeHtml(name)}</th><td>${escapeHtml(value === null ? '—' : String(value))}</td></tr>`;

/** Renders `/` from the body of `/platform/status`. */
export function statusPage(status: PlatformStatus): string {
  const serving = status.ready && status.connected;
  const headline = serving
    ? 'Serving: the bridge is ready and the relay is connected.'
    : !status.ready
      ? 'Not serving: the bridge cannot take requests.'
      : 'Not serving: the agent is not connected to the relay.';
  const fix =
    !status.ready && status.ready_fix
      ? `<p class="fix"><strong>What to do:</strong> ${escapeHtml(status.ready_fix)}</p>`
      : '';
  const links = status.connections
    .map((link) =>
      row(link.relay_url, link.connected ? `connected, ${link.in_flight} in flight` : 'not connected'),
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>Arena Relay agent: ${serving ? 'serving' : 'not serving'}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}
.state{padding:.75rem 1rem;border-radius:6px;background:${serving ? '#e6f4ea' : '#fdecea'}}
.fix{padding:.75rem 1rem;border-left:4px solid #d93025;background:#fff8e1}
th{text-align:left;padding-right:1rem;font-weight:600}td,th{vertical-align:top}</style></head>
<body><h1>Arena Relay agent</h1>
<p class="state">${escapeHtml(headline)}</p>
${fix}
<table>
${row('Reason', status.ready ? null : status.ready_code)}
${row("Bridge's words", status.ready ? null : status.ready_reason)}
${row('Retry after', status.retry_at)}
${row('Bridge', `${status.bridge}${status.bridge_setting === 'auto' ? ' (found by bridge: auto)' : ' (set in config)'}`)}
${row('Found from', status.bridge_evidence)}
${row('Prompt limit', status.prompt_limit_chars === null ? null : `${status.prompt_limit_chars} characters`)}
${row('Client', status.client_id)}
${row('Max concurrency', status.max_concurrency)}
${row('Reconnects', status.reconnects)}
${links}
${row('Log file', status.log_file ?? 'none (this run logs to its console only)')}
</table>
<p>JSON: <a href="/platform/status">/platform/status</a> · <a href="/stats">/stats</a></p>
</body></html>
`;
}
