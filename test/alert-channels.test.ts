/**
 * Alert channels with real receivers: a webhook server that checks the HMAC signature, Slack- and
 * Discord-shaped receivers, a fake Telegram Bot API, and a real SMTP server (smtp-server); the
 * admin API refuses bad channels and never shows a channel's secret again; failures are retried
 * and logged; a receiver that never answers does not hold the relay.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { track } from './support/cleanup.js';
import { httpReceiver, smtpReceiver, subjectOf } from './support/receivers.js';
import { startTestRelay } from './support/relay.js';

describe('alert channels', () => {
  it('a generic webhook gets the alert as JSON, signed with the secret shown once at creation', async () => {
    const hook = await httpReceiver();
    const relay = await startTestRelay();
    const created = await relay.admin('POST', '/api/alerts/channels', {
      kind: 'webhook',
      name: 'ops webhook',
      url: `${hook.url}/hooks/arena`,
    });
    expect(created.status).toBe(201);
    const secret = created.json.secret as string;
    expect(secret).toMatch(/^arw_/);
    const id = created.json.channel.id as string;

    // The list shows a preview, never the secret.
    const listed = await relay.admin('GET', '/api/alerts/channels');
    expect(JSON.stringify(listed.json)).not.toContain(secret);
    expect(listed.json.channels[0]).toMatchObject({ id, kind: 'webhook', enabled: true });

    const test = await relay.admin('POST', `/api/alerts/channels/${id}/test`);
    expect(test.status).toBe(200);
    expect(test.json.delivery).toMatchObject({ state: 'delivered', status: 200, attempts: 1 });
    const [got] = hook.received;
    expect(got?.path).toBe('/hooks/arena');
    const timestamp = String(got?.headers['x-arena-timestamp']);
    const expected = createHmac('sha256', secret).update(`${timestamp}.${got?.body}`).digest('hex');
    expect(got?.headers['x-arena-signature']).toBe(`sha256=${expected}`);
    expect(got?.headers['x-arena-event']).toBe('test');
    expect(JSON.parse(got?.body ?? '')).toMatchObject({
      kind: 'test',
      rule: 'test',
      labels: { relay: relay.relayId },
    });
    // A body changed on the way no longer matches the signature.
    const forged = createHmac('sha256', secret).update(`${timestamp}.${got?.body} `).digest('hex');
    expect(forged).not.toBe(expected);

    const log = await relay.admin('GET', '/api/alerts/deliveries');
    expect(log.json.deliveries[0]).toMatchObject({ channel_id: id, state: 'delivered', alert_kind: 'test' });
  });

  it('Slack, Discord and Telegram get their own shapes; their credentials never come back', async () => {
    const chat = await httpReceiver();
    const telegram = await httpReceiver((_, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true,"result":{}}');
    });
    const relay = await startTestRelay({ telegramApiUrl: telegram.url });
    const token = '123456789:AAH-secret_bot_token_value_abcdefgh';
    const made = await Promise.all([
      relay.admin('POST', '/api/alerts/channels', {
        kind: 'slack',
        name: 's',
        url: `${chat.url}/services/T0/B0/slacksecret`,
      }),
      relay.admin('POST', '/api/alerts/channels', {
        kind: 'discord',
        name: 'd',
        url: `${chat.url}/api/webhooks/1/discordsecret`,
      }),
      relay.admin('POST', '/api/alerts/channels', {
        kind: 'telegram',
        name: 't',
        bot_token: token,
        chat_id: -100123,
      }),
    ]);
    for (const m of made) expect(m.status).toBe(201);
    const listed = JSON.stringify((await relay.admin('GET', '/api/alerts/channels')).json);
    for (const secret of ['slacksecret', 'discordsecret', token]) expect(listed).not.toContain(secret);
    const audit = JSON.stringify((await relay.admin('GET', '/api/audit?action=alert_channel.create')).json);
    for (const secret of ['slacksecret', 'discordsecret', token]) expect(audit).not.toContain(secret);

    for (const m of made) {
      const test = await relay.admin('POST', `/api/alerts/channels/${m.json.channel.id}/test`);
      expect(test.json.delivery.state).toBe('delivered');
    }
    const [slack, discord] = chat.received;
    expect(slack?.path).toBe('/services/T0/B0/slacksecret');
    expect(Object.keys(JSON.parse(slack?.body ?? '{}'))).toEqual(['text']);
    expect(JSON.parse(slack?.body ?? '{}').text).toContain('Test alert from Arena Relay');
    expect(JSON.parse(discord?.body ?? '{}')).toMatchObject({ allowed_mentions: { parse: [] } });
    expect(JSON.parse(discord?.body ?? '{}').content).toContain('Test alert');
    const [sent] = telegram.received;
    expect(sent?.path).toBe(`/bot${token}/sendMessage`);
    expect(JSON.parse(sent?.body ?? '{}')).toMatchObject({ chat_id: '-100123' });
  });

  it('email goes through a real SMTP server with the configured credentials', async () => {
    const { mails, smtpUrl } = await smtpReceiver();
    const relay = await startTestRelay({
      smtpUrl,
      smtpFrom: 'Relay Alerts <alerts@relay.example>',
    });
    const made = await relay.admin('POST', '/api/alerts/channels', {
      kind: 'email',
      name: 'on-call',
      to: ['oncall@example.com', 'owner@example.org'],
    });
    expect(made.status).toBe(201);
    const test = await relay.admin('POST', `/api/alerts/channels/${made.json.channel.id}/test`);
    expect(test.json.delivery).toMatchObject({ state: 'delivered' });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({
      from: 'alerts@relay.example',
      to: ['oncall@example.com', 'owner@example.org'],
      user: 'alerts',
    });
    expect(subjectOf(mails[0]!)).toMatch(/^Test alert from Arena Relay \(rly_/);

    // Without SMTP_URL an email channel says why it cannot send.
    const bare = await startTestRelay();
    const other = await bare.admin('POST', '/api/alerts/channels', {
      kind: 'email',
      name: 'x',
      to: ['a@example.com'],
    });
    const refused = await bare.admin('POST', `/api/alerts/channels/${other.json.channel.id}/test`);
    expect(refused.status).toBe(502);
    expect(refused.json.delivery.error).toMatch(/SMTP_URL is not set/);
  });

  it('refuses bad channels with every problem named, and finds unknown ids', async () => {
    const relay = await startTestRelay();
    const bad = [
      { kind: 'webhook', name: 'x', url: 'ftp://example.com/hook' },
      { kind: 'webhook', name: 'x', url: 'http://user:pass@example.com/hook' },
      { kind: 'webhook', name: '', url: 'http://example.com' },
      { kind: 'slack', name: 'x' },
      { kind: 'telegram', name: 'x', bot_token: 'not a token', chat_id: '1' },
      { kind: 'email', name: 'x', to: [] },
      { kind: 'email', name: 'x', to: ['not an address'] },
      { kind: 'pager', name: 'x' },
      { kind: 'webhook', name: 'x', url: 'http://example.com', extra: true },
    ];
    for (const body of bad) {
      const res = await relay.admin('POST', '/api/alerts/channels', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.message).toBeTruthy();
    }
    expect((await relay.admin('POST', '/api/alerts/channels/ach_nope/test')).status).toBe(404);
    expect((await relay.admin('PATCH', '/api/alerts/channels/ach_nope', { enabled: false })).status).toBe(
      404,
    );
    expect((await relay.admin('GET', '/api/alerts/channels')).json.channels).toEqual([]);
  });

  it('a failing receiver is retried until it answers; one that never answers fails in bounded time', async () => {
    // Fails twice, then accepts.
    const flaky = await httpReceiver((n, res) => {
      res.statusCode = n < 3 ? 503 : 200;
      res.end();
    });
    const relay = await startTestRelay();
    const made = await relay.admin('POST', '/api/alerts/channels', {
      kind: 'slack',
      name: 'flaky',
      url: `${flaky.url}/x`,
    });
    // A notifier on the relay's store with short waits between attempts.
    const { Notifier } = await import('../relay/src/alerts/notifier.js');
    const notifier = new Notifier({
      store: relay.store,
      logger: (await import('pino')).pino({ level: 'silent' }),
      context: { telegramApi: '', mail: undefined, mailFrom: '', timeoutMs: 2000 },
      retryDelaysMs: [5, 5, 5],
    });
    track({ close: async () => notifier.close() });
    const alert = {
      id: 'alr_1',
      kind: 'incident' as const,
      rule: 'bridge_not_serving',
      severity: 'warning' as const,
      title: 'Bridge down',
      text: 'It needs a human.',
      at: new Date().toISOString(),
      labels: {},
    };
    const [first] = await notifier.notify(alert);
    expect(first).toMatchObject({ state: 'pending', attempts: 1, status: 503 });
    await expect.poll(() => notifier.deliveries()[0]?.state).toBe('delivered');
    expect(notifier.deliveries()[0]?.attempts).toBe(3);
    expect(flaky.received).toHaveLength(3);

    // A receiver that accepts the connection and never answers: the attempt times out.
    const silent = await httpReceiver(() => undefined);
    const slow = new Notifier({
      store: {
        getSetting: async () =>
          JSON.stringify([{ ...made.json.channel, url: `${silent.url}/never`, kind: 'slack' }]),
      },
      logger: (await import('pino')).pino({ level: 'silent' }),
      context: { telegramApi: '', mail: undefined, mailFrom: '', timeoutMs: 200 },
      retryDelaysMs: [],
    });
    const started = Date.now();
    const [timedOut] = await slow.notify(alert);
    expect(timedOut).toMatchObject({ state: 'failed', attempts: 1 });
    expect(timedOut?.error).toMatch(/Timeout|Abort/);
    expect(Date.now() - started).toBeLessThan(5000);
    silent.server.closeAllConnections();
  });
});
