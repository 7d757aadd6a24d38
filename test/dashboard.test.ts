/**
 * The dashboard in headless Chromium (Debian's `chromium` driven by playwright-core): sign in,
 * register a client, download its package, create a key, watch the packaged agent appear live,
 * see traffic in the figures and the usage chart, drain the agent — with screenshots saved under
 * test-artifacts/ (not committed); against two relays sharing Redis, both agents (each with its
 * relay) and both relays show. Plus the page's headers, checked without a browser.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { parse } from 'jsonc-parser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { DASHBOARD_POLL, launchChromium } from './support/browser.js';
import { track } from './support/cleanup.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const POLL = DASHBOARD_POLL;

describe('dashboard: served page', () => {
  it('is served under a strict CSP, with its assets, and needs no token to load', async () => {
    const relay = await startTestRelay();
    const page = await fetch(`${relay.url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const html = await page.text();
    // No inline code or styles, nothing loaded from elsewhere.
    expect(html).not.toMatch(/<script>|<style>|style="|(src|href)="(https?:)?\/\//);
    for (const [path, type] of [
      ['/dashboard/app.js', 'text/javascript; charset=utf-8'],
      ['/dashboard/app.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await fetch(relay.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(type);
      expect(await res.text()).not.toMatch(/(import|url)\(?\s*['"]?(https?:)?\/\//);
    }
    const slash = await fetch(`${relay.url}/dashboard/`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
  });
});

// Each test starts relays, agents and a browser page: on a loaded 2-core box the first one took 17–19 s of a 20 s default.
describe('dashboard: in Chromium', { timeout: 45_000 }, () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** A page at 1440×900 (a laptop) that records script errors and CSP violations. */
  async function openPage(): Promise<{ page: Page; problems: string[] }> {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 900 },
      acceptDownloads: true,
    });
    track({ close: () => context.close() });
    const page = await context.newPage();
    page.setDefaultTimeout(8_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A refused sign-in is an expected 401 in the network log.
      if (message.type() === 'error' && !/status of 401/.test(message.text())) {
        problems.push(`console: ${message.text()}`);
      }
    });
    return { page, problems };
  }

  it('signs in, registers a client, downloads its package, creates a key, shows the agent live and drains it', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const { page, problems } = await openPage();

    // Sign in: a wrong token is refused with a message, the right one opens the overview.
    await page.goto(`${relay.url}/dashboard`);
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent(), POLL).toContain('did not accept');
    await page.getByLabel('Admin token').fill(relay.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    await page.getByText('No agent is connected yet').waitFor();

    // The tabs follow the keyboard.
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    await page.getByRole('tab', { name: 'Clients', selected: true }).waitFor();
    expect(await page.evaluate('document.activeElement?.id')).toBe('tab-clients');

    // Register a client: its token is shown once.
    await page.getByLabel('Client name').fill("Alice's bridge");
    await page.getByLabel('LMArenaBridge URL').fill(bridge.url);
    await page.getByRole('button', { name: 'Register' }).click();
    const secret = page.getByRole('dialog', { name: "Alice's bridge is registered" });
    await secret.waitFor();
    const firstToken = await page.locator('#secret-value').inputValue();
    expect(firstToken).toMatch(/^art_/);
    await secret.getByRole('button', { name: 'Done' }).click();
    const clientRow = page.locator('#clients-table tbody tr', { hasText: "Alice's bridge" });
    await clientRow.waitFor();
    const clientId = await clientRow.getAttribute('data-client');

    // Download its package: the page says first that the token will be replaced.
    await clientRow.getByRole('button', { name: "Download the package of Alice's bridge" }).click();
    const confirm = page.getByRole('dialog', { name: "Download the package of Alice's bridge?" });
    await confirm.waitFor();
    expect(await confirm.textContent()).toMatch(/fresh client token.*retires the current token/s);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-download-confirm.png') });
    const downloading = page.waitForEvent('download');
    await confirm.getByRole('button', { name: 'Download and replace the token' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe(`arena-agent-${clientId}.zip`);
    const zipPath = join(mkdtempSync(join(tmpdir(), 'arena-dashboard-')), 'package.zip');
    await download.saveAs(zipPath);
    const files = unzipSync(readFileSync(zipPath));
    const config = parse(new TextDecoder().decode(files[`arena-agent-${clientId}/config.jsonc`])) as {
      platform_integration: { client_id: string; api_key: string };
      upstream_url: string;
    };
    expect(config.platform_integration.client_id).toBe(clientId);
    expect(config.upstream_url).toBe(bridge.url);
    const token = config.platform_integration.api_key;
    expect(token).not.toBe(firstToken);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-clients.png') });

    // Create a key: shown once, then listed.
    await page.getByRole('tab', { name: 'API keys' }).click();
    await page.getByLabel('Key name').fill('dashboard consumer');
    await page.getByRole('button', { name: 'Create key' }).click();
    const keyDialog = page.getByRole('dialog', { name: 'API key "dashboard consumer"' });
    await keyDialog.waitFor();
    const key = await page.locator('#secret-value').inputValue();
    expect(key).toMatch(/^sk-ar-/);
    await keyDialog.getByRole('button', { name: 'Done' }).click();
    await page.locator('#keys-table tbody tr', { hasText: 'dashboard consumer' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-keys.png') });

    // Start the packaged agent: it appears on the overview by itself (polling), ready.
    await page.getByRole('tab', { name: 'Overview' }).click();
    const agent = await startTestAgent(relay.url, token, config.upstream_url);
    const agentRow = page.locator(`#agents-table tr[data-agent="${agent.sessionId}"]`);
    await agentRow.getByText('Ready', { exact: true }).waitFor();
    expect(await agentRow.textContent()).toContain("Alice's bridge");

    // Traffic shows in the figures and in the key's usage chart.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    await expect.poll(() => page.locator('#card-requests .stat-value').textContent(), POLL).toBe('3');
    await expect
      .poll(() => page.locator('#overview-chart svg').getAttribute('aria-label'), POLL)
      .toContain('3 in total');
    await page.getByRole('tab', { name: 'Usage' }).click();
    await expect
      .poll(() => page.locator('#usage-chart svg').getAttribute('aria-label'), POLL)
      .toMatch(/key dashboard consumer: 3 in total/);
    await expect
      .poll(
        () => page.locator('#usage-table tbody tr', { hasText: 'dashboard consumer' }).textContent(),
        POLL,
      )
      .toMatch(/dashboard consumer33100 %/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-usage.png') });

    // Health check, then drain the agent from its row.
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.getByRole('button', { name: 'Health check' }).click();
    await page.getByText('Health check · 1 of 1 healthy').waitFor();
    await agentRow.getByRole('button', { name: /^Drain agent/ }).click();
    const drainDialog = page.getByRole('dialog', { name: "Drain Alice's bridge?" });
    await drainDialog.getByRole('button', { name: 'Drain' }).click();
    await agentRow.getByText('Draining', { exact: true }).waitFor();
    expect((await relay.admin('GET', '/api/agents')).json.agents[0].draining).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-overview.png'), fullPage: true });

    await page.getByRole('tab', { name: 'Stats' }).click();
    await page.getByRole('rowheader', { name: 'Last hour' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-stats.png') });

    // The audit tab lists what this session did, newest first, and filters by action.
    await page.getByRole('tab', { name: 'Audit' }).click();
    const auditRows = page.locator('#audit-table tbody tr');
    await expect
      .poll(async () => (await auditRows.locator('td:nth-child(2)').allTextContents()).join(' '), POLL)
      .toBe('agent.drain agent.health_check key.create client.download client.register');
    expect(await auditRows.first().textContent()).toContain(agent.sessionId);
    await page.locator('#audit-action').fill('client.download');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => auditRows.count(), POLL).toBe(1);
    expect(await auditRows.first().textContent()).toContain(clientId ?? 'missing');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-audit.png') });

    // Signing out forgets the token (sessionStorage) and shows the sign-in form again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(problems).toEqual([]);
  });

  it("registers a client with its owner's alert webhook and edits it: a non-public URL is refused in words, each new secret is shown once, it clears", async () => {
    const relay = await startTestRelay();
    const { page, problems } = await openPage();
    await page.goto(`${relay.url}/dashboard#clients`);
    await page.getByLabel('Admin token').fill(relay.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Clients', selected: true }).waitFor();

    await page.getByLabel('Client name').fill('hooked');
    await page.getByLabel('Owner alert webhook').fill('https://169.254.169.254/latest/meta-data/');
    await page.getByRole('button', { name: 'Register' }).click();
    await expect
      .poll(() => page.locator('#client-error').textContent(), POLL)
      .toContain('webhook_url: 169.254.169.254 is not a public address');
    expect((await relay.admin('GET', '/api/clients')).json.clients).toEqual([]);

    await page.getByLabel('Owner alert webhook').fill('https://hooks.example.org/arena');
    await page.getByRole('button', { name: 'Register' }).click();
    const token = page.getByRole('dialog', { name: 'hooked is registered' });
    await token.waitFor();
    await token.getByRole('button', { name: 'Done' }).click();
    const hook = page.getByRole('dialog', { name: 'Alert webhook secret of hooked' });
    await hook.waitFor();
    expect(await page.locator('#secret-value').inputValue()).toMatch(/^arw_/);
    await hook.getByRole('button', { name: 'Done' }).click();
    const [client] = (await relay.admin('GET', '/api/clients')).json.clients;
    expect(client.webhook_url).toBe('https://hooks.example.org/arena');
    const stored = async () => ({
      url: (await relay.admin('GET', `/api/clients/${client.id}`)).json.client.webhook_url,
      secret: await relay.store.getClientWebhookSecret(client.id),
    });
    const first = await stored();

    // Its settings show the URL; a non-public one is refused in the dialog, in words, and nothing changes.
    const settings = page.getByRole('dialog', { name: 'Settings of hooked' });
    const open = async () => {
      await page.getByRole('button', { name: 'Settings of hooked' }).click();
      await settings.waitFor();
      return settings.getByLabel('Owner alert webhook');
    };
    const save = () => settings.getByRole('button', { name: 'Save' }).click();
    const secretDialog = page.getByRole('dialog', { name: 'Alert webhook secret of hooked' });
    /** The secret shown once: read, closed, and gone from the page. */
    const shownSecret = async () => {
      await secretDialog.waitFor();
      const value = await page.locator('#secret-value').inputValue();
      await secretDialog.getByRole('button', { name: 'Done' }).click();
      await secretDialog.waitFor({ state: 'hidden' });
      expect(await page.locator('#secret-value').inputValue()).toBe('');
      return value;
    };
    let url = await open();
    expect(await url.inputValue()).toBe('https://hooks.example.org/arena');
    await url.fill('https://10.0.0.7/hook');
    await save();
    await expect
      .poll(() => page.locator('#form-dialog-error').textContent(), POLL)
      .toContain('webhook_url: 10.0.0.7 is not a public address');
    expect(await settings.isVisible()).toBe(true);
    expect(await stored()).toEqual(first);

    // Changed: a new secret, shown once, and it is the one alerts are signed with.
    await url.fill('https://hooks.example.org/v2');
    await save();
    const second = await shownSecret();
    expect(second).toMatch(/^arw_/);
    expect(second).not.toBe(first.secret);
    expect(await stored()).toEqual({ url: 'https://hooks.example.org/v2', secret: second });

    // Saved unchanged: no write, no secret; asked for, the same URL gets a new one.
    url = await open();
    expect(await url.inputValue()).toBe('https://hooks.example.org/v2');
    await save();
    await settings.waitFor({ state: 'hidden' });
    expect(await secretDialog.isVisible()).toBe(false);
    expect(await stored()).toEqual({ url: 'https://hooks.example.org/v2', secret: second });
    await open();
    await settings.getByLabel('Issue a new signing secret').check();
    await save();
    const third = await shownSecret();
    expect(third).not.toBe(second);
    expect(await stored()).toEqual({ url: 'https://hooks.example.org/v2', secret: third });

    // A save whose other write is refused: the webhook did change, so its secret is still shown.
    url = await open();
    await url.fill('https://hooks.example.org/v3');
    await settings.getByLabel('Streams per agent').fill('5000');
    await save();
    await expect.poll(() => page.locator('#form-dialog-error').textContent(), POLL).toContain('1024');
    await settings.getByRole('button', { name: 'Cancel' }).click();
    const fourth = await shownSecret();
    expect(await stored()).toEqual({ url: 'https://hooks.example.org/v3', secret: fourth });
    expect((await relay.admin('GET', `/api/clients/${client.id}/settings`)).json.settings).toEqual({});

    // Cleared: removed with its secret, and nothing is shown.
    url = await open();
    await url.fill('');
    await save();
    await settings.waitFor({ state: 'hidden' });
    expect(await secretDialog.isVisible()).toBe(false);
    await expect.poll(stored, POLL).toEqual({ url: null, secret: undefined });
    url = await open();
    expect(await url.inputValue()).toBe('');
    await settings.getByRole('button', { name: 'Cancel' }).click();
    // The three refusals (at registration, in the settings twice) are all the console saw.
    expect(problems).toEqual(
      Array(3).fill(
        'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
      ),
    );
  });

  it('against two relays sharing Redis: shows both agents with their relay, both relays, shared aliases', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [(typeof relays)[0], (typeof relays)[0]];
    const bridge = track(await startFakeBridge());
    const onA = await startTestAgent(a.url, (await a.createClient('bridge on A')).token, bridge.url);
    const onB = await startTestAgent(b.url, (await a.createClient('bridge on B')).token, bridge.url);
    await expect.poll(() => a.cluster!.remoteAgents().length, POLL).toBe(1);
    const { page, problems } = await openPage();

    await page.goto(`${a.url}/dashboard`);
    await page.getByLabel('Admin token').fill(a.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('tab', { name: 'Overview', selected: true }).waitFor();
    for (const [agent, relay, name] of [
      [onA, a, 'bridge on A'],
      [onB, b, 'bridge on B'],
    ] as const) {
      const row = page.locator(`#agents-table tr[data-agent="${agent.sessionId}"]`);
      await row.getByText('Ready', { exact: true }).waitFor();
      expect(await row.textContent()).toContain(name);
      // The relay column names the relay holding the socket; the page's own relay is marked.
      const relayCell = row.locator('td').nth(1);
      expect(await relayCell.textContent()).toBe(relay === a ? `${a.relayId} (this relay)` : b.relayId);
    }
    await expect.poll(() => page.locator('#agents-table tbody tr').count(), POLL).toBe(2);
    await expect.poll(() => page.locator('#card-agents .stat-value').textContent(), POLL).toBe('2 / 2');
    expect(await page.locator('#agents-unreachable').isHidden()).toBe(true);

    // Draining the agent on relay B from relay A's page.
    const rowB = page.locator(`#agents-table tr[data-agent="${onB.sessionId}"]`);
    await rowB.getByRole('button', { name: /^Drain agent/ }).click();
    await page
      .getByRole('dialog', { name: 'Drain bridge on B?' })
      .getByRole('button', { name: 'Drain' })
      .click();
    await rowB.getByText('Draining', { exact: true }).waitFor();
    expect(b.hub.sessions.get(onB.sessionId)?.draining).toBe(true);

    await page.getByRole('tab', { name: 'Relays' }).click();
    for (const relay of [a, b]) {
      const row = page.locator(`#relays-table tr[data-relay="${relay.relayId}"]`);
      await row.getByText('Serving', { exact: true }).waitFor();
      const cells = await row.locator('td').allTextContents();
      expect(cells[0]).toBe(relay === a ? `${a.relayId} (this relay)` : b.relayId);
      expect(cells[2]).toBe('0.1.0');
      expect(cells[4]).toBe('1');
      expect(cells[6]).toMatch(/^single · .+ · \d+\/\d+ ready$/);
    }
    expect(await page.locator('#relays-note').textContent()).toBe('2 of 2 answering');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-relays.png') });

    // Aliases: defined on A's page, in force on B too (one store); a bad one says why.
    await page.getByRole('tab', { name: 'Aliases' }).click();
    await page.getByLabel('Alias', { exact: true }).fill('fast');
    await page.getByLabel('Models, in order (comma-separated)').fill('gpt-5, claude-opus-4');
    await page.getByRole('button', { name: 'Save alias' }).click();
    const aliasRow = page.locator('#aliases-table tr[data-alias="fast"]');
    await aliasRow.waitFor();
    expect(await aliasRow.locator('td').nth(1).textContent()).toBe('gpt-5 → claude-opus-4');
    expect((await b.admin('GET', '/api/aliases')).json.aliases).toEqual({ fast: ['gpt-5', 'claude-opus-4'] });
    await page.getByLabel('Alias', { exact: true }).fill('both');
    await page.getByLabel('Models, in order (comma-separated)').fill('fast');
    await page.getByRole('button', { name: 'Save alias' }).click();
    await expect.poll(() => page.locator('#alias-error').textContent(), POLL).toContain('alias itself');
    await aliasRow.getByRole('button', { name: 'Delete the alias fast' }).click();
    await aliasRow.waitFor({ state: 'detached' });
    expect((await a.admin('GET', '/api/aliases')).json.aliases).toEqual({});
    // The one deliberate refusal (the alias of an alias) is the only thing the console saw.
    expect(problems).toEqual([
      'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
  });
});
