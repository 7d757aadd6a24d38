/**
 * The Requests tab in Chromium: a request that failed over (one agent's bridge fails, another
 * serves) and one that failed on every agent show their attempts with agent, code and the
 * owner's fix; the x-request-id search finds exactly one; a client's row links to its requests;
 * the layout holds at 1440 px and at 420 px. Real relay, real agents, fake bridges.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_POLL, launchChromium } from './support/browser.js';
import { openDashboard, overflowOf, widthsOf } from './support/dashboard-page.js';
import { type Pool, startPool } from './support/pool.js';

const POLL = DASHBOARD_POLL;

type Attempt = { agent_id: string; code: string | null; reason: string | null; fix: string | null };
type Entry = { id: string; status: number; outcome: string; attempts: Attempt[] };

/** Sends chats until one failed over from the failing agent to the serving one; its log entry. */
async function failedOver(pool: Pool): Promise<Entry> {
  // Round robin: within two requests one starts on the failing agent.
  for (let i = 0; i < 2; i++) {
    const res = await pool.chat({ stream: true });
    expect(res.status).toBe(200);
    await res.text();
    const { json } = await pool.relay.admin('GET', `/api/requests/${res.headers.get('x-request-id')}`);
    if (json.attempts.length === 2) return json;
  }
  throw new Error('no request started on the failing agent');
}

/** Both bridges fail for a model neither was benched for: every agent is tried. */
async function failedEverywhere(pool: Pool): Promise<Entry> {
  for (const m of pool.members) m.bridge.scenario = 'cloudflare';
  const res = await pool.chat({ model: 'claude-opus-4' });
  await res.text();
  expect(res.status).toBe(503);
  const { json } = await pool.relay.admin('GET', `/api/requests/${res.headers.get('x-request-id')}`);
  return json;
}

/** The rows of the attempts table: [number, agent cell, result cell]. */
async function attemptRows(page: Page): Promise<string[][]> {
  const rows = page.locator('#attempts-table tbody tr');
  const out: string[][] = [];
  for (const row of await rows.all()) {
    const cells = await row.locator('td').allTextContents();
    out.push([cells[0] ?? '', cells[1] ?? '', cells[3] ?? '']);
  }
  return out;
}

/** Opens a request's detail from its row. */
async function open(page: Page, id: string): Promise<void> {
  await page.getByRole('button', { name: `Details of request ${id}` }).click();
  await page.locator('#request-detail-title', { hasText: id }).waitFor();
}

/** The page is no wider than the screen, and the row and detail buttons are in sight. */
async function expectFits(page: Page, label: string): Promise<void> {
  const { page: width, viewport, past } = await widthsOf(page);
  expect(width, `${label}: page ${width} px in ${viewport} px: ${past.join(', ')}`).toBeLessThanOrEqual(
    viewport,
  );
  const buttons = page.locator('#requests-table td.actions .button');
  expect(await buttons.count()).toBeGreaterThan(0);
  for (const button of [...(await buttons.all()), page.locator('#request-close')]) {
    const { right, covered } = await overflowOf(page, button);
    expect(right, `${label}: a button past the edge`).toBeLessThanOrEqual(0);
    expect(covered, `${label}: a button covered`).toBe(false);
  }
}

/** A relay with two agents, and three requests: one failed over, one served, one failed everywhere. */
async function threeRequests() {
  const pool = await startPool(2, {
    relay: { loadBalancing: 'round_robin', retryAttempts: 3 },
    // A model only the second bridge offers: a request the first client never saw.
    bridge: (i) => (i === 1 ? { models: ['gpt-5', 'claude-opus-4', 'only-here'] } : {}),
  });
  const [failing, serving] = pool.members as [Pool['members'][0], Pool['members'][0]];
  // An error the bridge names: the agent fails this request and keeps serving others.
  failing.bridge.scenario = 'error';
  const over = await failedOver(pool);
  const plain = await pool.chat({ model: 'only-here' });
  expect(plain.status).toBe(200);
  await plain.text();
  const everywhere = await failedEverywhere(pool);
  expect(new Set(everywhere.attempts.map((a) => a.agent_id))).toEqual(
    new Set(pool.members.map((m) => m.agent.sessionId)),
  );
  expect(everywhere.attempts.every((a) => a.fix !== null)).toBe(true);
  const count = async (query = '') =>
    (await pool.relay.admin('GET', `/api/requests${query}`)).json.requests.length as number;
  return { pool, failing, serving, over, everywhere, count };
}

/** A relay, two agents and Chromium on a shared 2-core box: more than the default 20 s. */
const SLOW = 45_000;

