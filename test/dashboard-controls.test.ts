/**
 * The dashboard's controls for what was API-only, each used once in headless Chromium against a
 * real relay and read back through the admin API: an API key's limits, allowed models and expiry
 * (at creation and edited), a client's pushed settings, update policy and limits (applied by its
 * live agent), and alert channels of every kind (a test alert to a local webhook receiver,
 * checked by its signature; a dead one; disable; delete; the delivery log).
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { DASHBOARD_POLL, launchChromium } from './support/browser.js';
import { track } from './support/cleanup.js';
import { openDashboard } from './support/dashboard-page.js';
import { startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const POLL = DASHBOARD_POLL;
const LAPTOP = { width: 1440, height: 900 };
const BAD_REQUEST =
  'console: Failed to load resource: the server responded with a status of 400 (Bad Request)';

/** An HTTP receiver on port 0 that records what it is sent and answers 200. */
async function receiver() {
  const received: Array<{ path: string; headers: IncomingMessage['headers']; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** An address where nothing listens (a port just released). */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/gone`;
}

describe('dashboard: controls in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('API keys: limits, allowed models and expiry, set at creation and edited', async () => {
    const relay = await startTestRelay();
    const { page, problems } = await openDashboard(browser, relay, LAPTOP);
    await page.getByRole('tab', { name: 'API keys' }).click();
    const form = page.locator('#key-form');
    await form.getByLabel('Key name').fill('limited consumer');
    await form.getByLabel('Allowed models').fill('gpt-5, claude-opus-4');
    await form.getByLabel('Requests per minute').fill('60');
    await form.getByLabel('Concurrent requests').fill('2');
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByRole('dialog', { name: 'API key "limited consumer"' });
    await secret.getByRole('button', { name: 'Done' }).click();

    const keyOf = async () => (await relay.admin('GET', '/api/keys')).json.keys[0];
    expect(await keyOf()).toMatchObject({
      name: 'limited consumer',
      allowed_models: ['gpt-5', 'claude-opus-4'],
      expires_at: null,
      limits: { requests_per_minute: 60, requests_per_day: null, max_concurrency: 2, tokens_per_day: null },
    });
    const row = page.locator('#keys-table tbody tr', { hasText: 'limited consumer' });
    await row.getByText('60/min · 2 streams').waitFor();
    await row.getByText('gpt-5, claude-opus-4').waitFor();

    // Edited: one limit cleared, two set, fewer models, an expiry in a day (local time in the form).
    await row.getByRole('button', { name: 'Edit the key limited consumer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit the key limited consumer' });
    expect(await dialog.getByLabel('Requests per minute').inputValue()).toBe('60');
    await dialog.getByLabel('Requests per minute').fill('');
    await dialog.getByLabel('Requests per day').fill('500');
    await dialog.getByLabel('Tokens per day').fill('10000');
    await dialog.getByLabel('Allowed models').fill('gpt-5');
    // The dialog offers the create form's scopes, the key's own checked.
    expect(await dialog.getByLabel('chat').isChecked()).toBe(true);
    await dialog.getByLabel('images').uncheck();
    await dialog.getByLabel('admin').check();
    const tomorrow = Date.now() + 86_400_000;
    const local = await page.evaluate((at) => {
      const d = new Date(at);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    }, tomorrow);
    await dialog.getByLabel('Expires').fill(local);
    // Refused before it is sent: a limit must be a whole number of at least 1.
    await dialog.getByLabel('Concurrent requests').fill('0');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => page.locator('#form-dialog-error').textContent(), POLL)
      .toContain('Concurrent requests');
    await dialog.getByLabel('Concurrent requests').fill('3');
    await page.screenshot({ path: join(ARTIFACTS, 'controls-key-edit.png') });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    const edited = await keyOf();
    // The scopes the form offers follow the relay's list: only what was changed is asserted.
    expect(edited.scopes).toEqual(expect.arrayContaining(['chat', 'models', 'admin']));
    expect(edited.scopes).not.toContain('images');
    expect(edited).toMatchObject({
      allowed_models: ['gpt-5'],
      limits: {
        requests_per_minute: null,
        requests_per_day: 500,
        max_concurrency: 3,
        tokens_per_day: 10_000,
      },
    });
    expect(Math.abs(Date.parse(edited.expires_at) - tomorrow)).toBeLessThan(60_000);
    await row.getByText('500/day · 3 streams · 10,000 tokens/day').waitFor();

    // The relay's own refusal shows in the dialog, which stays open.
    await row.getByRole('button', { name: 'Edit the key limited consumer' }).click();
    await dialog.getByLabel('Allowed models').fill('x'.repeat(201));
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect
      .poll(() => page.locator('#form-dialog-error').textContent(), POLL)
      .toContain('allowed_models');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await keyOf()).allowed_models).toEqual(['gpt-5']);
    expect(problems).toEqual([BAD_REQUEST]);
  });

  it('usage: metered usage exported as CSV for a period, grouped as chosen; revoked keys listed on request', async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    await startTestAgent(relay.url, (await relay.createClient('usage bridge')).token, bridge.url);
    const key = await relay.createKey('billed consumer');
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'bill me' }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    await expect.poll(async () => (await relay.admin('GET', '/api/usage')).json.groups.length, POLL).toBe(1);

    const { page, problems } = await openDashboard(browser, relay, LAPTOP);
    await page.getByRole('tab', { name: 'Usage' }).click();
    const form = page.locator('#usage-export');
    const today = new Date().toISOString().slice(0, 10);
    await form.getByLabel('From').fill(today);
    await form.getByLabel('To').fill(today);
    await form.getByLabel('model').check();
    const downloading = page.waitForEvent('download');
    await form.getByRole('button', { name: 'Download CSV' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('usage.csv');
    const path = await download.path();
    const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^key_id,key_name,model,requests,succeeded,/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^${key.id},billed consumer,gpt-5,1,1,`));
    // A period that ends before it starts is refused with the relay's reason.
    await form.getByLabel('From').fill('2026-02-01');
    await form.getByLabel('To').fill('2026-01-01');
    await form.getByRole('button', { name: 'Download CSV' }).click();
    await expect.poll(() => page.locator('#usage-export-error').textContent(), POLL).toContain('to:');

    // Revoked: gone from the list, back on request, with nothing left to change.
    await page.getByRole('tab', { name: 'API keys' }).click();
    const row = page.locator(`#keys-table tr[data-key="${key.id}"]`);
    await row.getByRole('button', { name: 'Revoke the key billed consumer' }).click();
    await page
      .getByRole('dialog', { name: 'Revoke billed consumer?' })
      .getByRole('button', { name: 'Revoke key' })
      .click();
    await row.waitFor({ state: 'detached' });
    await page.getByLabel('Show revoked keys').check();
    await row.getByText(`${key.id} · revoked`).waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    const listed = await relay.admin('GET', '/api/keys?include_revoked=true');
    expect(listed.json.keys[0]).toMatchObject({ id: key.id, revoked: true });
    // The usage tab leaves it out.
    await page.getByRole('tab', { name: 'Usage' }).click();
    await expect.poll(() => page.locator('#usage-key option').count(), POLL).toBe(0);
    expect(problems).toEqual([BAD_REQUEST]);
  });

  it("clients: pushed settings, update policy and limits, read back and applied by the client's live agent", async () => {
    const bridge = track(await startFakeBridge());
    const relay = await startTestRelay();
    const client = await relay.createClient('settings bridge');
    const agent = await startTestAgent(relay.url, client.token, bridge.url, {}, { explicit: new Set() });
    const session = () => relay.hub.sessions.get(agent.sessionId)!;
    expect(session().slots).toBe(4);
    const { page, problems } = await openDashboard(browser, relay, LAPTOP);
    await page.getByRole('tab', { name: 'Clients' }).click();
    const open = async () => {
      await page.getByRole('button', { name: 'Settings of settings bridge' }).click();
      const dialog = page.getByRole('dialog', { name: 'Settings of settings bridge' });
      await dialog.waitFor();
      return dialog;
    };

    let dialog = await open();
    await dialog.getByLabel('Streams per agent').fill('2');
    await dialog.getByLabel('Hide these models').fill('dall-e-3');
    await dialog.getByLabel('Agent log level').selectOption('debug');
    await dialog.getByLabel('Update policy').selectOption('pin');
    await dialog.getByLabel('Pinned version').fill('0.2.0');
    await dialog.getByLabel('Requests per minute').fill('30');
    await dialog.getByLabel('Owner e-mail').fill('owner@example.org');
    await page.screenshot({ path: join(ARTIFACTS, 'controls-client-settings.png') });
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const base = `/api/clients/${client.id}`;
    expect((await relay.admin('GET', `${base}/settings`)).json.settings).toEqual({
      max_concurrency: 2,
      models: { hide: ['dall-e-3'] },
      log_level: 'debug',
    });
    expect((await relay.admin('GET', `${base}/agent-update`)).json.policy).toEqual({
      mode: 'pin',
      version: '0.2.0',
    });
    expect((await relay.admin('GET', base)).json.client).toMatchObject({
      name: 'settings bridge',
      email: 'owner@example.org',
      rate_limit: { requests_per_minute: 30, requests_per_day: null, max_concurrency: null },
    });
    // The live agent applied them without a restart.
    await expect.poll(() => session().slots, POLL).toBe(2);
    expect(session().models.has('dall-e-3')).toBe(false);

    // Opened again, the dialog shows what is in force; emptied, everything goes back.
    dialog = await open();
    expect(await dialog.getByLabel('Streams per agent').inputValue()).toBe('2');
    expect(await dialog.getByLabel('Pinned version').inputValue()).toBe('0.2.0');
    expect(await dialog.getByLabel('Agent log level').inputValue()).toBe('debug');
    await dialog.getByLabel('Streams per agent').fill('');
    await dialog.getByLabel('Hide these models').fill('');
    await dialog.getByLabel('Agent log level').selectOption('');
    await dialog.getByLabel('Update policy').selectOption('auto');
    expect(await dialog.getByLabel('Pinned version').isHidden()).toBe(true);
    await dialog.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await relay.admin('GET', `${base}/settings`)).json.settings).toEqual({});
    expect((await relay.admin('GET', `${base}/agent-update`)).json.policy).toEqual({ mode: 'auto' });
    await expect.poll(() => session().slots, POLL).toBe(4);

    // Only what changed was written: the audit log has one entry per part saved.
    const actions = (await relay.admin('GET', '/api/audit?limit=20')).json.entries.map(
      (e: { action: string }) => e.action,
    );
    expect(actions.filter((a: string) => a !== 'client.register')).toHaveLength(5);

    // Deleted from the same dialog, after a confirmation: its agent is cut off.
    dialog = await open();
    await dialog.getByRole('button', { name: 'Delete this client…' }).click();
    await page
      .getByRole('dialog', { name: 'Delete settings bridge?' })
      .getByRole('button', { name: 'Delete client' })
      .click();
    await page.locator(`#clients-table tr[data-client="${client.id}"]`).waitFor({ state: 'detached' });
    expect((await relay.admin('GET', base)).status).toBe(404);
    await expect.poll(() => relay.hub.sessions.has(agent.sessionId), POLL).toBe(false);
    expect(problems).toEqual([]);
  });

  it('alert channels: each kind added, a test to a local webhook (signed), a dead one, disable, delete, deliveries', async () => {
    const hook = await receiver();
    const relay = await startTestRelay();
    const { page, problems } = await openDashboard(browser, relay, LAPTOP);
    await page.getByRole('tab', { name: 'Alerts' }).click();
    const form = page.locator('#channel-form');
    const add = async (kind: string, name: string, fields: Record<string, string>) => {
      await form.getByLabel('Kind').selectOption(kind);
      await form.getByLabel('Channel name').fill(name);
      for (const [label, value] of Object.entries(fields)) await form.getByLabel(label).fill(value);
      await form.getByRole('button', { name: 'Add channel' }).click();
      // Added (the form is emptied for the next) or refused (the form keeps what was typed).
      await expect
        .poll(
          async () =>
            (await form.getByLabel('Channel name').inputValue()) === '' ||
            (await page.locator('#channel-error').textContent()) !== '',
          POLL,
        )
        .toBe(true);
    };

    // A webhook: its signing secret is shown once.
    await add('webhook', 'ops hook', { URL: `${hook.url}/hooks/arena` });
    const secretDialog = page.getByRole('dialog', { name: 'Signing secret of ops hook' });
    await secretDialog.waitFor();
    const secret = await page.locator('#secret-value').inputValue();
    expect(secret).toMatch(/^arw_/);
    await secretDialog.getByRole('button', { name: 'Done' }).click();
    const hookRow = page.locator('#channels-table tbody tr', { hasText: 'ops hook' });
    await hookRow.waitFor();
    expect(await hookRow.textContent()).not.toContain(secret);

    await hookRow.getByRole('button', { name: 'Send a test alert to ops hook' }).click();
    await expect
      .poll(() => page.locator('#alert-test-result').textContent(), POLL)
      .toBe('Test to ops hook: delivered (HTTP 200).');
    expect(hook.received).toHaveLength(1);
    const [got] = hook.received;
    expect(got?.path).toBe('/hooks/arena');
    const signed = createHmac('sha256', secret).update(`${got?.headers['x-arena-timestamp']}.${got?.body}`);
    expect(got?.headers['x-arena-signature']).toBe(`sha256=${signed.digest('hex')}`);
    const deliveries = page.locator('#deliveries-table tbody tr');
    await expect
      .poll(() => deliveries.first().textContent(), POLL)
      .toMatch(/ops hook \(webhook\).*delivered1HTTP 200/);

    // A receiver that is gone: the test says it failed, and the log shows it.
    await add('webhook', 'dead hook', { URL: await deadUrl() });
    await page
      .getByRole('dialog', { name: 'Signing secret of dead hook' })
      .getByRole('button', { name: 'Done' })
      .click();
    await page.getByRole('button', { name: 'Send a test alert to dead hook' }).click();
    await expect
      .poll(() => page.locator('#alert-test-result').textContent(), POLL)
      .toMatch(/^Test to dead hook: failed — /);
    await expect.poll(() => deliveries.first().textContent(), POLL).toMatch(/dead hook \(webhook\).*failed/);

    // Every other kind, each with its own fields; a bad value is refused with the relay's reason.
    await add('telegram', 'bad bot', { 'Bot token': 'not-a-token', 'Chat id': '-100123' });
    await expect.poll(() => page.locator('#channel-error').textContent(), POLL).toContain('bot_token');
    await add('slack', 'slack ops', { URL: 'https://hooks.slack.com/services/T000/B000/secretpart' });
    await add('discord', 'discord ops', { URL: 'https://discord.com/api/webhooks/1/secretpart' });
    await add('telegram', 'telegram ops', {
      'Bot token': '123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      'Chat id': '-100123',
    });
    await add('email', 'mail ops', { Recipients: 'ops@example.org, oncall@example.org' });
    await page.locator('#channels-table tbody tr', { hasText: 'mail ops' }).waitFor();
    const listed = (await relay.admin('GET', '/api/alerts/channels')).json.channels as Array<{
      name: string;
      kind: string;
    }>;
    expect(listed.map((c) => `${c.kind}:${c.name}`)).toEqual([
      'webhook:ops hook',
      'webhook:dead hook',
      'slack:slack ops',
      'discord:discord ops',
      'telegram:telegram ops',
      'email:mail ops',
    ]);
    const table = (await page.locator('#channels-table').textContent()) ?? '';
    // Secrets in URLs and tokens never reach the page.
    expect(table).not.toContain('secretpart');
    expect(table).not.toContain('ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    expect(table).toContain('ops@example.org, oncall@example.org');

    // Disable, enable, delete.
    await hookRow.getByRole('button', { name: 'Disable the channel ops hook' }).click();
    await hookRow.getByText('Disabled', { exact: true }).waitFor();
    const enabled = async (name: string) =>
      (
        (await relay.admin('GET', '/api/alerts/channels')).json.channels as Array<{
          name: string;
          enabled: boolean;
        }>
      ).find((c) => c.name === name)?.enabled;
    expect(await enabled('ops hook')).toBe(false);
    await hookRow.getByRole('button', { name: 'Enable the channel ops hook' }).click();
    await hookRow.getByText('Enabled', { exact: true }).waitFor();
    expect(await enabled('ops hook')).toBe(true);
    await page.getByRole('button', { name: 'Delete the channel dead hook' }).click();
    await page
      .getByRole('dialog', { name: 'Delete the channel dead hook?' })
      .getByRole('button', { name: 'Delete channel' })
      .click();
    await page.locator('#channels-table tbody tr', { hasText: 'dead hook' }).waitFor({ state: 'detached' });
    expect(await enabled('dead hook')).toBeUndefined();
    await page.screenshot({ path: join(ARTIFACTS, 'controls-alerts.png'), fullPage: true });
    expect(problems).toEqual([
      'console: Failed to load resource: the server responded with a status of 502 (Bad Gateway)',
      BAD_REQUEST,
    ]);
  });
});
