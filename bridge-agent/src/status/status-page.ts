/**
 * The status server's `/`: one small HTML page for the bridge's owner, saying whether the agent
 * serves and, when not, why and what to do, then what it served. Self-contained (no script, no
 * external asset); every value goes through html.ts.
 */
import { hasChinese } from '../upstream/bridge-words.js';
import { escapeHtml, ownerWords, row } from './html.js';
import { servedSection } from './served-section.js';
import type { PlatformStatus } from './status-server.js';

/** Renders `/` from the body of `/platform/status`. */
export function statusPage(status: PlatformStatus): string {
  const serving = status.ready && status.connected;
  const headline = serving
    ? 'Serving: the bridge is ready and the relay is connected.'
    : !status.ready
      ? 'Not serving: the bridge cannot take requests.'
      : 'Not serving: the agent is not connected to the relay.';
  // In Chinese too when the bridge said why in Chinese (LMArenaBridge v2.7.6).
  const lang = hasChinese(status.ready_reason ?? '') ? 'zh' : 'en';
  const fix =
    !status.ready && status.ready_fix
      ? `<p class="fix"><strong>What to do:</strong> ${ownerWords(lang, { en: status.ready_fix, zh: status.ready_fix_zh ?? status.ready_fix })}</p>`
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
th{text-align:left;padding-right:1rem;font-weight:600}td,th{vertical-align:top}
.list td,.list th{padding:.2rem .6rem .2rem 0;border-bottom:1px solid #eee}
.errors li{margin-bottom:.6rem;overflow-wrap:anywhere}small{color:#555}</style></head>
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
${servedSection(status.served)}
<p>JSON: <a href="/platform/status">/platform/status</a> · <a href="/stats">/stats</a></p>
</body></html>
`;
}
