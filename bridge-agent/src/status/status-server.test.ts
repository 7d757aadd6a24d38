import { request as httpRequest } from 'node:http';
import { BRIDGE_REASON_WORDS } from '@arena-relay/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../test-support/harness.js';
import { waitFor } from '../test-support/wait.js';
import { inEnglish } from '../upstream/bridge-words.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function getJson(url: string): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

describe('status server', () => {
  it('answers on 127.0.0.1 with connection, session and counters, never the token', async () => {
    h = await startHarness({ config: { statusPort: 0, clientId: 'cl_7' } });
    const url = h.agent.statusUrl!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await waitFor(() => h.agent.status().connected, 'the session');
    const conn = await h.relay.connection();

    expect((await getJson(`${url}/health`)).body).toEqual({ status: 'ok', connected: true });

    const status = await getJson(`${url}/platform/status`);
    expect(status.body).toEqual({
      connected: true,
      relay_url: h.config.relayUrls[0],
      client_id: 'cl_7',
      session_id: expect.stringMatching(/^sess-/),
      last_heartbeat: null,
      reconnects: 0,
      ready: true,
      ready_reason: null,
      ready_code: null,
      ready_fix: null,
      ready_fix_zh: null,
      retry_at: null,
      max_concurrency: h.config.maxConcurrency,
      // `bridge: auto` found v2.7.6 from its model list.
      bridge: 'lmarenabridge-v2',
      bridge_setting: 'auto',
      bridge_evidence: '/v1/models answered 200: models owned by LMArenaBridge',
      prompt_limit_chars: null,
      // Nothing pushed: the harness's agent counts its config as the owner's.
      settings: {
        max_concurrency: { value: h.config.maxConcurrency, source: 'local' },
        log_level: { value: h.config.logLevel, source: 'local' },
        models: { only: null, hide: null, source: 'default' },
      },
      connections: [
        {
          link: 1,
          relay_url: h.config.relayUrls[0],
          relay_id: null,
          connected: true,
          session_id: expect.stringMatching(/^sess-/),
          last_heartbeat: null,
          reconnects: 0,
          going_away: false,
          slots: h.config.maxConcurrency,
          in_flight: 0,
        },
      ],
      // Nothing served yet.
      served: {
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        requests: 0,
        succeeded: 0,
        failed: 0,
        cancelled: 0,
        last_hour: { requests: 0, succeeded: 0, failed: 0, cancelled: 0 },
        failures: [],
        models: [],
        models_other: { requests: 0, failed: 0 },
        last_errors: [],
      },
    });
    expect(status.text).not.toContain('good-token');
    expect(conn.hello).toBeDefined();

    const stats = await getJson(`${url}/stats`);
    expect(stats.body).toEqual({
      requests: 0,
      successes: 0,
      failures: 0,
      cancelled: 0,
      refused: 0,
      in_flight: 0,
      bytes_out: 0,
      started_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    expect(await getJson(`${url}/nope`)).toMatchObject({ status: 404, body: { error: 'not found' } });
  });

  it('says why the bridge is not serving and what to do, as JSON and as an escaped HTML page', async () => {
    h = await startHarness({ config: { statusPort: 0 } });
    const url = h.agent.statusUrl!;
    const conn = await h.relay.connection();
    const detail = '<script>alert("x")</script> 油猴脚本客户端未连接。';
    h.bridge.chat = (_req, res) =>
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ detail }));
    conn.open(1, { model: 'gpt-5', messages: [], stream: true });
    expect(await conn.waitFrame('ready')).toMatchObject({ ready: false, code: 'userscript_disconnected' });

    const status = await getJson(`${url}/platform/status`);
    expect(status.body).toMatchObject({
      ready: false,
      ready_code: 'userscript_disconnected',
      ready_reason: `bridge answered 503: ${inEnglish(detail)}`,
      ready_fix: expect.stringContaining('open arena.ai in the browser'),
      ready_fix_zh: BRIDGE_REASON_WORDS.userscript_disconnected.zh,
      retry_at: null,
    });

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('Not serving: the bridge cannot take requests.');
    expect(html).toContain('userscript_disconnected');
    expect(html).toContain('open arena.ai in the browser with the bridge userscript enabled');
    // The bridge said it in Chinese: so does the fix, with the English below.
    expect(html).toContain(`<span lang="zh-CN">${BRIDGE_REASON_WORDS.userscript_disconnected.zh}</span>`);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 油猴脚本客户端未连接。');
    expect(html).not.toContain('<script>');
    // Self-contained: nothing is fetched from anywhere.
    expect(html).not.toMatch(/<(script|link|img)\b|src=|https?:\/\//);
    expect(html).not.toContain('good-token');
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
  });

  it("writes the bridge's words into the page without control or bidi characters", async () => {
    h = await startHarness({ config: { statusPort: 0 } });
    const conn = await h.relay.connection();
    const detail = 'down\u001b]0;owned\u0007\u001b[31m red\u009b2J \u202eevil\u202c end';
    h.bridge.chat = (_req, res) =>
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ detail }));
    conn.open(1, { model: 'gpt-5', messages: [], stream: true });
    await conn.waitFrame('ready');
    const html = await (await fetch(`${h.agent.statusUrl}/`)).text();
    expect(html).toContain('down red evil end');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: none of these may reach the page.
    expect(html).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  });

  it('says where the log file is, when the run writes one', async () => {
    h = await startHarness({
      config: { statusPort: 0 },
      agent: { logFile: '/home/ann/agent/arena-agent.log' },
    });
    const url = h.agent.statusUrl!;
    expect((await getJson(`${url}/platform/status`)).body).toMatchObject({
      log_file: '/home/ann/agent/arena-agent.log',
    });
    expect(await (await fetch(`${url}/`)).text()).toContain(
      '<tr><th>Log file</th><td>/home/ann/agent/arena-agent.log</td></tr>',
    );
    await h.close();
    h = await startHarness({ config: { statusPort: 0 } });
    expect(await (await fetch(`${h.agent.statusUrl}/`)).text()).toContain(
      '<tr><th>Log file</th><td>none (this run logs to its console only)</td></tr>',
    );
  });

  it('is off with status_port -1', async () => {
    h = await startHarness({ config: { statusPort: -1 } });
    expect(h.agent.statusUrl).toBeUndefined();
  });
});

