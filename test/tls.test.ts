/**
 * The relay serving TLS itself (TLS_CERT_FILE / TLS_KEY_FILE): HTTPS and WSS on one port, an
 * agent that verifies the certificate against a private CA given with `--ca`, and the clear,
 * fatal refusal of an agent that does not trust it. Certificates are made for each run.
 */
import { once } from 'node:events';
import { type Agent, createLogger, FatalLinkError, loadConfig, startAgent } from '@arena-relay/bridge-agent';
import OpenAI from 'openai';
import { Agent as Dispatcher, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';
import { createTestPki, type TestPki } from './support/tls.js';

let pki: TestPki;
let otherPki: TestPki;
let misnamedPki: TestPki;
beforeAll(() => {
  pki = createTestPki();
  otherPki = createTestPki({ name: 'Some other CA' });
  misnamedPki = createTestPki({ san: 'DNS:relay.example' });
});
afterAll(() => {
  for (const item of [pki, otherPki, misnamedPki]) item?.close();
});

/**
 * A fetch that trusts the test CA, for the consumer side. The misnamed certificate's relay is set
 * up with the name check skipped: that test is about what the agent does, not the consumer.
 */
function trustingFetch(caPem: string, checkName = true) {
  const connect = checkName ? { ca: caPem } : { ca: caPem, checkServerIdentity: () => undefined };
  const dispatcher = track(new Dispatcher({ connect }));
  return (url: string, init: Parameters<typeof undiciFetch>[1] = {}) =>
    undiciFetch(url, { ...init, dispatcher });
}

/** A relay on https://127.0.0.1:<port> with the test certificate, a client and a key made over HTTPS. */
async function tlsRelay(certs = pki) {
  const relay = await startTestRelay({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
  const fetch = trustingFetch(certs.caPem, certs !== misnamedPki);
  const admin = async (path: string, body: unknown) => {
    const res = await fetch(relay.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${relay.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { token: string; key: string };
  };
  const { token } = await admin('/api/clients', { name: 'tls bridge' });
  const { key } = await admin('/api/keys', { name: 'tls key' });
  /** How many agents the relay's admin API lists, asked over HTTPS. */
  const agents = async () => {
    const res = await fetch(`${relay.url}/api/agents`, {
      headers: { authorization: `Bearer ${relay.adminToken}` },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { agents: unknown[] }).agents.length;
  };
  return { relay, fetch, token, key, agents };
}

/** Starts an agent from the command line `argv` and returns it with its first outcome. */
async function agentOutcome(argv: string[]): Promise<{ agent: Agent; outcome: string | Error }> {
  const config = loadConfig({ argv: [...argv, '--status-port', '-1'], env: {} });
  const agent = track(
    await startAgent(config, {
      logger: createLogger({ level: 'silent' }),
      backoff: { baseMs: 20, capMs: 50 },
    }),
  );
  const outcome = await Promise.race([
    once(agent, 'connected').then(([sessionId]) => String(sessionId)),
    once(agent, 'fatal').then(([error]) => error as Error),
  ]);
  return { agent, outcome };
}

describe('relay serving TLS itself', () => {
  it('answers HTTPS with the test certificate and refuses plain HTTP on the same port', async () => {
    const { relay, fetch } = await tlsRelay();
    expect(relay.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${relay.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    // The system's roots alone do not know the private CA.
    await expect(undiciFetch(`${relay.url}/healthz`)).rejects.toThrow();
    await expect(globalThis.fetch(`${relay.url.replace('https:', 'http:')}/healthz`)).rejects.toThrow();
  });

  it('an agent given --ca connects over WSS and the openai client streams a completion through it', async () => {
    const bridge = track(await startFakeBridge());
    const { relay, fetch, token, key } = await tlsRelay();
    const agent = await startTestAgent(relay.url, token, bridge.url, { caFile: pki.caFile });
    expect(agent.status()).toMatchObject({
      connected: true,
      relay_url: `${relay.url.replace('https:', 'wss:')}/agent/connect`,
    });
    const openai = new OpenAI({
      baseURL: `${relay.url}/v1`,
      apiKey: key,
      maxRetries: 0,
      fetch: fetch as unknown as typeof globalThis.fetch,
    });
    const stream = await openai.chat.completions.create({
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: 'Hello over TLS' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_CHUNKS.join(''));
    expect(bridge.requests.at(-1)?.body).toMatchObject({ messages: [{ content: 'Hello over TLS' }] });
  });

  it('the agent reads --ca from the command line and trusts the system roots as well', async () => {
    const bridge = track(await startFakeBridge());
    const { relay, token, agents } = await tlsRelay();
    const { agent, outcome } = await agentOutcome([
      '--relay',
      relay.url,
      '--token',
      token,
      '--upstream',
      bridge.url,
      '--ca',
      pki.caFile,
    ]);
    expect(typeof outcome).toBe('string');
    expect(agent.status().connected).toBe(true);
    expect(await agents()).toBe(1);
  });

  it('an agent without the CA refuses the relay with a clear, fatal error and sends no token', async () => {
    const bridge = track(await startFakeBridge());
    const { relay, token, agents } = await tlsRelay();
    const { agent, outcome } = await agentOutcome([
      '--relay',
      relay.url,
      '--token',
      token,
      '--upstream',
      bridge.url,
    ]);
    expect(outcome).toBeInstanceOf(FatalLinkError);
    const error = outcome as FatalLinkError;
    expect(error.message).toBe(
      "the relay's TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE): pass --ca <file> (ca_file / AGENT_CA_FILE) for a private CA",
    );
    expect(error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(error.status).toBeUndefined();
    expect(agent.status()).toMatchObject({ connected: false, reconnects: 0 });
    expect(await agents()).toBe(0);
  });

  it('an agent trusting another CA names that CA in the refusal', async () => {
    const bridge = track(await startFakeBridge());
    const { relay, token } = await tlsRelay();
    const { outcome } = await agentOutcome([
      ...['--relay', relay.url, '--token', token, '--upstream', bridge.url],
      ...['--ca', otherPki.caFile],
    ]);
    expect((outcome as Error).message).toBe(
      `the relay's TLS certificate is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE), not even with the CA in ${otherPki.caFile}: check that this CA issued it`,
    );
  });

  it('an address the certificate does not name is refused as such', async () => {
    const bridge = track(await startFakeBridge());
    const { relay, token } = await tlsRelay(misnamedPki);
    const { outcome } = await agentOutcome([
      ...['--relay', relay.url, '--token', token, '--upstream', bridge.url, '--ca', misnamedPki.caFile],
    ]);
    expect((outcome as Error).message).toBe(
      "the relay's TLS certificate is not valid for 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID): use a relay address the certificate names",
    );
  });

  it('given several relays, one with an untrusted certificate is skipped, not fatal', async () => {
    const bridge = track(await startFakeBridge());
    const untrusted = await tlsRelay(otherPki);
    // Its own fetch trusts otherPki; the agent below is given only pki's CA.
    const { relay, token } = await tlsRelay();
    const { agent, outcome } = await agentOutcome([
      ...['--relay', `${untrusted.relay.url},${relay.url}`, '--token', token],
      ...['--upstream', bridge.url, '--ca', pki.caFile],
      // One socket walking the list: the refused relay is passed over for the next one.
      ...['--connections', '1'],
    ]);
    expect(typeof outcome).toBe('string');
    expect(agent.status()).toMatchObject({
      connected: true,
      reconnects: 1,
      relay_url: `${relay.url.replace('https:', 'wss:')}/agent/connect`,
    });
    expect(await untrusted.agents()).toBe(0);
  });
});
