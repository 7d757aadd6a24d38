/**
 * An owner whose network lets traffic out only through a proxy: the agent dials the relay through
 * a real HTTP CONNECT proxy and a real SOCKS5 server, serves a consumer end to end, and the relay
 * sees the proxy's address. The relay's name (`relay.test`) resolves only inside the proxy, so a
 * served request proves the way went through it. A proxy that wants credentials refuses without
 * them, and says so in words; a dead proxy is a clear error and a backoff, never a crash; the proxy
 * password appears in no log line.
 */

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type Agent,
  type AgentConfig,
  createLogger,
  loadConfig,
  startAgent,
} from '@arena-relay/bridge-agent';
import OpenAI from 'openai';
import { Agent as UndiciAgent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../bridge-agent/src/commands/doctor.js';
import { proxyFor } from '../bridge-agent/src/config/proxy-url.js';
import { ok } from '../bridge-agent/src/doctor/check-line.js';
import { commandContext } from '../bridge-agent/src/test-support/command-context.js';
import { lineSink } from '../bridge-agent/src/test-support/line-sink.js';
import { generateReleaseKey, signRelease } from '../bridge-agent/src/update/release-signature.js';
import { ReleaseTrust } from '../bridge-agent/src/update/release-trust.js';
import { HANDOVER_READY, type NextProcess, SelfUpdate } from '../bridge-agent/src/update/self-update.js';
import { buildAgentBundleCode } from '../relay/src/package/agent-bundle.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import {
  PROXY_EGRESS,
  type ProxyOptions,
  startConnectProxy,
  startSocks5Proxy,
  type TestProxy,
} from './support/proxies.js';
import { startTestRelay } from './support/relay.js';
import { createTestPki, type TestPki } from './support/tls.js';

const PASSWORD = 'pr0xy-PASS-marker-7c1e';
/** Runs a program; its stdout, whatever its exit code (doctor exits 1 on the plain ws:// relay here). */
const run = (program: string, args: string[]) =>
  promisify(execFile)(program, args).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
const HOSTS = { 'relay.test': '127.0.0.1' };

const KINDS: [string, (options: ProxyOptions) => Promise<TestProxy>][] = [
  ['HTTP CONNECT', startConnectProxy],
  ['SOCKS5', startSocks5Proxy],
];

/** `scheme://user:pass@host:port` from a proxy's plain URL. */
function withCredentials(url: string, user: string, pass: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = pass;
  return parsed.href.replace(/\/$/, '');
}

/** Relay, bridge, and the relay's address as only the proxy can resolve it. */
async function relayBehindName() {
  const bridge = track(await startFakeBridge());
  const relay = await startTestRelay();
  const { token } = await relay.createClient();
  const { key } = await relay.createKey();
  const hidden = relay.url.replace('127.0.0.1', 'relay.test');
  return { bridge, relay, token, key, hidden };
}

