import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { recording } from '../test-support/replay.js';
import { checkBridge } from './bridge-check.js';
import { checkDialect } from './dialect-check.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** CloudWaddie's bridge from its recordings: key `sk-lmab-good` (none: served as its first key), health as `health` says. */
async function cloudwaddie(health = 'health.txt'): Promise<string> {
  server = createServer((req, res) => {
    const name =
      req.url === '/api/v1/health'
        ? health
        : req.url === '/api/v1/models'
          ? req.headers.authorization === undefined
            ? 'models-nokey.txt'
            : req.headers.authorization === 'Bearer sk-lmab-good'
              ? 'models-withkey.txt'
              : 'models-wrongkey.txt'
          : undefined;
    if (!name)
      return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
    const rec = recording('cloudwaddie', name);
    res.writeHead(rec.status, { 'content-type': rec.headers['content-type'] ?? '' }).end(rec.body);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

const config = (upstreamUrl: string, extra: Record<string, unknown> = {}) =>
  configSchema.parse({ relayUrls: 'ws://relay', token: 't', upstreamUrl, ...extra });

describe('doctor and CloudWaddie’s bridge', () => {
  it('names the dialect it found, and the key fix in the bridge’s words when the key is wrong', async () => {
    const url = await cloudwaddie();
    const { dialect, lines } = await checkDialect(config(url, { upstreamApiKey: 'sk-lmab-bad' }), 2000);
    expect(dialect.name).toBe('lmarenabridge-cw');
    expect(lines).toEqual([
      expect.objectContaining({
        status: 'ok',
        detail: expect.stringContaining('lmarenabridge-cw (bridge: auto;'),
      }),
      expect.objectContaining({ status: 'ok', what: 'bridge health' }),
    ]);
    const wrong = await checkBridge({ baseUrl: url, apiKey: 'sk-lmab-bad', timeoutMs: 2000, dialect });
    expect(wrong.line).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('Invalid API Key'),
      fix: expect.stringContaining('sk-lmab-'),
    });
    const right = await checkBridge({ baseUrl: url, apiKey: 'sk-lmab-good', timeoutMs: 2000, dialect });
    expect(right.line).toMatchObject({ status: 'ok', detail: expect.stringContaining('lists 4 models') });
    // No key: CloudWaddie's bridge answers as its first key, which doctor says.
    const none = await checkBridge({ baseUrl: url, timeoutMs: 2000, dialect });
    expect(none.line).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('no key is set'),
      fix: expect.stringContaining('sk-lmab-'),
    });
  });

  it('warns on a degraded bridge with what is failing, and on a configured dialect the bridge contradicts', async () => {
    const url = await cloudwaddie('degraded-health.txt');
    const { lines } = await checkDialect(config(url, { bridge: 'lmarenabridge-v2' }), 2000);
    expect(lines[0]).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('looks like lmarenabridge-cw'),
    });
    const auto = await checkDialect(config(url), 2000);
    expect(auto.lines[1]).toMatchObject({
      status: 'warn',
      what: 'bridge health',
      detail: expect.stringMatching(/^degraded/),
    });
  });
});