/** A GET with the `Host` a browser would send for a page at that name (fetch cannot set it). */
function getWithHost(
  url: string,
  path: string,
  host: string | undefined,
): Promise<{ status: number; text: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, setHost: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    if (host !== undefined) request.setHeader('host', host);
    request.on('error', reject);
    request.end();
  });
}

describe('status server Host check (DNS rebinding)', () => {
  it('answers 127.0.0.1, localhost and [::1] on its port, 421 to any other Host, with nothing of the status', async () => {
    h = await startHarness({ config: { statusPort: 0, clientId: 'cl_rebind' } });
    const url = h.agent.statusUrl!;
    await waitFor(() => h.agent.status().connected, 'the session');
    const port = new URL(url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      const answer = await getWithHost(url, '/platform/status', host);
      expect(answer.status, host).toBe(200);
      expect(answer.text).toContain('cl_rebind');
    }
    const hostile = [
      `evil.example:${port}`,
      'evil.example',
      `127.0.0.1.evil.example:${port}`,
      `localhost.evil.example:${port}`,
      '127.0.0.1',
      'localhost',
      `127.0.0.1:${Number(port) + 1}`,
      `localhost:${port}@evil.example`,
      `[::ffff:127.0.0.1]:${port}`,
      `0.0.0.0:${port}`,
      '',
    ];
    for (const path of ['/platform/status', '/stats', '/health', '/', '/nope']) {
      for (const host of hostile) {
        const answer = await getWithHost(url, path, host);
        expect(answer.status, `${host} ${path}`).toBe(421);
        expect(answer.text).not.toContain('cl_rebind');
        expect(answer.text).not.toContain('sess-');
        expect(answer.text).not.toContain(h.relay.url);
      }
    }
    // HTTP/1.0 may leave Host out: still refused.
    const bare = await getWithHost(url, '/platform/status', undefined);
    expect([400, 421]).toContain(bare.status);
    expect(bare.text).not.toContain('cl_rebind');
  });
});
