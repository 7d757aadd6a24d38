/**
 * `GET /dashboard`: the operator page, static files beside this module (index.html, app.css and
 * the ES modules app.js imports; no build step, nothing from a CDN), read once and served under a
 * strict Content-Security-Policy. The page itself is public; every figure it shows comes from the
 * admin API with the token the operator types in. `GET /` leads there.
 */
import { readFile } from 'node:fs/promises';
import type { Context, Hono } from 'hono';
import type { AppEnv } from '../http/context.js';

/** Scripts and styles from this origin only; no inline code, no framing, no form posts. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const JS = 'text/javascript; charset=utf-8';

/** Every file the page loads, and only those: a module type-checked here is not served by accident. */
const ASSETS = {
  'index.html': 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.js': JS,
  'api.js': JS,
  'chart.js': JS,
  'client-settings.js': JS,
  'client-webhook.js': JS,
  'dialogs.js': JS,
  'dom.js': JS,
  'fields.js': JS,
  'format.js': JS,
  'page.js': JS,
  'request-detail.js': JS,
  'state.js': JS,
  'tab-alerts.js': JS,
  'tab-aliases.js': JS,
  'tab-audit.js': JS,
  'tab-clients.js': JS,
  'tab-keys.js': JS,
  'tab-overview.js': JS,
  'tab-relays.js': JS,
  'tab-requests.js': JS,
  'tab-stats.js': JS,
  'tab-usage.js': JS,
} as const;
/** The page's asset names (a test checks that every module beside this file is listed). */
export const DASHBOARD_ASSETS = Object.keys(ASSETS);
type Asset = keyof typeof ASSETS;

const cache = new Map<Asset, Promise<string>>();

/**
 * Beside this module when the relay runs from sources; in `dashboard/` beside the bundle when it
 * runs from `dist/relay.js` (the build copies the files there).
 */
async function read(name: Asset): Promise<string> {
  try {
    return await readFile(new URL(`./${name}`, import.meta.url), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return readFile(new URL(`./dashboard/${name}`, import.meta.url), 'utf8');
  }
}

function load(name: Asset): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    text = read(name);
    text.catch(() => cache.delete(name));
    cache.set(name, text);
  }
  return text;
}

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  // Small files: revalidating each load keeps an upgraded relay from serving a stale page.
  'cache-control': 'no-cache',
};

export function dashboardRoutes(app: Hono<AppEnv>): void {
  const serve = (name: Asset) => async (c: Context<AppEnv>) =>
    c.body(await load(name), 200, { ...SECURITY_HEADERS, 'content-type': ASSETS[name] });

  // The relay's root has nothing else to show: an operator who types its address lands here.
  // Relative, so that a relay behind a path prefix keeps it.
  app.get('/', (c) => c.redirect('dashboard', 302));
  app.get('/dashboard', serve('index.html'));
  // Relative asset and API paths in the page assume no trailing slash.
  app.get('/dashboard/', (c) => c.redirect('../dashboard', 301));
  for (const name of Object.keys(ASSETS) as Asset[]) {
    if (name !== 'index.html') app.get(`/dashboard/${name}`, serve(name));
  }
}
