/**
 * The dashboard tells one story (Chromium): the same requests read the same success rate on the
 * Overview, Stats and Clients tabs, a consumer's unknown model does not pull it down, the
 * client whose only bridge is down is not "healthy", and the header says Degraded, not Live.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { DASHBOARD_POLL, launchChromium } from './support/browser.js';
import { track } from './support/cleanup.js';
import { openDashboard } from './support/dashboard-page.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

const POLL = DASHBOARD_POLL;

describe('dashboard: health that agrees with itself', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('reads the same success rate on every tab and says Degraded with no agent ready', async () => {
    const relay = await startTestRelay({ retryAttempts: 0 });
    const { key } = await relay.createKey();
    const bridge = track(await startFakeBridge());
    const client = await relay.createClient('only bridge');
    await startTestAgent(relay.url, client.token, bridge.url);
    const chat = async (model = 'gpt-5') => {
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    for (let i = 0; i < 4; i++) expect(await chat()).toBe(200);
    expect(await chat('nobody-serves-this')).toBe(404);
    await bridge.close();
    expect(await chat()).toBe(503);
    // 4 ok, 1 failed, 1 consumer error: 80 % everywhere, never 4 / 6.
    await expect
      .poll(async () => (await relay.admin('GET', '/api/agents')).json.agents[0]?.ready, { timeout: 5_000 })
      .toBe(false);

    const { page, problems } = await openDashboard(browser, relay, { width: 1440, height: 900 });
    await expect
      .poll(() => page.locator('#live-text').textContent(), POLL)
      .toBe('Degraded · 0 of 1 agents ready');
    expect(await page.locator('#live-status').getAttribute('class')).toContain('degraded');
    await expect.poll(() => page.locator('#card-success .stat-value').textContent(), POLL).toBe('80.0 %');
    expect(await page.locator('#card-success .stat-note').textContent()).toBe('1 failed · 1 consumer errors');

    await page.getByRole('tab', { name: 'Stats' }).click();
    const hour = page.locator('#windows-table tr', { hasText: 'Last hour' });
    await expect.poll(() => hour.locator('td').nth(2).textContent(), POLL).toBe('80.0 %');
    const clientStats = page.locator('#client-stats-table tr', { hasText: 'only bridge' });
    await expect.poll(() => clientStats.locator('td').nth(2).textContent(), POLL).toBe('80.0 %');

    await page.getByRole('tab', { name: 'Clients' }).click();
    const row = page.locator(`#clients-table tr[data-client="${client.id}"]`);
    await expect.poll(() => row.locator('td').nth(3).textContent(), POLL).toBe('5 · 80.0 % ok');
    expect(await row.locator('td').nth(1).textContent()).toContain('unhealthy');
    expect(await row.locator('td').nth(2).textContent()).toBe('1 · 0 ready');
    expect(await row.locator('td').nth(4).textContent()).toMatch(/^\d s ago$/);
    expect(problems).toEqual([]);
  });
});
