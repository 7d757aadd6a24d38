/**
 * Self-update end to end, with real processes: an agent bundle at version N, run with plain node
 * from its own folder, is offered N+1 — a release signed with `npm run release:sign`'s code by a
 * key the pinned one announced, served from AGENT_RELEASE_DIR — while a stream is in flight. The new process connects first, the
 * old one finishes the stream byte-exact and exits, the new one serves the next request and its
 * file now has the running one's name. A hostile relay (its own code, its own key, tampered
 * fields, an older signed release, under a pushed `silent` log level) gets every offer refused
 * at warn while N keeps serving; a relay without a signed release offers nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpdateFrame } from '@arena-relay/shared';
import { Agent as Dispatcher, fetch as undiciFetch } from 'undici';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { generateReleaseKey, signRelease } from '../bridge-agent/src/update/release-signature.js';
import { type AgentBundle, buildAgentBundleCode, bundleOf } from '../relay/src/package/agent-bundle.js';
import { loadAgentRelease } from '../relay/src/package/agent-release.js';
import { AgentSession } from '../relay/src/tunnel/agent-session.js';
import { keygen, writeSignedRelease } from '../scripts/release.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const NEXT = '0.1.1-next';
let built: {
  current: AgentBundle;
  next: AgentBundle;
  releaseDir: string;
  /** The key agents' configs pin (`release_key`), and its file. */
  releaseKey: string;
  keyFile: string;
  /** The key N+1 is signed with: a rotation from `releaseKey`, announced in its manifest. */
  rotatedKey: string;
};
const bundles = async () => built;
// Two esbuild runs, once for the file (seconds on a busy machine): N unsigned (its config pins the
// key, as a package does), N+1 through the operator's signing script, signed with a new key that
// the pinned one announces (a rotation).
beforeAll(async () => {
  const keyDir = mkdtempSync(join(tmpdir(), 'arena-release-key-'));
  const keyFile = join(keyDir, 'release.pem');
  const releaseKey = keygen(keyFile);
  const rotatedKey = keygen(join(keyDir, 'release-2.pem'));
  const releaseDir = mkdtempSync(join(tmpdir(), 'arena-release-'));
  const [current] = await Promise.all([
    buildAgentBundleCode(),
    writeSignedRelease({
      keyFile: join(keyDir, 'release-2.pem'),
      rotateFrom: keyFile,
      outDir: releaseDir,
      version: NEXT,
    }),
  ]);
  built = {
    current: await bundleOf(current),
    next: await loadAgentRelease(releaseDir),
    releaseDir,
    releaseKey,
    keyFile,
    rotatedKey,
  };
}, 120_000);

/** Hex SHA-256: a megabyte Buffer compared by toEqual costs seconds, element by element. */
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The next hello on `relay` from an agent at `version`. */
function sessionAt(relay: TestRelay, version: string): Promise<AgentSession> {
  return new Promise((resolve) => {
    const listener = (session: AgentSession) => {
      if (session.hello?.agentVersion !== version) return;
      relay.hub.off('session', listener);
      resolve(session);
    };
    relay.hub.on('session', listener);
  });
}

type RunningAgent = {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  dir: string;
};

/** Unpacks `bundle` with a config into a fresh folder and runs it there, in its own process group. */
function runBundle(bundle: AgentBundle, config: Record<string, unknown>): RunningAgent {
  const dir = mkdtempSync(join(tmpdir(), 'arena-self-update-'));
  writeFileSync(join(dir, 'arena-agent.mjs'), bundle.code, { mode: 0o755 });
  writeFileSync(join(dir, 'config.jsonc'), JSON.stringify(config));
  const child = spawn(process.execPath, ['arena-agent.mjs'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own: the process it hands over to is in it too, and goes with it at the end.
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  track({
    async close() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // The whole group is gone already.
      }
    },
  });
  return { child, output: () => output, exited, dir };
}

async function streamedContent(res: { text(): Promise<string> }): Promise<string> {
  let content = '';
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('data: {')) content += JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? '';
  }
  return content;
}