describe('dashboard: the Requests tab', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it(
    "at 1440 px: shows why requests failed, attempt by attempt, finds one by its id, and a client's link leads here",
    async () => {
      const { pool, failing, serving, over, everywhere, count } = await threeRequests();
      const total = await count();
      const { page, problems } = await openDashboard(browser, pool.relay, { width: 1440, height: 900 });
      await page.getByRole('tab', { name: 'Requests' }).click();
      const rows = page.locator('#requests-table tbody tr');
      await expect.poll(() => rows.count(), POLL).toBe(total);

      // The request that failed over: the failing agent's code, then the serving agent.
      const overRow = page.locator(`#requests-table tr[data-request="${over.id}"]`);
      expect(await overRow.locator('td').nth(5).textContent()).toBe('ok');
      expect(await overRow.locator('td').nth(6).textContent()).toBe('2');
      await open(page, over.id);
      expect(await page.locator('#request-verdict').textContent()).toBe(
        'Served after 2 attempts: the last one answered.',
      );
      const [first, second] = await attemptRows(page);
      expect(first?.[0]).toBe('1');
      expect(first?.[1]).toContain(failing.agent.sessionId);
      expect(first?.[1]).toContain('bridge-0');
      expect(first?.[2]).toContain(over.attempts[0]?.code ?? 'a code');
      expect(first?.[2]).toContain('the bridge answered with an error');
      expect(second?.[1]).toContain(serving.agent.sessionId);
      expect(second?.[2]).toContain('served');

      // The request no agent could serve: every attempt's code, reason and the owner's fix.
      await open(page, everywhere.id);
      expect(await page.locator('#request-verdict').textContent()).toMatch(
        /^Ended in failure with upstream_unavailable after \d attempts: the bridge could not serve/,
      );
      const attempts = page.locator('#attempts-table tbody tr');
      expect(await attempts.count()).toBe(everywhere.attempts.length);
      for (const [i, attempt] of everywhere.attempts.entries()) {
        const row = attempts.nth(i);
        expect(await row.locator('td').nth(1).textContent()).toContain(attempt.agent_id);
        expect(await row.locator('.badge').textContent()).toBe(attempt.code);
        expect(await row.locator('[data-reason-code]').textContent()).toBe('cloudflare_challenge');
        expect(await row.locator('[data-reason-fix]').textContent()).toBe(
          'Fix: open arena.ai in the browser and pass the check ("Verify you are human")',
        );
      }
      await page.screenshot({ path: 'test-artifacts/requests-1440.png', fullPage: true });
      await expectFits(page, '1440 px');

      // The x-request-id search finds that one request, and opens it.
      await page.getByLabel('Request id').fill(over.id);
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await expect.poll(() => rows.count(), POLL).toBe(1);
      expect(await rows.first().getAttribute('data-request')).toBe(over.id);
      await page.locator('#request-detail-title', { hasText: over.id }).waitFor();
      // Filters the relay refuses are said, not shown as an empty list.
      await page.getByLabel('Request id').fill('');
      await page.getByLabel('Status').fill('abc');
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      await expect.poll(() => page.locator('#requests-error').textContent(), POLL).toContain('status');
      await page.getByRole('button', { name: 'Clear' }).click();
      await expect.poll(() => rows.count(), POLL).toBe(total);

      // A client's request count leads here, filtered for that client.
      await page.getByRole('tab', { name: 'Clients' }).click();
      await page.getByTitle('Requests of bridge-0').click();
      await page.getByRole('tab', { name: 'Requests', selected: true }).waitFor();
      expect(await page.getByLabel('Client', { exact: true }).inputValue()).toBe(failing.clientId);
      const ofClient = await count(`?client=${failing.clientId}`);
      expect(ofClient).toBeGreaterThanOrEqual(2);
      expect(ofClient).toBeLessThan(total);
      await expect.poll(() => rows.count(), POLL).toBe(ofClient);
      // The one refusal provoked above, and nothing else.
      expect(problems).toEqual([
        'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ]);
    },
    SLOW,
  );

  it(
    'at 420 px: the list and a failed request fit a phone',
    async () => {
      const { pool, everywhere, count } = await threeRequests();
      const total = await count();
      const { page, problems } = await openDashboard(browser, pool.relay, { width: 420, height: 860 });
      const rows = page.locator('#requests-table tbody tr');
      await page.getByRole('tab', { name: 'Requests' }).click();
      await expect.poll(() => rows.count(), POLL).toBe(total);

      // The page no wider than the screen, the buttons in sight.
      await open(page, everywhere.id);
      await page.screenshot({ path: 'test-artifacts/requests-420.png', fullPage: true });
      await expectFits(page, '420 px');
      expect(problems).toEqual([]);
    },
    SLOW,
  );
});
