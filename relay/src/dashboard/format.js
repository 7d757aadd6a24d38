// @ts-check
/** How figures read on the page: counts, rates, durations, sizes and times (`—` for none). */

const numberFormat = new Intl.NumberFormat();

/** @param {number | null | undefined} n */
export const fmtInt = (n) => (n === null || n === undefined ? '—' : numberFormat.format(n));

/** @param {number | null | undefined} r a fraction, 0–1 */
export const fmtPct = (r) =>
  r === null || r === undefined ? '—' : `${(r * 100).toFixed(r >= 0.9995 ? 0 : 1)} %`;

/** @param {number | null | undefined} ms */
export function fmtMs(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** @type {ReadonlyArray<[string, number]>} */
const RATE_UNITS = [
  ['s', 1],
  ['min', 60],
  ['h', 3600],
];

/**
 * A request rate in the unit that reads best: per second, minute, hour or day.
 * @param {number} perSecond
 */
export function fmtRate(perSecond) {
  if (!perSecond) return '0/min';
  for (const [unit, seconds] of RATE_UNITS) {
    const value = perSecond * seconds;
    if (value >= 1) return `${value.toFixed(value < 10 ? 1 : 0)}/${unit}`;
  }
  const perDay = perSecond * 86_400;
  return `${perDay.toFixed(perDay < 10 ? 1 : 0)}/day`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** @param {number | null | undefined} bytes */
export function fmtBytes(bytes) {
  if (!bytes) return '0 B';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${BYTE_UNITS[unit]}`;
}

/** @param {string | null | undefined} iso */
export function fmtAgo(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** @param {string} iso how long since then */
export function fmtDuration(iso) {
  const seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (seconds < 60) return `${Math.floor(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86_400)} d ${Math.floor((seconds % 86_400) / 3600)} h`;
}

/** @param {string} iso a time of day when it is today, else with its date */
export function fmtWhen(iso) {
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString() ? at.toLocaleTimeString() : at.toLocaleString();
}

/** @param {string | null | undefined} iso */
export const fmtDate = (iso) => (iso ? new Date(iso).toLocaleDateString() : '—');

/** @param {{ p50: number | null, p90: number | null, p99: number | null } | null | undefined} p */
export const fmtPercentiles = (p) => (p ? `${fmtMs(p.p50)} / ${fmtMs(p.p90)} / ${fmtMs(p.p99)}` : '—');

/**
 * A key's or client's limits in one line, e.g. "60/min · 1 000/day · 2 streams"; "none".
 * @param {{ requests_per_minute?: number | null, requests_per_day?: number | null, max_concurrency?: number | null, tokens_per_day?: number | null }} limits
 */
export function fmtLimits(limits) {
  const parts = [];
  if (limits.requests_per_minute != null) parts.push(`${fmtInt(limits.requests_per_minute)}/min`);
  if (limits.requests_per_day != null) parts.push(`${fmtInt(limits.requests_per_day)}/day`);
  if (limits.max_concurrency != null)
    parts.push(`${fmtInt(limits.max_concurrency)} stream${limits.max_concurrency === 1 ? '' : 's'}`);
  if (limits.tokens_per_day != null) parts.push(`${fmtInt(limits.tokens_per_day)} tokens/day`);
  return parts.length ? parts.join(' · ') : 'none';
}

/**
 * A list cut to its first `max` items, e.g. "gpt-5, claude-opus-4 and 998 more".
 * @param {readonly string[]} items
 * @param {number} [max]
 */
export function fmtList(items, max = 6) {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${fmtInt(items.length - max)} more` : shown;
}
