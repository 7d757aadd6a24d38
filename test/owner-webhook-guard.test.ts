/**
 * The SSRF guard on owners' webhooks, against real receivers on port 0: what a URL may be (write
 * time), and what the relay refuses to connect to (connect time: literals, names resolved by the
 * system or by a resolver that lies, redirects), with the allowance for labs on and off.
 */
import { createHmac } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type OwnerWebhookContext, postToOwner, type Resolve } from '../relay/src/alerts/owner-webhook.js';
import { signedWebhook } from '../relay/src/alerts/senders.js';
import {
  nonPublicReason,
  OWNER_WEBHOOK_URL_MAX,
  ownerWebhookUrlProblem,
} from '../relay/src/alerts/ssrf-guard.js';
import { httpReceiver } from './support/receivers.js';

/** A receiver on every address (`::`, so IPv6 and IPv4-mapped literals reach it too). */
const receiver = (answer: (res: ServerResponse) => void = (res) => res.end('ok')) =>
  httpReceiver((_, res) => answer(res), '::');

const LAB = { allowHttp: true, allowPrivate: true };
const HTTP_ONLY = { allowHttp: true, allowPrivate: false };
const post = (url: string, context: OwnerWebhookContext = HTTP_ONLY, timeoutMs = 5000) =>
  postToOwner(url, '{"x":1}', {}, context, timeoutMs);

/** A resolver that answers `addresses` for every name. */
const lying =
  (...addresses: string[]): Resolve =>
  async () =>
    addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('nonPublicReason', () => {
  it('refuses every non-public class, in every spelling, and passes public unicast', () => {
    const refused = [
      '0.0.0.0',
      '0.1.2.3',
      '10.1.2.3',
      '100.64.0.1',
      '100.127.255.254',
      '127.0.0.1',
      '127.8.9.10',
      '169.254.169.254',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '::',
      '::1',
      'fc00::1',
      'fdff:ffff::1',
      'fe80::1',
      'fe80::1%eth0',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:a9fe:a9fe',
      '::ffff:10.0.0.1',
      '::127.0.0.1',
      '64:ff9b::7f00:1',
      '64:ff9b::169.254.169.254',
      '64:ff9b:1::1',
      '2002:c0a8:0101::1',
      '[::1]',
    ];
    for (const address of refused) expect(nonPublicReason(address), address).toMatch(/not a public address/);
    const allowed = [
      '8.8.8.8',
      '1.1.1.1',
      '100.128.0.1',
      '172.32.0.1',
      '2606:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
    ];
    for (const address of allowed) expect(nonPublicReason(address), address).toBeUndefined();
    expect(nonPublicReason('not-an-ip')).toMatch(/not an IP address/);
    expect(nonPublicReason('1:2:3:4:5:6:7:8:9')).toMatch(/not an IP address/);
  });
});

describe('ownerWebhookUrlProblem (write time)', () => {
  const strict = { allowHttp: false, allowPrivate: false };
  it('takes only https:// to a public place, bounded and without credentials', () => {
    expect(ownerWebhookUrlProblem('https://hooks.example.org/a?b=c', strict)).toBeUndefined();
    expect(ownerWebhookUrlProblem('http://hooks.example.org/a', strict)).toBe('must be an https:// URL');
    expect(ownerWebhookUrlProblem('http://hooks.example.org/a', HTTP_ONLY)).toBeUndefined();
    expect(ownerWebhookUrlProblem('ftp://hooks.example.org/a', HTTP_ONLY)).toMatch(/http:\/\/ or https:/);
    expect(ownerWebhookUrlProblem('file:///etc/passwd', strict)).toMatch(/https/);
    expect(ownerWebhookUrlProblem('https://u:p@hooks.example.org/', strict)).toBe(
      'must not carry credentials',
    );
    expect(ownerWebhookUrlProblem(`https://a.example/${'x'.repeat(OWNER_WEBHOOK_URL_MAX)}`, strict)).toMatch(
      /at most 2048/,
    );
    expect(ownerWebhookUrlProblem('not a url', strict)).toBe('must be a URL');
    for (const url of [
      'https://localhost/x',
      'https://LOCALHOST./x',
      'https://api.localhost/x',
      'https://127.0.0.1/x',
      'https://2130706433/x', // 127.0.0.1 spelled as one number: the URL parser normalises it
      'https://0x7f.1/x',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[fe80::1]/x',
      'https://169.254.169.254/latest/meta-data/',
    ])
      expect(ownerWebhookUrlProblem(url, strict), url).toMatch(/not a public address|this machine/);
    expect(
      ownerWebhookUrlProblem('https://127.0.0.1/x', { allowHttp: false, allowPrivate: true }),
    ).toBeUndefined();
  });
});

