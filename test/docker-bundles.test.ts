/**
 * What the images run, run here without Docker: the esbuild bundles of `npm run build` started
 * with plain `node` and the environment docker-compose.yml gives them, a completion streamed
 * through both, the HEALTHCHECK script judging each, and a clean exit on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildAll } from '../scripts/build.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { ADMIN_TOKEN } from './support/relay.js';
import { REDIS_TEST_URL, redisAvailable, redisBackend } from './support/store-backends.js';
import { createTestPki } from './support/tls.js';

if (!(await redisAvailable())) throw new Error(`no Redis at ${REDIS_TEST_URL}: start one (see .ci/run)`);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Inside the checkout, so the bundles find node_modules and package.json ("type": "module").
const OUT = join(ROOT, 'dist', `.test-${process.pid}`);

type Compose = { services: Record<string, { environment: Record<string, string> }> };
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Compose;

/** A service's compose environment with `${NAME:-default}` resolved from `values`, then the default. */
function composeEnv(service: string, values: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, raw] of Object.entries(compose.services[service]!.environment)) {
    env[name] = raw.replace(/\$\{(\w+)(?::?-([^}]*)|:?\?[^}]*)?\}/g, (_m, key: string, fallback?: string) => {
      const value = values[key] ?? fallback;
      if (value === undefined) throw new Error(`${service}: ${key} has no value`);
      return value;
    });
  }
  return env;
}

type Program = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** Runs a bundle with exactly `env` (plus PATH), like the image's CMD, until `ready` matches its output. */
async function runBundle(file: string, env: Record<string, string>, ready: RegExp): Promise<Program> {
  const child = spawn(process.execPath, ['--enable-source-maps', join(OUT, file)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  track({
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
        if (ready.test(output)) resolve();
      });
    }
    exited.then(() => reject(new Error(`${file} exited before it was ready:\n${output}`)));
  });
  return { child, output: () => output, exited };
}

/** Runs docker/healthcheck.mjs as the image's HEALTHCHECK would; resolves with its exit code and output. */
function healthcheck(
  target: string,
  env: Record<string, string>,
): Promise<{ code: number | null; text: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'docker/healthcheck.mjs'), target], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, text })));
}

beforeAll(async () => {
  await buildAll(OUT);
});
afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
});

describe('the bundled programs, as the images run them', () => {
  it('relay and agent bundles serve a streamed completion with the compose environment', async () => {
    const redis = redisBackend();
    track({ close: () => redis.dispose() });
    const bridge = track(await startFakeBridge());
    const relayEnv = {
      ...composeEnv('relay-a', { ADMIN_TOKEN, REDIS_PREFIX: redis.prefix }),
      // Loopback and a free port here; the compose values are 0.0.0.0:8787 inside a container.
      HOST: '127.0.0.1',
      PORT: '0',
      REDIS_URL: REDIS_TEST_URL,
    };
    const relay = await runBundle('relay.js', relayEnv, /listening on (http:\/\/\S+)/);
    const relayUrl = /listening on (http:\/\/\S+)/.exec(relay.output())![1]!;
    const port = new URL(relayUrl).port;
    expect(await healthcheck('relay', { PORT: port })).toEqual({ code: 0, text: '' });

    const admin = async (path: string, body: unknown) => {
      const res = await fetch(relayUrl + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { token: string; key: string; client: { id: string } };
    };
    const { token } = await admin('/api/clients', { name: 'bundled agent' });
    const { key } = await admin('/api/keys', { name: 'bundle key' });

    const agentEnv = {
      ...composeEnv('agent', { AGENT_TOKEN: token, AGENT_UPSTREAM_URL: bridge.url }),
      AGENT_RELAY_URL: relayUrl,
      AGENT_STATUS_PORT: '0',
    };
    const agent = await runBundle('bridge-agent.js', agentEnv, /"msg":"connected to the relay"/);
    const statusPort = /"status":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(agent.output())![1]!;
    expect(await healthcheck('agent', { AGENT_STATUS_PORT: statusPort })).toEqual({ code: 0, text: '' });

    const openai = new OpenAI({ baseURL: `${relayUrl}/v1`, apiKey: key, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: 'from the bundles' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_CHUNKS.join(''));
    // The files the relay reads beside its bundle: the dashboard, and the agent of client packages.
    const page = await fetch(`${relayUrl}/dashboard`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    // Another client: a download replaces the token, which would cut the agent above.
    const { client } = await admin('/api/clients', { name: 'packaged bridge' });
    const zip = await fetch(`${relayUrl}/api/clients/${client.id}/download`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(zip.status).toBe(200);
    expect(
      Buffer.from(await zip.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    // Secrets never reach the logs.
    expect(agent.output()).not.toContain(token);
    expect(relay.output()).not.toContain(ADMIN_TOKEN);

    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    // The agent is gone: its health check now fails, saying why.
    const after = await healthcheck('agent', { AGENT_STATUS_PORT: statusPort });
    expect(after.code).toBe(1);
    expect(after.text).toMatch(/^unhealthy: /);
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);
  });

  it('the relay health check speaks HTTPS when TLS_CERT_FILE is set', async () => {
    const pki = createTestPki();
    track({ close: () => pki.close() });
    const env = {
      ADMIN_TOKEN,
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: join(OUT, `data-${Date.now()}`),
      TLS_CERT_FILE: pki.certFile,
      TLS_KEY_FILE: pki.keyFile,
    };
    const relay = await runBundle('relay.js', env, /listening on (https:\/\/\S+)/);
    const port = new URL(/listening on (https:\/\/\S+)/.exec(relay.output())![1]!).port;
    expect(await healthcheck('relay', { PORT: port, TLS_CERT_FILE: pki.certFile })).toEqual({
      code: 0,
      text: '',
    });
    const plain = await healthcheck('relay', { PORT: port });
    expect(plain.code).toBe(1);
  });
});