/** A relay shipping `shipped` (or, with none, the signed release of AGENT_RELEASE_DIR). */
async function setup(shipped?: AgentBundle, relayOptions: { agentUpdates?: boolean } = {}) {
  const bridge = track(await startFakeBridge({ scenario: 'slow', slowDelayMs: 60 }));
  const relay = await startTestRelay({
    agentUpdates: true,
    ...relayOptions,
    ...(shipped ? { agentBundle: async () => shipped } : { agentReleaseDir: built.releaseDir }),
  });
  const client = await relay.createClient();
  const { key } = await relay.createKey();
  const config = {
    platform_integration: {
      platform_url: relay.url,
      api_key: client.token,
      log_level: 'info',
      release_key: built.releaseKey,
    },
    upstream_url: bridge.url,
    status_port: -1,
    auto_update: true,
  };
  // A connection of its own per request: minutes may pass between two, and a reused keep-alive
  // socket that the relay closes as the next request goes out resets it (ECONNRESET).
  const chat = () =>
    undiciFetch(`${relay.url}/v1/chat/completions`, {
      dispatcher: track(new Dispatcher({ pipelining: 0 })),
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
  return { relay, client, config, chat };
}

describe('agent self-update', () => {
  it('N → N+1 with a stream in flight: no byte lost, the new process serves, the old one exits', async () => {
    const { current, next } = await bundles();
    const { relay, client, config, chat } = await setup();
    // Updates held back until the stream runs.
    expect((await relay.admin('PUT', `/api/clients/${client.id}/agent-update`, { mode: 'off' })).status).toBe(
      200,
    );
    const oldSession = sessionAt(relay, current.version);
    const agent = runBundle(current, config);
    const old = await Promise.race([
      oldSession,
      agent.exited.then((c) => Promise.reject(new Error(`exited ${c}: ${agent.output()}`))),
    ]);
    expect(old.hello?.autoUpdate).toBe(true);

    const inFlight = await chat();
    expect(inFlight.status).toBe(200);
    const content = streamedContent(inFlight);

    const newSession = sessionAt(relay, NEXT);
    const put = await relay.admin('PUT', `/api/clients/${client.id}/agent-update`, { mode: 'auto' });
    expect(put.json).toEqual({ policy: { mode: 'auto' } });
    const fresh = await newSession;
    expect(fresh.client.id).toBe(client.id);

    expect(await content).toBe(DEFAULT_CHUNKS.join(''));
    expect(await agent.exited).toBe(0);
    expect(agent.output()).toContain('agent update handed over');
    expect(sha256(readFileSync(join(agent.dir, 'arena-agent.mjs')))).toBe(next.sha256);
    // The rotation N+1 carried was followed, and kept for the processes that come after.
    expect(agent.output()).toContain('release key rotated');
    const kept = JSON.parse(readFileSync(join(agent.dir, 'arena-agent.release-keys.json'), 'utf8'));
    expect(kept.map((step: { key: string }) => step.key)).toEqual([built.rotatedKey]);

    const after = await chat();
    expect(await streamedContent(after)).toBe(DEFAULT_CHUNKS.join(''));
    expect([...relay.hub.sessions.values()].map((s) => s.hello?.agentVersion)).toEqual([NEXT]);
  });

  it('pinning: offered only the pinned version, never another', async () => {
    const { current, next } = await bundles();
    const { relay, client, config, chat } = await setup(next);
    await relay.admin('PUT', `/api/clients/${client.id}/agent-update`, {
      mode: 'pin',
      version: current.version,
    });
    const connected = sessionAt(relay, current.version);
    const agent = runBundle(current, config);
    await connected;
    expect(await streamedContent(await chat())).toBe(DEFAULT_CHUNKS.join(''));
    expect(agent.output()).not.toContain('agent update offered');
    const read = await relay.admin('GET', `/api/clients/${client.id}/agent-update`);
    expect(read.json).toEqual({
      policy: { mode: 'pin', version: current.version },
      shipped: { version: NEXT },
    });
    const bad = await relay.admin('PUT', `/api/clients/${client.id}/agent-update`, { mode: 'sometimes' });
    expect(bad.status).toBe(400);
  });

  it('GET /agent/bundle wants a live client token', async () => {
    const { next } = await bundles();
    const { relay, client } = await setup(next);
    expect((await fetch(`${relay.url}/agent/bundle`)).status).toBe(401);
    const wrong = await fetch(`${relay.url}/agent/bundle`, { headers: { authorization: 'Bearer art_nope' } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${relay.url}/agent/bundle`, {
      headers: { authorization: `Bearer ${client.token}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-agent-sha256')).toBe(next.sha256);
    expect(sha256(Buffer.from(await ok.arrayBuffer()))).toBe(next.sha256);
  });
});

/** The agent's `agent update refused` lines, parsed. */
function refusals(output: string): Array<{ level: number; to: string; problem: string }> {
  return output
    .split('\n')
    .filter((line) => line.includes('"agent update refused'))
    .map((line) => JSON.parse(line));
}

describe('a hostile relay cannot make the agent run its code', () => {
  it('its own code or key, tampered fields, an older release: refused at warn under a pushed silent level; N serves on', async () => {
    const { current, next, keyFile } = await bundles();
    // What the relay serves at /agent/bundle: its own code.
    const evil = Buffer.from("import { writeFileSync } from 'node:fs'; writeFileSync('pwned', 'ran');\n");
    const evilBundle = await bundleOf({ code: evil, version: '6.6.6' });
    const { relay, config, chat } = await setup(evilBundle, { agentUpdates: false });
    const connected = sessionAt(relay, current.version);
    // No local log_level: the relay's pushed one applies.
    const { log_level: _, ...integration } = config.platform_integration;
    const agent = runBundle(current, { ...config, platform_integration: integration });
    const session = await connected;
    session.send({ type: 'settings', logLevel: 'silent' });

    const evilRelease = { sha256: evilBundle.sha256, bytes: evil.byteLength };
    const real = { version: NEXT, sha256: next.sha256, bytes: next.code.byteLength };
    const older = { ...real, version: '0.0.9' };
    // A release the operator did sign, of other bytes of the same size as the relay's.
    const genuineSha = sha256(Buffer.alloc(evil.byteLength, ' '));
    const genuine = { version: '0.4.0', sha256: genuineSha, bytes: evil.byteLength };
    const pem = readFileSync(keyFile, 'utf8');
    const other = generateReleaseKey();
    const offers: Array<[UpdateFrame, string]> = [
      [{ type: 'update', version: '0.2.0', ...evilRelease }, 'not signed'],
      [
        {
          type: 'update',
          version: '0.2.1',
          ...evilRelease,
          signature: signRelease(other.privateKeyPem, { version: '0.2.1', ...evilRelease }),
        },
        'does not verify',
      ],
      // The operator's real signature, over other bytes, or another version.
      [
        { type: 'update', version: '0.2.2', ...evilRelease, signature: next.release!.signature },
        'does not verify',
      ],
      [{ type: 'update', ...real, version: '0.3.0', signature: next.release!.signature }, 'does not verify'],
      [{ type: 'update', ...older, signature: signRelease(pem, older) }, 'not newer'],
      // A genuine signed release offered, the relay's own bytes served.
      [{ type: 'update', ...genuine, signature: signRelease(pem, genuine) }, 'SHA-256'],
    ];
    for (const [i, [frame, problem]] of offers.entries()) {
      // As if this relay had offered it: the agent's `update_result` is then kept for the alerts.
      session.updateOffered = frame.version;
      session.send(frame);
      await expect.poll(() => refusals(agent.output()).length, { timeout: 20_000 }).toBe(i + 1);
      expect(refusals(agent.output())[i]).toMatchObject({ level: 40, to: frame.version });
      expect(refusals(agent.output())[i]!.problem).toContain(problem);
      await expect.poll(() => session.updateFailure?.version, { timeout: 20_000 }).toBe(frame.version);
      expect(session.updateFailure).toMatchObject({
        outcome: 'refused',
        reason: expect.stringContaining(problem),
      });
    }

    expect(await streamedContent(await chat())).toBe(DEFAULT_CHUNKS.join(''));
    expect(agent.child.exitCode).toBe(null);
    expect([...relay.hub.sessions.values()].map((s) => s.hello?.agentVersion)).toEqual([current.version]);
    expect(sha256(readFileSync(join(agent.dir, 'arena-agent.mjs')))).toBe(current.sha256);
    expect(readdirSync(agent.dir).sort()).toEqual(['arena-agent.mjs', 'config.jsonc']);
    expect(existsSync(join(agent.dir, 'pwned'))).toBe(false);
  });

  it('a relay without a signed release sends no update frame', async () => {
    const { current, next } = await bundles();
    const { release: _, ...unsigned } = next;
    const { relay, client, config, chat } = await setup(unsigned);
    const send = vi.spyOn(AgentSession.prototype, 'send');
    track({ close: async () => send.mockRestore() });
    const sent = () => send.mock.calls.map(([frame]) => frame.type);
    const connected = sessionAt(relay, current.version);
    const agent = runBundle(current, config);
    expect((await connected).hello?.autoUpdate).toBe(true);
    expect(await streamedContent(await chat())).toBe(DEFAULT_CHUNKS.join(''));
    // The policy change that offers again to a client's agents offers nothing either.
    await relay.admin('PUT', `/api/clients/${client.id}/agent-update`, { mode: 'auto' });
    expect(await streamedContent(await chat())).toBe(DEFAULT_CHUNKS.join(''));
    // What the relay sent this agent after its hello (the settings frame shows the spy works).
    expect(sent()).toContain('settings');
    expect(sent()).not.toContain('update');
    expect((await relay.admin('GET', `/api/clients/${client.id}/agent-update`)).json.shipped).toBe(null);
    expect(agent.output()).not.toContain('agent update');
  });
});