describe('postToOwner (connect time)', () => {
  it('with the allowance on: delivers a body whose signature the receiver can check', async () => {
    const hook = await receiver();
    const secret = 'arw_owner_secret_0123456789';
    const alert = {
      id: 'alr_1',
      kind: 'incident' as const,
      rule: 'bridge_not_serving',
      severity: 'warning' as const,
      title: 'Bridge "É" is not serving',
      text: 'Fix: open the tab.',
      at: new Date().toISOString(),
      labels: { client: 'cl_1' },
    };
    const { body, headers } = signedWebhook(alert, secret);
    const result = await postToOwner(`http://127.0.0.1:${hook.port}/hook`, body, headers, LAB, 5000);
    expect(result).toEqual({ ok: true, status: 200 });
    const hit = hook.received[0]!;
    const expected = createHmac('sha256', secret)
      .update(`${hit.headers['x-arena-timestamp']}.${hit.body}`)
      .digest('hex');
    expect(hit.headers['x-arena-signature']).toBe(`sha256=${expected}`);
    expect(JSON.parse(hit.body)).toMatchObject({ rule: 'bridge_not_serving', labels: { client: 'cl_1' } });
  });

  it('with the allowance off: refuses loopback literals, IPv6 and IPv4-mapped ones, and localhost, without a request', async () => {
    const hook = await receiver();
    for (const host of ['127.0.0.1', '[::1]', '[::ffff:127.0.0.1]', 'localhost']) {
      const result = await post(`http://${host}:${hook.port}/x`);
      expect(result.ok, host).toBe(false);
      expect(!result.ok && result.error, host).toMatch(/^refused: /);
    }
    // `localhost` went through the system resolver, and was refused in the lookup: nothing connected.
    expect(hook.connections()).toBe(0);
    expect(hook.received).toEqual([]);
  });

  it('refuses a name that resolves to any non-public address, class by class (DNS rebinding included)', async () => {
    const hook = await receiver();
    const classes = [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.10',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '224.0.0.251',
      '::1',
      '::',
      'fc00::1',
      'fe80::1',
      'ff02::1',
      '::ffff:10.0.0.1',
      '64:ff9b::a9fe:a9fe',
    ];
    for (const address of classes) {
      const result = await post(`http://hooks.example.test:${hook.port}/x`, {
        ...HTTP_ONLY,
        resolve: lying(address),
      });
      expect(!result.ok && result.error, address).toMatch(/^refused: hooks\.example\.test resolves to/);
    }
    // A name with one public and one private address is refused too (no picking the good one).
    const mixed = await post(`http://hooks.example.test:${hook.port}/x`, {
      ...HTTP_ONLY,
      resolve: lying('93.184.216.34', '127.0.0.1'),
    });
    expect(!mixed.ok && mixed.error).toMatch(/\(127\.0\.0\.1 is not a public address\)/);
    expect(hook.connections()).toBe(0);
  });

  it('refuses plain http without the operator allowing it', async () => {
    const hook = await receiver();
    const result = await post(`http://127.0.0.1:${hook.port}/x`, { allowHttp: false, allowPrivate: true });
    expect(result).toEqual({ ok: false, error: 'refused: must be an https:// URL' });
    expect(hook.connections()).toBe(0);
  });

  it('does not follow a redirect to a private address', async () => {
    const inside = await receiver();
    const outside = await receiver((res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${inside.port}/admin` });
      res.end();
    });
    const result = await post(`http://127.0.0.1:${outside.port}/x`, LAB);
    expect(result).toMatchObject({ ok: false, status: 302, error: 'HTTP 302: redirects are not followed' });
    expect(outside.received).toHaveLength(1);
    expect(inside.connections()).toBe(0);
  });

  it('is bounded: a silent receiver times out, an endless answer is not read', async () => {
    const silent = await receiver(() => undefined);
    const started = Date.now();
    const timedOut = await post(`http://127.0.0.1:${silent.port}/x`, LAB, 200);
    expect(timedOut).toEqual({ ok: false, error: 'no answer in 200 ms' });
    expect(Date.now() - started).toBeLessThan(3000);

    const chunk = Buffer.alloc(64 * 1024, 120);
    const endless = await receiver((res) => {
      res.writeHead(200);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    expect(await post(`http://127.0.0.1:${endless.port}/x`, LAB)).toEqual({ ok: true, status: 200 });
  });
});
