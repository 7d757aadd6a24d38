import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { DASHBOARD_POLL, launchChromium } from './support/browser.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

const POLL = DASHBOARD_POLL;

describe('dashboard: why an agent is not ready', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows the reason code and the fix in the agent row, then Ready once the bridge is back', async () => {
    const relay = await startTestRelay({ retryAttempts: 0 });
    const { key } = await relay.createKey();
    const bridge = track(await startFakeBridge());
    const client = await relay.createClient("Bob's bridge");
    const agent = await startTestAgent(relay.url, client.token, bridge.url);

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    track({ close: () => context.close() });
    const page = await context.newPage();
    page.setDefaultTimeout(8_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`${relay.url}/dashboard`);
    await page.getByLabel('Admin token').fill(relay.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator(`#agents-table tr[data-agent="${agent.sessionId}"]`);
    await row.getByText('Ready', { exact: true }).waitFor();

    // LMArena shows its Cloudflare check: the next chat finds it, the agent says why.
    bridge.scenario = 'cloudflare';
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(503);
    await row.getByText('Not ready', { exact: true }).waitFor();
    await expect
      .poll(() => row.locator('[data-reason-code]').textContent(), POLL)
      .toBe('cloudflare_challenge');
    expect(await row.locator('[data-reason-fix]').textContent()).toBe(
      'Fix: open arena.ai in the browser and pass the check ("Verify you are human")',
    );

    // The tab passes the check: the row is Ready again, with no reason left over.
    bridge.reset();
    await row.getByText('Ready', { exact: true }).waitFor();
    await expect.poll(() => row.locator('[data-reason-code]').count(), POLL).toBe(0);
    expect(problems).toEqual([]);
  });
});
