/**
 * Self-update end to end, with real processes: an agent bundle at version N, run with plain node
 * from its own folder, is offered N+1 by the relay while a stream is in flight. The new process
 * connects first, the old one finishes the stream byte-exact and exits, the new one serves the
 * next request and its file now has the running one's name. A bundle that fails its SHA-256 check
 * is refused and N keeps serving.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent as Dispatcher, fetch as undiciFetch } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AgentBundle, buildAgentBundleCode, bundleOf } from '../relay/src/package/agent-bundle.js';
import type { AgentSession } from '../relay/src/tunnel/agent-session.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const NEXT = '0.1.1-next';
let built: { current: AgentBundle; next: AgentBundle };
const bundles = async () => built;
// Two esbuild runs, once for the file (seconds on a busy machine).
beforeAll(async () => {
  const [current, next] = await Promise.all([
    buildAgentBundleCode(),
    buildAgentBundleCode({ version: NEXT }),
  ]);
  built = { current: await bundleOf(current), next: await bundleOf(next) };
}, 120_000);

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

async function setup(shipped: AgentBundle) {
  const bridge = track(await startFakeBridge({ scenario: 'slow', slowDelayMs: 60 }));
  const relay = await startTestRelay({ agentUpdates: true, agentBundle: async () => shipped });
  const client = await relay.createClient();
  const { key } = await relay.createKey();
  const config = {
    platform_integration: { platform_url: relay.url, api_key: client.token, log_level: 'info' },
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
    const { relay, client, config, chat } = await setup(next);
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
    expect(readFileSync(join(agent.dir, 'arena-agent.mjs'))).toEqual(Buffer.from(next.code));

    const after = await chat();
    expect(await streamedContent(after)).toBe(DEFAULT_CHUNKS.join(''));
    expect([...relay.hub.sessions.values()].map((s) => s.hello?.agentVersion)).toEqual([NEXT]);
  });

  it('a bundle that fails its SHA-256 check is refused and N keeps serving', async () => {
    const { current, next } = await bundles();
    const { relay, config, chat } = await setup({ ...next, sha256: 'f'.repeat(64) });
    const oldSession = sessionAt(relay, current.version);
    const agent = runBundle(current, config);
    await oldSession;
    await expect.poll(agent.output, { timeout: 20_000 }).toContain('agent update refused');
    expect(agent.output()).toContain('SHA-256');
    expect(await streamedContent(await chat())).toBe(DEFAULT_CHUNKS.join(''));
    expect(agent.child.exitCode).toBe(null);
    expect([...relay.hub.sessions.values()].map((s) => s.hello?.agentVersion)).toEqual([current.version]);
    expect(readFileSync(join(agent.dir, 'arena-agent.mjs'))).toEqual(Buffer.from(current.code));
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
    expect(Buffer.from(await ok.arrayBuffer())).toEqual(Buffer.from(next.code));
  });
});
