import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { type RecordedBridge, serveCloudwaddie } from '../test-support/recorded-cloudwaddie.js';
import { checkBridge } from './bridge-check.js';
import { checkDialect } from './dialect-check.js';

let bridge: RecordedBridge | undefined;
afterEach(async () => {
  await bridge?.close();
  bridge = undefined;
});

/** CloudWaddie's bridge from its recordings: key `sk-lmab-good` (none: served as its first key), health as `health` says. */
async function cloudwaddie(health = 'health.txt'): Promise<string> {
  bridge = await serveCloudwaddie({ health, noKey: 'models-nokey.txt' });
  return bridge.url;
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
