// @ts-check
/** Bar charts of a timeline (requests and failures per bucket) as inline SVG: no library. */
/** @import { Timeline } from './types.js' */
import { svg } from './dom.js';

/** @returns {Pick<Timeline, 'bucket_seconds' | 'requests' | 'failed'>} */
export function emptyTimeline() {
  return { bucket_seconds: 60, requests: new Array(60).fill(0), failed: new Array(60).fill(0) };
}

/** @param {number} value */
function niceMax(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/**
 * Draws `timeline` (oldest first) into `container`; the label says it in words for screen readers.
 * @param {HTMLElement} container
 * @param {Pick<Timeline, 'bucket_seconds' | 'requests' | 'failed'> | undefined} timeline
 * @param {string} what e.g. "all keys"
 */
export function renderChart(container, timeline, what) {
  // Drawn at the container's own width so that labels keep their size on any screen.
  const width = Math.max(280, Math.round(container.clientWidth || 600));
  const height = 180;
  const pad = { left: 34, right: 8, top: 10, bottom: 22 };
  const requests = timeline?.requests ?? [];
  const failed = timeline?.failed ?? [];
  const n = requests.length || 60;
  // At least 2: an axis from 0 to 1 would put 0.5 requests in the middle.
  const top = niceMax(Math.max(2, ...requests));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const barW = plotW / n;
  const total = requests.reduce((s, v) => s + v, 0);
  const failures = failed.reduce((s, v) => s + v, 0);
  const unit =
    timeline?.bucket_seconds === 86_400 ? 'day' : timeline?.bucket_seconds === 3600 ? 'hour' : 'minute';
  const span = unit === 'day' ? `${n} days` : unit === 'hour' ? `${n} hours` : 'hour';
  const label = `Requests per ${unit} over the last ${span}, ${what}: ${total} in total, ${failures} failed, peak ${Math.max(0, ...requests)} per ${unit}.`;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  root.append(svg('title', { text: label }));
  for (const fraction of [0, 0.5, 1]) {
    const y = pad.top + plotH * (1 - fraction);
    root.append(svg('line', { class: 'axis', x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
    root.append(
      svg('text', {
        class: 'axis-label',
        x: pad.left - 6,
        y: y + 4,
        'text-anchor': 'end',
        // 2.5 is a real middle of 0–5; whole numbers elsewhere.
        text: String(Math.round(top * fraction * 10) / 10),
      }),
    );
  }
  requests.forEach((value, i) => {
    if (value === 0) return;
    const x = pad.left + i * barW + barW * 0.15;
    const w = Math.max(1, barW * 0.7);
    const h = (value / top) * plotH;
    const bad = ((failed[i] ?? 0) / top) * plotH;
    root.append(svg('rect', { class: 'bar', x, y: pad.top + plotH - h, width: w, height: h - bad, rx: 1.5 }));
    if (bad > 0)
      root.append(svg('rect', { class: 'bar-failed', x, y: pad.top + plotH - bad, width: w, height: bad }));
  });
  const first = unit === 'day' ? `-${n} d` : unit === 'hour' ? `-${n} h` : '-60 min';
  root.append(svg('text', { class: 'axis-label', x: pad.left, y: height - 6, text: first }));
  root.append(
    svg('text', {
      class: 'axis-label',
      x: width - pad.right,
      y: height - 6,
      'text-anchor': 'end',
      text: 'now',
    }),
  );
  container.replaceChildren(root);
}
