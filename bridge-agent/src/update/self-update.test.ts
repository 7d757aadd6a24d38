/**
 * SelfUpdate against a real HTTP server standing in for the relay's /agent/bundle, with the new
 * process faked: what is downloaded and kept, what is refused (unsigned, wrongly signed, older),
 * and the 30 s limit (fake timers).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { announceKey, generateReleaseKey, signRelease } from './release-signature.js';
import { ReleaseTrust } from './release-trust.js';
import {
  bundleUrl,
  HANDOVER_READY,
  type NextProcess,
  SelfUpdate,
  type UpdateOutcome,
} from './self-update.js';

const NEW_CODE = Buffer.from(
  '#!/usr/bin/env node\n// Arena Relay bridge agent 0.2.0, bundled\nconsole.log("é");\n',
);
const RELEASE = generateReleaseKey();
/** An offer of `code` as `version`, signed by the release key. */
const offer = (code = NEW_CODE, version = '0.2.0', key = RELEASE.privateKeyPem) => {
  const release = {
    version,
    sha256: createHash('sha256').update(code).digest('hex'),
    bytes: code.byteLength,
  };
  return { type: 'update' as const, ...release, signature: signRelease(key, release) };
};

const servers: Server[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A relay stand-in serving `body` at /agent/bundle to the right token; records the auth header. */
async function relay(body: Buffer): Promise<{ connectUrl: string; auth: string[] }> {
  const auth: string[] = [];
  const server = createServer((req, res) => {
    auth.push(req.headers.authorization ?? '');
    if (req.url !== '/agent/bundle' || req.headers.authorization !== 'Bearer art_token') {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { connectUrl: `ws://127.0.0.1:${port}/agent/connect`, auth };
}

class FakeNext extends EventEmitter {
  killed = false;
  released = false;
  kill() {
    this.killed = true;
  }
  release() {
    this.released = true;
  }
}

async function updater(
  behave: (next: FakeNext) => void = (next) =>
    queueMicrotask(() => next.emit('message', { type: HANDOVER_READY })),
) {
  const dir = mkdtempSync(join(tmpdir(), 'arena-update-'));
  const entry = join(dir, 'arena-agent.mjs');
  writeFileSync(entry, 'old version');
  const started: string[] = [];
  const nexts: FakeNext[] = [];
  let handedOver = 0;
  const lines: Array<{ level: number; msg: string; problem?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const update = new SelfUpdate({
    entry,
    currentVersion: '0.1.0',
    trust: await ReleaseTrust.load(RELEASE.publicKey, join(dir, 'keys.json')),
    token: 'art_token',
    logger,
    start(file) {
      started.push(readFileSync(file, 'utf8'));
      const next = new FakeNext();
      nexts.push(next);
      behave(next);
      return next as unknown as NextProcess;
    },
    handOver: () => void handedOver++,
  });
  return { update, dir, entry, started, nexts, lines, handedOver: () => handedOver };
}

describe('bundleUrl', () => {
  it('maps the connect address to the bundle address, keeping a path prefix and the scheme', () => {
    expect(bundleUrl('ws://relay:8080/agent/connect')).toBe('http://relay:8080/agent/bundle');
    expect(bundleUrl('wss://x.example/arena/agent/connect?x=1')).toBe('https://x.example/arena/agent/bundle');
  });
});

describe('SelfUpdate', () => {
  it('downloads with the token, starts the new file, gives it the entry name once it is connected', async () => {
    const { connectUrl, auth } = await relay(NEW_CODE);
    const u = await updater();
    expect(await u.update.offer(offer(), connectUrl)).toBe<UpdateOutcome>('handed-over');
    expect(auth).toEqual(['Bearer art_token']);
    expect(u.started).toEqual([NEW_CODE.toString()]);
    expect(u.nexts[0]!.released).toBe(true);
    expect(readFileSync(u.entry)).toEqual(NEW_CODE);
    expect(readdirSync(u.dir)).toEqual(['arena-agent.mjs']);
    expect(u.handedOver()).toBe(1);
  });

  it('refuses a bundle whose SHA-256 or size is not the offered one, and does not try it again', async () => {
    const { connectUrl } = await relay(Buffer.from('tampered!'));
    const u = await updater();
    const tampered = offer();
    expect(await u.update.offer(tampered, connectUrl)).toBe('refused');
    expect(await u.update.offer(tampered, connectUrl)).toBe('ignored');
    expect(u.started).toEqual([]);
    expect(readFileSync(u.entry, 'utf8')).toBe('old version');
    expect(readdirSync(u.dir)).toEqual(['arena-agent.mjs']);
    expect(u.handedOver()).toBe(0);
  });

  it('tells the offering relay why an offer was not taken, again each time it is offered again, without trying again', async () => {
    const { connectUrl } = await relay(Buffer.from('tampered!'));
    const u = await updater();
    const reports: unknown[] = [];
    const report = (result: unknown) => void reports.push(result);
    expect(await u.update.offer(offer(), connectUrl, report)).toBe('refused');
    const first = {
      type: 'update_result',
      version: '0.2.0',
      outcome: 'refused',
      reason: expect.stringMatching(/^the downloaded bundle is not the one offered \(size 9, offered \d+\)$/),
    };
    expect(reports).toEqual([first]);
    expect(await u.update.offer(offer(), connectUrl, report)).toBe('ignored');
    expect(reports).toEqual([first, first]);
    expect(u.started).toEqual([]);
    // An unsigned offer is refused before any download, in words.
    const { signature: _, ...unsigned } = offer(NEW_CODE, '0.3.0');
    expect(await u.update.offer(unsigned, connectUrl, report)).toBe('refused');
    expect(reports[2]).toEqual({
      type: 'update_result',
      version: '0.3.0',
      outcome: 'refused',
      reason: 'the offer is not signed',
    });
    // A new process that exits is a failure, said so.
    const { connectUrl: good } = await relay(NEW_CODE);
    const exits = await updater((next) => queueMicrotask(() => next.emit('exit', 3)));
    const said: unknown[] = [];
    expect(await exits.update.offer(offer(), good, (r) => void said.push(r))).toBe('failed');
    expect(said).toEqual([
      {
        type: 'update_result',
        version: '0.2.0',
        outcome: 'failed',
        reason: 'the new version exited (code 3) before connecting to a relay',
      },
    ]);
  });

  it('stops reading a body larger than offered', async () => {
    const { connectUrl } = await relay(Buffer.alloc(64 * 1024, 'x'));
    const u = await updater();
    expect(await u.update.offer(offer(Buffer.alloc(100, 'y')), connectUrl)).toBe('failed');
    expect(readdirSync(u.dir)).toEqual(['arena-agent.mjs']);
  });

  it('keeps the old version when the new one does not connect within 30 s (fake timers)', async () => {
    const { connectUrl } = await relay(NEW_CODE);
    // Fake clocks from the moment the new process starts: the download used real sockets.
    let started!: () => void;
    const startedNext = new Promise<void>((resolve) => (started = resolve));
    const u = await updater(() => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      started();
    });
    const outcome = u.update.offer(offer(), connectUrl);
    await startedNext;
    await vi.advanceTimersByTimeAsync(29_999);
    expect(u.nexts[0]!.killed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    vi.useRealTimers();
    expect(await outcome).toBe('failed');
    expect(u.nexts[0]!.killed).toBe(true);
    expect(readFileSync(u.entry, 'utf8')).toBe('old version');
    expect(readdirSync(u.dir)).toEqual(['arena-agent.mjs']);
  });

  it('keeps the old version when the new one exits first; ignores its own version and bad names', async () => {
    const { connectUrl } = await relay(NEW_CODE);
    const u = await updater((next) => queueMicrotask(() => next.emit('exit', 1)));
    expect(await u.update.offer(offer(), connectUrl)).toBe('failed');
    expect(u.handedOver()).toBe(0);
    expect(await u.update.offer(offer(NEW_CODE, '0.1.0'), connectUrl)).toBe('ignored');
    expect(await u.update.offer(offer(NEW_CODE, '../../evil'), connectUrl)).toBe('refused');
  });
});

describe('SelfUpdate: only a newer release signed by the trusted key', () => {
  const other = generateReleaseKey();
  const signed = offer();
  const refusals: Array<
    [
      what: string,
      frame: ReturnType<typeof offer> | Omit<ReturnType<typeof offer>, 'signature'>,
      problem: string,
    ]
  > = [
    [
      'unsigned',
      { type: 'update', version: '0.2.0', sha256: signed.sha256, bytes: signed.bytes },
      'not signed',
    ],
    ['signed by another key', offer(NEW_CODE, '0.2.0', other.privateKeyPem), 'does not verify'],
    ['tampered version', { ...signed, version: '0.3.0' }, 'does not verify'],
    ['tampered bytes (hash)', { ...signed, sha256: 'f'.repeat(64) }, 'does not verify'],
    ['tampered size', { ...signed, bytes: signed.bytes + 1 }, 'does not verify'],
    ['older, correctly signed', offer(NEW_CODE, '0.0.9'), 'not newer'],
    ['a pre-release of the running version', offer(NEW_CODE, '0.1.0-rc.1'), 'not newer'],
    ['not semver', offer(NEW_CODE, 'latest'), 'unusable version'],
  ];
  it.each(refusals)(
    '%s: refused at warn before anything is fetched or written',
    async (_what, frame, problem) => {
      const { connectUrl, auth } = await relay(NEW_CODE);
      const u = await updater();
      expect(await u.update.offer(frame, connectUrl)).toBe('refused');
      expect(auth).toEqual([]);
      expect(u.started).toEqual([]);
      expect(readdirSync(u.dir).sort()).toEqual(['arena-agent.mjs']);
      expect(readFileSync(u.entry, 'utf8')).toBe('old version');
      const line = u.lines.find((l) => l.msg.startsWith('agent update refused'));
      expect(line?.level).toBe(40);
      expect(line?.problem).toContain(problem);
    },
  );

  it('with no pinned key every offer is refused', async () => {
    const { connectUrl, auth } = await relay(NEW_CODE);
    const u = await updater();
    const bare = new SelfUpdate({
      entry: u.entry,
      currentVersion: '0.1.0',
      trust: await ReleaseTrust.load(undefined),
      token: 'art_token',
      logger: pino({ level: 'silent' }),
      start: () => {
        throw new Error('must not start');
      },
      handOver: () => undefined,
    });
    expect(await bare.offer(offer(), connectUrl)).toBe('refused');
    expect(auth).toEqual([]);
  });

  it('a rotation announced by the trusted key is followed and kept; one announced by another key is not', async () => {
    const next = generateReleaseKey();
    const { connectUrl } = await relay(NEW_CODE);
    const forged = {
      ...offer(NEW_CODE, '0.2.0', next.privateKeyPem),
      keyChain: [announceKey(other.privateKeyPem, next.publicKey)],
    };
    const u1 = await updater();
    expect(await u1.update.offer(forged, connectUrl)).toBe('refused');
    expect(existsSync(join(u1.dir, 'keys.json'))).toBe(false);

    const u2 = await updater();
    const rotated = {
      ...offer(NEW_CODE, '0.2.0', next.privateKeyPem),
      keyChain: [announceKey(RELEASE.privateKeyPem, next.publicKey)],
    };
    expect(await u2.update.offer(rotated, connectUrl)).toBe('handed-over');
    expect(u2.lines.some((l) => l.level === 40 && l.msg.startsWith('release key rotated'))).toBe(true);
    // A restart trusts the new key from the kept file alone, and no longer the old one.
    const kept = await ReleaseTrust.load(RELEASE.publicKey, join(u2.dir, 'keys.json'));
    expect(kept.key).toBe(next.publicKey);
    expect(kept.keyFor([])).toBe(next.publicKey);
  });
});

describe('SelfUpdate: what a refusal blocks', () => {
  it("a relay's forged offer of a version does not block the genuine one from another relay", async () => {
    const hostile = await relay(Buffer.from('evil'));
    const honest = await relay(NEW_CODE);
    const u = await updater();
    const forged = { ...offer(Buffer.from('evil')), signature: offer(NEW_CODE).signature };
    expect(await u.update.offer(forged, hostile.connectUrl)).toBe('refused');
    expect(await u.update.offer(forged, hostile.connectUrl)).toBe('ignored');
    expect(await u.update.offer(offer(), honest.connectUrl)).toBe('handed-over');
  });

  it('remembers a bounded number of failed offers however many a relay sends', async () => {
    const { connectUrl } = await relay(NEW_CODE);
    const u = await updater();
    for (let i = 0; i < 200; i++) {
      const frame = { ...offer(), version: `0.3.${i}` };
      expect(await u.update.offer(frame, connectUrl)).toBe('refused');
    }
    // The first ones were forgotten (refused, and logged, again); the last ones are still known.
    expect(await u.update.offer({ ...offer(), version: '0.3.0' }, connectUrl)).toBe('refused');
    expect(await u.update.offer({ ...offer(), version: '0.3.199' }, connectUrl)).toBe('ignored');
  });
});
