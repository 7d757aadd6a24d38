/**
 * The dashboard's layout in headless Chromium at a laptop's width (1440 px: the agents table
 * shows its row actions without scrolling) and a phone's (420 px: no tab makes the page wider
 * than the screen; wide tables scroll inside their card with their actions in sight), with every
 * table populated; the Stats tab lists a stream while it is in flight (`state.streams` was once
 * used and never declared); the relay's root leads to the dashboard; every module is served. Screenshots
 * go to test-artifacts/ (not committed).
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_ASSETS } from '../relay/src/dashboard/dashboard-routes.js';
import { startTestAgent } from './support/agent.js';
import { DASHBOARD_POLL, launchChromium } from './support/browser.js';
import { track } from './support/cleanup.js';
import { openDashboard, overflowOf, widthsOf } from './support/dashboard-page.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const DASHBOARD_DIR = fileURLToPath(new URL('../relay/src/dashboard/', import.meta.url));
const HOSTILE_NAME = '<img src=x onerror="document.title=1">\u202eevil';
/** The tabs whose phone screenshots are kept for a look (each costs a moment). */
const SHOTS = ['Overview', 'API keys', 'Requests', 'Alerts'];
const TABS = [
  'Overview',
  'Clients',
  'API keys',
  'Requests',
  'Usage',
  'Stats',
  'Relays',
  'Aliases',
  'Alerts',
  'Audit',
];

