/**
 * SelfUpdate against a real HTTP server standing in for the relay's /agent/bundle, with the new
 * process faked: what is downloaded and kept, what is refused, and the 30 s limit (fake timers).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
const offer = (code = NEW_CODE, version = '0.2.0') => ({
  type: 'update' as const,
  version,
  sha256: createHash('sha256').update(code).digest('hex'),
  bytes: code.byteLength,
});

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

function updater(
  behave: (next: FakeNext) => void = (next) =>
    queueMicrotask(() => next.emit('message', { type: HANDOVER_READY })),
) {
  const dir = mkdtempSync(join(tmpdir(), 'arena-update-'));
  const entry = join(dir, 'arena-agent.mjs');
  writeFileSync(entry, 'old version');
  const started: string[] = [];
  const nexts: FakeNext[] = [];
  let handedOver = 0;
  const update = new SelfUpdate({
    entry,
    currentVersion: '0.1.0',
    token: 'art_token',
    logger: pino({ level: 'silent' }),
    start(file) {
      started.push(readFileSync(file, 'utf8'));
      const next = new FakeNext();
      nexts.push(next);
      behave(next);
      return next as unknown as NextProcess;
    },
    handOver: () => void handedOver++,
  });
  return { update, dir, entry, started, nexts, handedOver: () => handedOver };
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
    const u = updater();
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
    const u = updater();
    const tampered = { ...offer(), bytes: 9 };
    expect(await u.update.offer(tampered, connectUrl)).toBe('refused');
    expect(await u.update.offer(tampered, connectUrl)).toBe('ignored');
    expect(u.started).toEqual([]);
    expect(readFileSync(u.entry, 'utf8')).toBe('old version');
    expect(readdirSync(u.dir)).toEqual(['arena-agent.mjs']);
    expect(u.handedOver()).toBe(0);
  });

  it('stops reading a body larger than offered', async () => {
    const { connectUrl } = await relay(Buffer.alloc(64 * 1024, 'x'));
    const u = updater();
    expect(await u.update.offer({ ...offer(), bytes: 100 }, connectUrl)).toBe('failed');
    expect(readdirSync(u.dir)).toEqual(['arena-agent.mjs']);
  });

  it('keeps the old version when the new one does not connect within 30 s (fake timers)', async () => {
    const { connectUrl } = await relay(NEW_CODE);
    // Fake clocks from the moment the new process starts: the download used real sockets.
    let started!: () => void;
    const startedNext = new Promise<void>((resolve) => (started = resolve));
    const u = updater(() => {
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
    const u = updater((next) => queueMicrotask(() => next.emit('exit', 1)));
    expect(await u.update.offer(offer(), connectUrl)).toBe('failed');
    expect(u.handedOver()).toBe(0);
    expect(await u.update.offer(offer(NEW_CODE, '0.1.0'), connectUrl)).toBe('ignored');
    expect(await u.update.offer(offer(NEW_CODE, '../../evil'), connectUrl)).toBe('refused');
  });
});