/** Log lines an agent writes, as text. */
function logSink() {
  const { lines, destination } = lineSink();
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

/** An agent that is not expected to connect (startTestAgent waits for `connected`). */
async function startUnconnected(
  relayUrl: string,
  token: string,
  upstream: string,
  overrides: Partial<AgentConfig>,
  logger: ReturnType<typeof createLogger>,
): Promise<Agent> {
  const config: AgentConfig = {
    ...loadConfig({
      argv: ['--relay', relayUrl, '--token', token, '--upstream', upstream, '--status-port', '-1'],
      env: {},
    }),
    ...overrides,
  };
  return track(await startAgent(config, { logger, backoff: { baseMs: 20, capMs: 100 } }));
}

describe.each(KINDS)('agent through a %s proxy', (kind, start) => {
  it('serves a consumer end to end; the relay sees the proxy address; credentials work', async () => {
    const { bridge, relay, token, key, hidden } = await relayBehindName();
    const proxy = track(await start({ hosts: HOSTS, auth: { user: 'owner', pass: PASSWORD } }));
    const { lines, logger } = logSink();
    const proxyUrl = withCredentials(proxy.url, 'owner', PASSWORD);
    await startTestAgent(hidden, token, bridge.url, { proxyUrl }, { logger });

    const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'gpt-5',
      messages: [{ role: 'user', content: `through ${kind}` }],
    });
    expect(answer.choices[0]?.message.content).toBe(DEFAULT_CHUNKS.join(''));
    expect(proxy.tunnels).toContain(`relay.test:${new URL(relay.url).port}`);
    const { json } = await relay.admin('GET', '/api/agents');
    expect(json.agents).toHaveLength(1);
    expect(json.agents[0].remote_address).toContain(PROXY_EGRESS);
    // The start says which proxy, masked; no line holds the password.
    // The start says which proxy; the log names it by host only (userinfo redacted); no line holds the password.
    expect(lines.join('')).toContain('[redacted]@127.0.0.1');
    expect(lines.join('')).not.toContain(PASSWORD);
  });

  it('a proxy that wants credentials refuses without them, in words, and the agent keeps trying', async () => {
    const { bridge, token, hidden } = await relayBehindName();
    const proxy = track(await start({ hosts: HOSTS, auth: { user: 'owner', pass: PASSWORD } }));
    const { lines, logger } = logSink();
    const wrong = withCredentials(proxy.url, 'owner', `${PASSWORD}-wrong`);
    for (const proxyUrl of [proxy.url, wrong]) {
      const agent = await startUnconnected(hidden, token, bridge.url, { proxyUrl }, logger);
      await expect.poll(() => agent.status().reconnects, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
      expect(agent.status().connected).toBe(false);
      await agent.close();
    }
    expect(proxy.refused).toBeGreaterThanOrEqual(3);
    const text = lines.join('');
    // Without credentials, then with a wrong password: each said in words.
    if (kind === 'SOCKS5') {
      expect(text).toMatch(/socks5h:\/\/127\.0\.0\.1:\d+ \(from proxy_url\) asks for credentials/);
      expect(text).toMatch(
        /socks5h:\/\/\[redacted\]@127\.0\.0\.1:\d+ \(from proxy_url\) refused the credentials/,
      );
    } else {
      expect(text).toMatch(/http:\/\/127\.0\.0\.1:\d+ \(from proxy_url\) asks for credentials \(407\)/);
      expect(text).toMatch(
        /http:\/\/\[redacted\]@127\.0\.0\.1:\d+ \(from proxy_url\) asks for credentials \(407\)/,
      );
    }
    expect(text).not.toContain(PASSWORD);
  });
});

