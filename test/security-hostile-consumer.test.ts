/**
 * A hostile consumer against the relay, on raw TCP where it matters (so that no client library
 * cleans the bytes up): X-Session-Name limits, a chunked body over the limit, and no reflection of
 * request input into response headers. Complements test/consumer-errors.test.ts (413 with a
 * content-length, schema 400s) and test/hardening.test.ts (JSON depth, slowloris, connection cap).
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestRelay } from './support/relay.js';

/** Sends raw bytes, resolves with everything the relay answered before closing (or 2 s). */
function raw(port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => socket.destroy(), 2000);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      // One full JSON answer is all these tests wait for.
      const length = /\r\ncontent-length: (\d+)/i.exec(answer);
      const headEnd = answer.indexOf('\r\n\r\n');
      if (length && headEnd !== -1 && answer.length - headEnd - 4 >= Number(length[1])) socket.destroy();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}

const body = JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content: 'hi' }] });

function chatRequest(key: string, extra: string[], payload = body): Buffer {
  const head = [
    'POST /v1/chat/completions HTTP/1.1',
    'Host: relay',
    `Authorization: Bearer ${key}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(payload)}`,
    'Connection: close',
    ...extra,
  ].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), Buffer.from(payload)]);
}

const status = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const headersOf = (answer: string) => answer.slice(0, answer.indexOf('\r\n\r\n'));

describe('a hostile consumer', () => {
  it('X-Session-Name: 1-128 of A-Z a-z 0-9 . _ : - pass; anything else is a 400 that does not echo it', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    // No agent is connected: a name that passes gets as far as routing (503).
    for (const ok of ['a', 'conv-42:part_1.x', 'A'.repeat(128)]) {
      expect(status(await raw(relay.port, chatRequest(key, [`X-Session-Name: ${ok}`]))), ok).toBe(503);
    }
    const bad = [
      'B'.repeat(129),
      'has space',
      'semi;colon',
      '<script>alert(1)</script>',
      'caf\u00e9',
      'tab\tinside',
      'x'.repeat(4000),
    ];
    for (const value of bad) {
      const answer = await raw(relay.port, chatRequest(key, [`X-Session-Name: ${value}`]));
      expect(status(answer), value).toBe(400);
      expect(answer).toContain('"param":"x-session-name"');
      expect(answer.includes(value), `${value} echoed`).toBe(false);
    }
  });

  it('a chunked body over the limit (no content-length) is a 413 and the connection is closed', async () => {
    const relay = await startTestRelay({ maxBodyBytes: 4096 });
    const { key } = await relay.createKey();
    const head = [
      'POST /v1/chat/completions HTTP/1.1',
      'Host: relay',
      `Authorization: Bearer ${key}`,
      'Content-Type: application/json',
      'Transfer-Encoding: chunked',
    ].join('\r\n');
    const chunk = `1000\r\n${' '.repeat(0x1000)}\r\n`;
    const answer = await raw(relay.port, `${head}\r\n\r\n${chunk.repeat(4)}0\r\n\r\n`);
    expect(status(answer)).toBe(413);
    expect(headersOf(answer)).toMatch(/\r\nconnection: close/i);
    expect(answer).toContain('"code":"request_too_large"');
  });

  it('request input is never reflected into response headers', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const marker = 'reflected-marker-7f3a';
    const probes = [
      chatRequest(key, [
        `X-Request-Id: ${marker}`,
        `X-Session-Name: ${marker}`,
        `Origin: https://${marker}.example`,
      ]),
      chatRequest(`${marker}`, [`X-Request-Id: ${marker}`]),
      chatRequest(key, [], JSON.stringify({ model: marker, messages: [{ role: 'user', content: 'x' }] })),
      Buffer.from(`GET /${marker} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n`),
    ];
    for (const probe of probes) {
      const answer = await raw(relay.port, probe);
      expect(status(answer)).toBeGreaterThanOrEqual(400);
      expect(headersOf(answer)).not.toContain(marker);
      expect(headersOf(answer)).toMatch(/\r\nx-request-id: req_/i);
      expect(headersOf(answer)).not.toMatch(/access-control-allow-origin/i);
    }
  });

  it('behind a proxy (TRUST_PROXY) a client cannot dodge the auth brake with an X-Forwarded-For of its own', async () => {
    // A proxy that appends (nginx $proxy_add_x_forwarded_for, most load balancers) forwards
    // "<what the client sent>, <the client's real address>": only the last hop is the proxy's word.
    // Addresses from the documentation ranges (RFC 5737) are header text here, never dialled.
    const relay = await startTestRelay({ trustProxy: true, authFailuresPerMinute: 3 });
    const { key } = await relay.createKey();
    const attacker = '203.0.113.9';
    const attempt = (apiKey: string, spoofed: string) =>
      raw(relay.port, chatRequest(apiKey, [`X-Forwarded-For: ${spoofed}, ${attacker}`]));
    for (let i = 0; i < 3; i++)
      expect(status(await attempt(`sk-ar-guess-${i}`, `198.51.100.${i}`))).toBe(401);
    // The attacker's next try, under yet another spoofed first hop, must meet the brake.
    expect(status(await attempt(key, '198.51.100.200'))).toBe(429);
    // And a victim whose address the attacker wrote first was not framed.
    const victim = await raw(relay.port, chatRequest(key, ['X-Forwarded-For: 198.51.100.0']));
    expect(status(victim)).not.toBe(429);
  });
});
