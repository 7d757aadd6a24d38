import { Writable } from 'node:stream';
import { isLoopbackHost } from '@arena-relay/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logging.js';
import { type Harness, startHarness } from '../test-support/harness.js';
import { plainRelayUrls } from './plain-transport.js';
import { toConnectUrl } from './relay-url.js';

const connect = (url: string) => (toConnectUrl(url) as { url: string }).url;

describe('plain transport', () => {
  it('names every non-loopback ws:// or http:// relay, and only those', () => {
    const urls = [
      'http://relay.example:8787',
      'ws://203.0.113.7/prefix',
      'http://[2001:db8::1]:8787',
      'http://127.0.0.1.nip.io:8787',
      'http://localhost.evil.example',
      'https://relay.example',
      'wss://203.0.113.7',
      'http://localhost:8787',
      'http://LOCALHOST.:8787',
      'http://127.0.0.1:8787',
      'http://127.9.8.7',
      'http://[::1]:8787',
    ].map(connect);
    expect(plainRelayUrls(urls)).toEqual(urls.slice(0, 5));
  });

  it('counts 127.0.0.0/8, ::1 and localhost as loopback, nothing that only looks like them', () => {
    for (const host of ['localhost', '127.0.0.1', '127.255.0.1', '[::1]'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of [
      '128.0.0.1',
      '127.0.0',
      '127.0.0.1.example',
      '[::2]',
      '0.0.0.0',
      'mylocalhost',
      '127.0.0.256',
    ])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** An agent started with `relayUrls`, its log lines parsed. */
async function startLogged(relayUrls: string[]): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  h = await startHarness({ config: { relayUrls }, agent: { logger } });
  return lines;
}

describe('the agent at start', () => {
  it('warns that the token crosses the network in clear for a non-loopback ws:// relay, with the fix', async () => {
    const url = connect('http://relay.invalid:9');
    const lines = await startLogged([url, connect('https://relay.invalid')]);
    const warnings = lines.filter((line) => line.level === 40 && line.relay !== undefined);
    expect(warnings).toEqual([
      expect.objectContaining({
        relay: url,
        msg: expect.stringContaining(
          'the client token, every prompt and every answer cross the network in clear',
        ),
        fix: expect.stringContaining('PUBLIC_URL'),
      }),
    ]);
  });

  it('says nothing of it for a loopback relay', async () => {
    const lines = await startLogged([connect('http://127.0.0.1:9')]);
    expect(lines.filter((line) => String(line.msg).includes('in clear'))).toEqual([]);
  });
});