describe('dashboard: served files', () => {
  it('leads from the root to the dashboard and serves every module it imports, as JavaScript', async () => {
    const relay = await startTestRelay();
    const root = await fetch(`${relay.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(new URL(root.headers.get('location') ?? '', `${relay.url}/`).pathname).toBe('/dashboard');
    const followed = await fetch(`${relay.url}/`);
    expect(followed.headers.get('content-type')).toBe('text/html; charset=utf-8');

    const modules = readdirSync(DASHBOARD_DIR).filter((name) => name.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(10);
    expect(DASHBOARD_ASSETS.filter((name) => name.endsWith('.js')).sort()).toEqual(modules.sort());
    for (const name of modules) {
      const res = await fetch(`${relay.url}/dashboard/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toBe('text/javascript; charset=utf-8');
      expect(res.headers.get('content-security-policy'), name).toContain("script-src 'self'");
      // Modules import one another by relative path only: nothing from elsewhere.
      expect(await res.text(), name).not.toMatch(/from\s+['"](?!\.\/)/);
    }
    // Files beside the modules that the page does not load are not served.
    for (const path of ['tsconfig.json', 'types.d.ts', 'dashboard-routes.ts', '../app.ts']) {
      expect((await fetch(`${relay.url}/dashboard/${path}`)).status, path).toBe(404);
    }
  });
});

describe('dashboard: layout in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** A relay with something in every table: an agent with a long name, a key with limits, … */
  async function populatedRelay(): Promise<{ relay: TestRelay; sessionId: string }> {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const { json } = await relay.admin('POST', '/api/clients', {
      name: 'A bridge owner with a rather long name, lending a bridge from home',
      email: 'owner.with.a.long.address@example.org',
    });
    const agent = await startTestAgent(relay.url, json.token, bridge.url);
    // A name a stranger chose: shown as text, never as markup.
    await relay.admin('POST', '/api/clients', { name: HOSTILE_NAME });
    const key = await relay.admin('POST', '/api/keys', {
      name: 'consumer with limits',
      // As many as a key may list (1 000), the last with a long name.
      allowed_models: [
        'gpt-5',
        ...Array.from({ length: 998 }, (_, i) => `model-${i}`),
        'a-model-with-a-very-long-name-2026-01-01-preview',
      ],
      limits: {
        requests_per_minute: 60,
        requests_per_day: 10_000,
        max_concurrency: 4,
        tokens_per_day: 2_000_000,
      },
    });
    expect(key.status).toBe(201);
    await relay.admin('PUT', '/api/aliases/fast', { models: ['gpt-5', 'claude-opus-4'] });
    await relay.admin('POST', '/api/alerts/channels', {
      kind: 'webhook',
      name: 'ops',
      url: 'https://alerts.example.org/hooks/arena-relay/a-long-path-for-the-receiver',
    });
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.json.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    return { relay, sessionId: agent.sessionId };
  }

  it('at 1440 px: the agents table shows its Drain and Disconnect buttons without scrolling', async () => {
    const { relay, sessionId } = await populatedRelay();
    const { page, problems } = await openDashboard(browser, relay, { width: 1440, height: 900 });
    const row = page.locator(`#agents-table tr[data-agent="${sessionId}"]`);
    await row.getByText('Ready', { exact: true }).waitFor();
    for (const name of [/^Drain agent/, /^Disconnect agent/]) {
      const button = row.getByRole('button', { name });
      const { right, covered } = await overflowOf(page, button);
      expect(right).toBeLessThanOrEqual(0);
      expect(covered).toBe(false);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'layout-1440-overview.png') });
    // Nothing to scroll sideways: the table fits its card.
    const fit = await page
      .locator('#agents-table')
      .evaluate((t) => ({ table: t.scrollWidth, card: t.parentElement?.clientWidth }));
    expect(fit.table, `table ${fit.table} px in ${fit.card} px`).toBeLessThanOrEqual(fit.card ?? 0);
    for (const tab of ['Clients', 'API keys', 'Alerts']) {
      await page.getByRole('tab', { name: tab }).click();
      const actions = page.locator('[role="tabpanel"]:not([hidden]) td.actions .button');
      await expect.poll(() => actions.count(), DASHBOARD_POLL).toBeGreaterThan(0);
      for (const button of await actions.all())
        expect((await overflowOf(page, button)).right, tab).toBeLessThanOrEqual(0);
    }
    expect(problems).toEqual([]);
  });

  it('lists the streams in flight on the Stats tab while they last', async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const client = await relay.createClient('streaming bridge');
    await startTestAgent(relay.url, client.token, bridge.url);
    const key = await relay.createKey('streaming consumer');
    // The bridge answers with headers, then nothing: the stream stays in flight until the consumer leaves.
    bridge.scenario = 'hang';
    const { page, problems } = await openDashboard(browser, relay, { width: 1440, height: 900 });
    await page.getByRole('tab', { name: 'Stats' }).click();
    const consumer = new AbortController();
    // Not awaited: the relay holds its answer until the first byte, which never comes.
    const answer = fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'wait' }] }),
      signal: consumer.signal,
    }).catch((error: Error) => error.name);
    const row = page.locator('#streams-table tbody tr');
    await expect.poll(() => row.count(), DASHBOARD_POLL).toBe(1);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 4)).toEqual(['gpt-5', 'streaming bridge', key.id]);
    expect(await page.locator('#streams-empty').isHidden()).toBe(true);
    consumer.abort();
    expect(await answer).toBe('AbortError');
    await expect.poll(() => row.count(), DASHBOARD_POLL).toBe(0);
    expect(await page.locator('#streams-empty').isVisible()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('at 420 px: no tab makes the page wider than the screen, and row actions stay in sight', async () => {
    const { relay, sessionId } = await populatedRelay();
    const { page, problems } = await openDashboard(browser, relay, { width: 420, height: 860 });
    await page
      .locator(`#agents-table tr[data-agent="${sessionId}"]`)
      .getByText('Ready', { exact: true })
      .waitFor();
    const widths = () => widthsOf(page);
    for (const tab of TABS) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByRole('tab', { name: tab, selected: true }).waitFor();
      // Each tab's tables have had a refresh to fill them.
      await page.locator('[role="tabpanel"]:not([hidden]) tbody tr').first().waitFor();
      const { page: width, viewport, past } = await widths();
      expect(
        width,
        `${tab}: page ${width} px wide in ${viewport} px: ${past.join(', ')}`,
      ).toBeLessThanOrEqual(viewport);
      // The chosen tab is scrolled into the tab bar's view.
      const tabBox = await page.getByRole('tab', { name: tab }).boundingBox();
      expect(tabBox && tabBox.x >= 0 && tabBox.x + tabBox.width <= viewport, tab).toBe(true);
      if (SHOTS.includes(tab)) {
        await page.screenshot({
          path: join(ARTIFACTS, `layout-420-${tab.replace(' ', '-').toLowerCase()}.png`),
        });
      }
      // Several buttons side by side may be wider than a phone; the last one is at the edge.
      const lasts = page.locator('[role="tabpanel"]:not([hidden]) td.actions .button:last-child');
      for (const button of await lasts.all()) {
        const { right, covered } = await overflowOf(page, button);
        expect(right, `${tab}: row action past the edge`).toBeLessThanOrEqual(0);
        expect(covered, `${tab}: row action covered`).toBe(false);
      }
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect((await widths()).page).toBeLessThanOrEqual(420);
    expect(problems).toEqual([]);
  });

  it('at 420 px: dialogs fit with their buttons in reach; long lists are cut, hostile names stay text', async () => {
    const { relay } = await populatedRelay();
    const { page, problems } = await openDashboard(browser, relay, { width: 420, height: 860 });
    const widths = () => widthsOf(page);
    await page.getByRole('tab', { name: 'API keys' }).click();
    await page
      .locator('#keys-table tbody tr')
      .getByText('gpt-5, model-0, model-1, model-2, model-3, model-4 and 994 more')
      .waitFor();
    await page.getByRole('tab', { name: 'Clients' }).click();
    await page.locator('#clients-table tbody tr', { hasText: 'evil' }).getByText(HOSTILE_NAME).waitFor();
    expect(await page.locator('#clients-table img').count()).toBe(0);
    expect(await page.title()).toBe('Arena Relay — dashboard');
    // A long dialog keeps its buttons in reach.
    for (const [tab, button, name, shot] of [
      ['Clients', 'Settings of A bridge owner', 'Settings of A bridge owner', 'client-dialog'],
      ['API keys', 'Edit the key consumer with limits', 'Edit the key consumer with limits', 'key-dialog'],
    ] as const) {
      await page.getByRole('tab', { name: tab }).click();
      await page.getByRole('button', { name: button }).click();
      const dialog = page.getByRole('dialog', { name });
      await dialog.waitFor();
      expect((await widths()).page).toBeLessThanOrEqual(420);
      const box = await dialog.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 420).toBe(true);
      const cancel = await dialog.getByRole('button', { name: 'Cancel' }).boundingBox();
      expect(cancel && cancel.y + cancel.height <= 860, `${shot}: Cancel below the screen`).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, `layout-420-${shot}.png`) });
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
    }
    expect(problems).toEqual([]);
  });
});
