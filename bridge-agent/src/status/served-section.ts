/**
 * The part of `/` that says what the bridge served: requests since the start and in the last
 * hour, failures by reason with what to do, models with counts, the last errors in plain words
 * (Chinese first where the bridge wrote Chinese). Its size is bounded by the tally's caps.
 */
import { failureWords } from './failure-words.js';
import { escapeHtml, ownerWords, row } from './html.js';
import { MAX_MODELS, type ServedCounts, type ServedStatus } from './served-tally.js';

/** `2026-12-06T08:12:03.123Z` → `2026-12-06 08:12:03 UTC`. */
const when = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;

const counts = (c: ServedCounts): string =>
  `${c.requests} (${c.succeeded} served, ${c.failed} failed, ${c.cancelled} cancelled)`;

const cells = (...values: string[]): string => `<tr>${values.map((v) => `<td>${v}</td>`).join('')}</tr>`;

const heads = (...names: string[]): string => `<tr>${names.map((n) => `<th>${n}</th>`).join('')}</tr>`;

function failures(served: ServedStatus): string {
  if (served.failures.length === 0) return '';
  const rows = served.failures.map((f) =>
    cells(
      `<code>${escapeHtml(f.reason)}</code>`,
      String(f.count),
      ownerWords(f.lang, { en: f.fix, zh: f.fix_zh }),
    ),
  );
  return `<h3>Failures by reason</h3>
<table class="list">${heads('Reason', 'Failures', 'What to do')}${rows.join('')}</table>`;
}

function models(served: ServedStatus): string {
  if (served.models.length === 0) return '';
  const rows = served.models.map((m) => cells(escapeHtml(m.model), String(m.requests), String(m.failed)));
  const other = served.models_other;
  if (other.requests > 0)
    rows.push(
      cells(
        `<em>other models (past the first ${MAX_MODELS} names)</em>`,
        String(other.requests),
        String(other.failed),
      ),
    );
  return `<h3>Models</h3>
<table class="list">${heads('Model', 'Requests', 'Failed')}${rows.join('')}</table>`;
}

function lastErrors(served: ServedStatus): string {
  if (served.last_errors.length === 0) return '';
  const items = served.last_errors.map((e) => {
    const what = ownerWords(e.lang, failureWords(e.reason));
    const model = e.model === null ? '' : ` · ${escapeHtml(e.model)}`;
    return `<li><time>${escapeHtml(when(e.at))}</time> <code>${escapeHtml(e.reason)}</code>${model}<br>
${escapeHtml(e.message)}<br><strong>What to do:</strong> ${what}</li>`;
  });
  return `<h3>Last errors</h3>
<ol class="errors">${items.join('\n')}</ol>`;
}

/** The section, from `served` in `/platform/status`. */
export function servedSection(served: ServedStatus): string {
  return `<h2>What the bridge served</h2>
<table>
${row('Since the start', `${counts(served)}, started ${when(served.since)}`)}
${row('In the last hour', counts(served.last_hour))}
</table>
${failures(served)}
${models(served)}
${lastErrors(served)}`;
}