describe('agent proxy settings', () => {
  it('takes ALL_PROXY from the environment when proxy_url is not set', async () => {
    const { bridge, relay, token, key, hidden } = await relayBehindName();
    const proxy = track(await startSocks5Proxy({ hosts: HOSTS }));
    const config = loadConfig({
      argv: ['--relay', hidden],
      env: { AGENT_TOKEN: token, ALL_PROXY: proxy.url },
    });
    await startTestAgent(hidden, token, bridge.url, { proxyEnv: config.proxyEnv });
    const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
    const answer = await openai.chat.completions.create({
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.choices[0]?.message.content).toBe(DEFAULT_CHUNKS.join(''));
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('a dead proxy: a clear error naming it, backoff between tries, the agent stays up', async () => {
    const { bridge, token, hidden } = await relayBehindName();
    const dead = await startConnectProxy();
    await dead.close();
    const { lines, logger } = logSink();
    const agent = await startUnconnected(
      hidden,
      token,
      bridge.url,
      { proxyUrl: withCredentials(dead.url, 'owner', PASSWORD) },
      logger,
    );
    await expect.poll(() => agent.status().reconnects, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    const downs = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === 'relay link down: reconnecting');
    expect(downs[0].reason).toBe(
      `cannot reach the proxy http://[redacted]@127.0.0.1:${dead.port} (from proxy_url) (ECONNREFUSED): check the proxy address, or that the proxy runs`,
    );
    expect(downs.every((entry) => typeof entry.delayMs === 'number')).toBe(true);
    expect(lines.join('')).not.toContain(PASSWORD);
    expect(agent.status().connected).toBe(false);
  });

  it('never proxies a loopback relay, even with proxy_url set', async () => {
    const { bridge, relay, token } = await relayBehindName();
    const proxy = track(await startConnectProxy());
    await startTestAgent(relay.url, token, bridge.url, { proxyUrl: proxy.url });
    expect(proxy.tunnels).toEqual([]);
  });
});

describe.each(KINDS)('TLS to the relay through a %s proxy', (_kind, start) => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki({ san: 'DNS:relay.test' });
  });
  afterAll(() => pki.close());

  it('the wss link trusts the private CA end to end: the proxy only carries the tunnel', async () => {
    const relay = await startTestRelay({ tls: { certFile: pki.certFile, keyFile: pki.keyFile } });
    const dispatcher = new UndiciAgent({ connect: { ca: pki.caPem, servername: 'relay.test' } });
    const res = await undiciFetch(`${relay.url}/api/clients`, {
      method: 'POST',
      dispatcher,
      headers: { authorization: `Bearer ${relay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tls via proxy' }),
    });
    const { token } = (await res.json()) as { token: string };
    await dispatcher.close();
    const bridge = track(await startFakeBridge());
    const proxy = track(await start({ hosts: HOSTS }));
    const hidden = relay.url.replace('127.0.0.1', 'relay.test');
    const agent = await startTestAgent(hidden, token, bridge.url, {
      proxyUrl: proxy.url,
      caFile: pki.caFile,
    });
    expect(agent.status().connected).toBe(true);
    expect(proxy.tunnels).toEqual([`relay.test:${new URL(relay.url).port}`]);
  });

  it('the self-update download goes through the proxy, with the relay certificate checked', async () => {
    const code = Buffer.from('// Arena Relay bridge agent 9.9.9, bundled\n');
    const asked: string[] = [];
    const server = createHttpsServer(
      { cert: readFileSync(pki.certFile), key: readFileSync(pki.keyFile) },
      (req, res) => {
        asked.push(`${req.url} ${req.headers.authorization}`);
        res.writeHead(200).end(code);
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const port = (server.address() as AddressInfo).port;
    const proxy = track(await start({ hosts: HOSTS, auth: { user: 'owner', pass: PASSWORD } }));
    const proxyUrl = withCredentials(proxy.url, 'owner', PASSWORD);
    const dir = mkdtempSync(join(tmpdir(), 'arena-proxy-update-'));
    const entry = join(dir, 'arena-agent.mjs');
    writeFileSync(entry, 'old');
    // Only a signed release is fetched at all (issue 19): sign this one with a key the agent pins.
    const release = generateReleaseKey();
    const update = new SelfUpdate({
      entry,
      trust: await ReleaseTrust.load(release.publicKey, join(dir, 'keys.json')),
      currentVersion: '0.1.0',
      token: 'art_token',
      ca: [pki.caPem],
      proxyFor: (url) => proxyFor(url, proxyUrl),
      logger: createLogger({ level: 'silent' }),
      start: () => {
        const next = new EventEmitter() as EventEmitter & NextProcess;
        Object.assign(next, { kill() {}, release() {} });
        queueMicrotask(() => next.emit('message', { type: HANDOVER_READY }));
        return next;
      },
      handOver: () => {},
    });
    const signed = {
      version: '9.9.9',
      bytes: code.byteLength,
      sha256: createHash('sha256').update(code).digest('hex'),
    };
    const offer = {
      type: 'update' as const,
      ...signed,
      signature: signRelease(release.privateKeyPem, signed),
    };
    expect(await update.offer(offer, `wss://relay.test:${port}/agent/connect`)).toBe('handed-over');
    expect(asked).toEqual(['/agent/bundle Bearer art_token']);
    expect(proxy.tunnels).toEqual([`relay.test:${port}`]);
    expect(readFileSync(entry)).toEqual(code);
  });
});

describe('doctor with a proxy', () => {
  /** Runs doctor's checks with `argv` and `env`; returns its lines. */
  async function doctor(argv: string[], env: Record<string, string> = {}): Promise<string[]> {
    const out: string[] = [];
    await runDoctor(commandContext(out, { argv, env }), {
      serveProbe: async () => ok('bridge serves', 'probe skipped'),
      relayTimeoutMs: 5_000,
    });
    return out;
  }

  it('says which proxy is used and that the relay answers through it; the password is never printed', async () => {
    const { bridge, token, hidden } = await relayBehindName();
    const proxy = track(await startConnectProxy({ hosts: HOSTS, auth: { user: 'owner', pass: PASSWORD } }));
    const out = await doctor(['--relay', hidden, '--token', token, '--upstream', bridge.url], {
      HTTPS_PROXY: 'http://unused:1',
      http_proxy: withCredentials(proxy.url, 'owner', PASSWORD),
    });
    expect(out).toContain(
      `ok    proxy: http://***@127.0.0.1:${proxy.port} (from http_proxy): the relay answers through it`,
    );
    expect(out).toContainEqual(expect.stringMatching(/^ok\s+token: accepted/));
    expect(out.join('\n')).not.toContain(PASSWORD);
  });

  it('a dead proxy and a proxy refusing the credentials each fail with the fix', async () => {
    const { bridge, token, hidden } = await relayBehindName();
    const dead = await startConnectProxy();
    await dead.close();
    const argv = ['--relay', hidden, '--token', token, '--upstream', bridge.url];
    const down = await doctor([...argv, '--proxy', withCredentials(dead.url, 'owner', PASSWORD)]);
    expect(down).toContainEqual(
      expect.stringMatching(
        /^fail {2}proxy: cannot reach the proxy http:\/\/\*\*\*@127\.0\.0\.1:\d+ \(from proxy_url\) \(ECONNREFUSED\).* -> check proxy_url/,
      ),
    );
    const proxy = track(await startSocks5Proxy({ hosts: HOSTS, auth: { user: 'owner', pass: PASSWORD } }));
    const refused = await doctor([...argv, '--proxy', withCredentials(proxy.url, 'owner', 'wrong')]);
    expect(refused).toContainEqual(
      expect.stringMatching(/^fail {2}proxy: .*refused the credentials.* -> check proxy_url/),
    );
    expect([...down, ...refused].join('\n')).not.toContain(PASSWORD);
  });

  it('without a proxy, says the relays are dialled directly', async () => {
    const { bridge, relay, token } = await relayBehindName();
    const out = await doctor(['--relay', relay.url, '--token', token, '--upstream', bridge.url]);
    expect(out).toContainEqual(expect.stringMatching(/^ok {4}proxy: none: relays are dialled directly/));
    const exempt = await doctor(['--relay', relay.url, '--token', token, '--upstream', bridge.url], {
      HTTPS_PROXY: 'http://proxy:1',
    });
    expect(exempt).toContainEqual(
      expect.stringMatching(/^ok {4}proxy: none used: every relay is on this machine/),
    );
  });
});

describe('the single-file agent bundle with the proxy libraries', () => {
  it('builds, and its doctor reaches the relay through each proxy kind', async () => {
    const { code } = await buildAgentBundleCode();
    const dir = mkdtempSync(join(tmpdir(), 'arena-proxy-bundle-'));
    const file = join(dir, 'arena-agent.mjs');
    writeFileSync(file, code);
    const { bridge, token, hidden } = await relayBehindName();
    for (const [, start] of KINDS) {
      const proxy = track(await start({ hosts: HOSTS, auth: { user: 'owner', pass: PASSWORD } }));
      const proxyUrl = withCredentials(proxy.url, 'owner', PASSWORD);
      const { stdout } = await run(process.execPath, [
        file,
        'doctor',
        ...['--relay', hidden, '--token', token, '--upstream', bridge.url, '--proxy', proxyUrl],
      ]);
      expect(stdout).toMatch(
        /^ok {4}proxy: .*\*\*\*@127\.0\.0\.1:\d+ \(from proxy_url\): the relay answers through it$/m,
      );
      expect(stdout).toMatch(/^ok {4}token: accepted/m);
      expect(stdout).not.toContain(PASSWORD);
      expect(proxy.tunnels).toHaveLength(1);
    }
  }, 30_000);
});

describe('a hostile or broken proxy', () => {
  /** A TCP server that treats each connection with `behave`. */
  async function rawProxy(behave: (socket: Socket) => void, scheme = 'http'): Promise<string> {
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      behave(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    track({
      close: () => {
        for (const socket of sockets) socket.destroy();
        return new Promise<void>((resolve) => server.close(() => resolve()));
      },
    });
    return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it.each([
    ['accepts and says nothing', (_socket: Socket) => {}, /did not open the tunnel within 0\.3 s/],
    ['SOCKS: accepts and says nothing', (_socket: Socket) => {}, /did not open the tunnel within 0\.3 s/],
    [
      'streams an answer that never ends',
      (socket: Socket) => {
        const junk = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (!socket.destroyed && socket.write(junk));
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      },
      /sent an answer without end/,
    ],
    [
      'speaks something else',
      (socket: Socket) => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'),
      /does not speak HTTP CONNECT/,
    ],
  ])('%s: a bounded, clear error and a retry, never a hang', async (what, behave, said) => {
    const { bridge, token, hidden } = await relayBehindName();
    const proxyUrl = await rawProxy(behave, what.startsWith('SOCKS') ? 'socks5h' : 'http');
    const { lines, logger } = logSink();
    const config: AgentConfig = {
      ...loadConfig({
        argv: ['--relay', hidden, '--token', token, '--upstream', bridge.url, '--status-port', '-1'],
        env: {},
      }),
      proxyUrl,
    };
    const agent = track(
      await startAgent(config, { logger, backoff: { baseMs: 20, capMs: 50 }, welcomeTimeoutMs: 300 }),
    );
    await expect.poll(() => agent.status().reconnects, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    const downs = lines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === 'relay link down: reconnecting');
    expect(downs[0].reason).toMatch(said);
  });
});
