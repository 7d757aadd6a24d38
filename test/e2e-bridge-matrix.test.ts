/**
 * The bridge of 2026 end to end: relay + agent + a fake bridge replaying CloudWaddie's recordings,
 * through the openai SDK (WebAI2API and OpenAI-compatible servers: e2e-bridge-dialects.test.ts). Two
 * kinds of agent: the current one, and an old one that passes a 2xx through whatever is in it
 * (support/passthrough-agent.ts): whatever the agent, no failure reaches a consumer as success.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import {
  agentFor,
  ask,
  cloudWaddie,
  FIXTURES,
  MODEL,
  recordedContent,
  relayWithKey,
} from './support/bridge-matrix.js';
import { track } from './support/cleanup.js';
import { recording } from './support/cloudwaddie-recordings.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { CLOUDWADDIE_KEY, CLOUDWADDIE_MODELS } from './support/fake-bridge-cloudwaddie.js';
import { startPassthroughAgent } from './support/passthrough-agent.js';

const fixtureCases = FIXTURES.map(([scenario, stream, rec]) => ({
  name: `${scenario} (${stream ? 'streamed' : 'not streamed'}, ${rec.status})`,
  scenario,
  stream,
  rec,
}));

describe.each(['old', 'current'] as const)('every CloudWaddie recording, %s agent', (kind) => {
  it('no consumer ever receives a 200 with no content and no error; content arrives whole', async () => {
    // One agent meets every failure: neither the relay's cooldown nor the agent's reason holds may
    // take it out for long, so that each recording really reaches the consumer's request.
    const { relay, client } = await relayWithKey({ retryAttempts: 0, cooldownFailures: 100, cooldownMs: 1 });
    const bridge = await cloudWaddie({ timeScale: 0.002 });
    const base = kind === 'old' ? bridge.baseUrl : bridge.url;
    /** One more agent on the bridge: the current one holds a bridge-wide reason for 10–30 s. */
    const addAgent = async () => {
      const { token } = await relay.createClient();
      if (kind === 'old') {
        const models = [...CLOUDWADDIE_MODELS];
        await startPassthroughAgent(relay.url, token, {
          upstream: base,
          models,
          authorization: `Bearer ${CLOUDWADDIE_KEY}`,
        });
      } else {
        await startTestAgent(relay.url, token, base, {
          upstreamApiKey: CLOUDWADDIE_KEY,
          bridge: 'lmarenabridge-cw',
        });
      }
    };
    // A spare for each bridge-wide failure the current agent holds, started at once (no waits later).
    await Promise.all(Array.from({ length: kind === 'old' ? 1 : 20 }, addAgent));
    const ready = async () => {
      const { json } = await relay.admin('GET', '/api/agents');
      const agents = json.agents as Array<{ ready: boolean; connected?: boolean }>;
      return agents.some((row) => row.ready);
    };
    const readyWithin = (ms: number) =>
      expect
        .poll(ready, { timeout: ms })
        .toBe(true)
        .then(
          () => true,
          () => false,
        );
    const wrong: string[] = [];
    const failures: string[] = [];
    // Answers first, then failures (each may take a bridge-wide reason for a moment).
    const ordered = [...fixtureCases].sort(
      (a, b) => Number(recordedContent(a.rec) === '') - Number(recordedContent(b.rec) === ''),
    );
    for (const { name, scenario, stream, rec } of ordered) {
      if (!(await readyWithin(200))) await addAgent();
      await expect.poll(ready, { timeout: 5000 }).toBe(true);
      const expected = recordedContent(rec);
      const outcome = await ask(client, `fixture:${scenario}`, stream);
      if (expected !== '') {
        if (!outcome.ok || outcome.text !== expected) wrong.push(`${name}: ${JSON.stringify(outcome)}`);
        continue;
      }
      failures.push(name);
      if (outcome.ok) wrong.push(`${name}: a success with ${JSON.stringify(outcome.text)}`);
      else if (!outcome.status || outcome.status < 400) wrong.push(`${name}: no status (${outcome.message})`);
      else if (/no bridge serving/.test(outcome.message))
        wrong.push(`${name}: never reached (${outcome.message})`);
    }
    expect(wrong).toEqual([]);
    // The matrix covers what the issue lists: every failure kind, recorded both ways.
    expect(failures.length).toBeGreaterThanOrEqual(30);
  }, 60_000);
});

describe('v2.7.6 with an old agent: its in-band failures are failures too', () => {
  it('a bare stop, an in-band error chunk, a reCAPTCHA failure: errors streamed or not; an answer passes', async () => {
    const { relay, client } = await relayWithKey({ retryAttempts: 0, cooldownFailures: 100 });
    const bridge = track(await startFakeBridge({ models: ['gpt-5'] }));
    const { token } = await relay.createClient();
    await startPassthroughAgent(relay.url, token, { upstream: `${bridge.url}/v1`, models: ['gpt-5'] });
    for (const scenario of ['empty', 'error', 'recaptcha', 'ok'] as const) {
      bridge.scenario = scenario;
      for (const stream of [true, false]) {
        const outcome = await ask(client, 'hi', stream, 'gpt-5');
        if (scenario === 'ok') expect(outcome).toEqual({ ok: true, text: DEFAULT_CHUNKS.join('') });
        else expect(outcome, `${scenario} streamed ${stream}`).toMatchObject({ ok: false, status: 502 });
      }
    }
  });
});

describe("the right status for each recorded failure (old agent: the relay decides alone; the bridge's prompt-too-long 400 is the relay's own prompt_too_long)", () => {
  it.each([
    ['429', true, 503, 'upstream_unavailable'],
    ['429', false, 503, 'upstream_unavailable'],
    ['403recaptcha', true, 503, 'upstream_unavailable'],
    ['403cf', false, 503, 'upstream_unavailable'],
    ['401', true, 503, 'upstream_unavailable'],
    ['empty', true, 502, 'upstream_error'],
    ['a3only', false, 502, 'upstream_error'],
    ['500', true, 502, 'upstream_error'],
    ['direct-workerbusy-second', false, 502, 'upstream_error'],
    ['toolong', true, 400, 'prompt_too_long'],
    ['unknownmodel', false, 404, 'upstream_rejected'],
    ['wrongkey', true, 401, 'upstream_rejected'],
  ] as const)('%s (streamed %s): %i %s', async (scenario, stream, status, code) => {
    const { relay } = await relayWithKey({ retryAttempts: 0 });
    const key = await relay.createKey();
    const bridge = await cloudWaddie();
    await agentFor('old', relay, bridge.baseUrl, [MODEL]);
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        stream,
        messages: [{ role: 'user', content: `fixture:${scenario}` }],
      }),
    });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: { code: string; message: string; type: string } };
    expect(body.error).toMatchObject({ code, type: expect.any(String), message: expect.any(String) });
  });
});

describe('the current agent names each recorded failure: /api/agents and its status page', () => {
  it.each([
    ['401', true, 'auth_token_expired'],
    ['403recaptcha', true, 'recaptcha_failed'],
    ['403cf', false, 'cloudflare_challenge'],
    ['429', true, 'upstream_rate_limited'],
    ['mintfail', false, 'recaptcha_mint_failed'],
  ] as const)('%s (streamed %s): 503 to the consumer, %s shown', async (scenario, stream, code) => {
    const { relay, client } = await relayWithKey({ retryAttempts: 0 });
    const bridge = await cloudWaddie();
    const { token } = await relay.createClient();
    const agent = await startTestAgent(relay.url, token, bridge.url, {
      upstreamApiKey: CLOUDWADDIE_KEY,
      bridge: 'lmarenabridge-cw',
      statusPort: 0,
    });
    expect(await ask(client, `fixture:${scenario}`, stream)).toMatchObject({ ok: false, status: 503 });
    const row = async () => (await relay.admin('GET', '/api/agents')).json.agents[0];
    await expect.poll(async () => (await row()).ready_code, { timeout: 3000 }).toBe(code);
    expect(await row()).toMatchObject({ ready: false, bridge: 'lmarenabridge-cw' });
    expect(await (await fetch(`${agent.statusUrl}/`)).text()).toContain(code);
  });
});

describe('one browser worker (the concurrency recordings)', () => {
  it('three chats at once on one CloudWaddie bridge are all served whole', async () => {
    const { relay, client } = await relayWithKey();
    const bridge = await cloudWaddie({ timeScale: 0.01 });
    const { token } = await relay.createClient();
    await startTestAgent(relay.url, token, bridge.url, {
      upstreamApiKey: CLOUDWADDIE_KEY,
      bridge: 'lmarenabridge-cw',
    });
    const [first, second, third] = await Promise.all([
      ask(client, 'fixture:concurrent1-slow', false),
      ask(client, 'fixture:concurrent2-slow', false),
      ask(client, 'fixture:concurrent1-finish', true),
    ]);
    expect(first).toEqual({ ok: true, text: recordedContent(recording('concurrent1-slow-nonstream')) });
    expect(second).toEqual({ ok: true, text: recordedContent(recording('concurrent2-slow-nonstream')) });
    expect(third).toEqual({ ok: true, text: recordedContent(recording('concurrent1-finish-stream')) });
    // Nobody gave up waiting for the one worker (the second chat queued, it was not cut).
    expect(bridge.requests.filter((request) => request.closedEarly)).toEqual([]);
  });
});

describe('what a failure in a 200 benches (old agent: the relay decides alone)', () => {
  it('an empty answer benches the model on that agent; a 429 or a 403 benches the agent', async () => {
    const { relay, client } = await relayWithKey({
      retryAttempts: 0,
      cooldownFailures: 2,
      cooldownMs: 60_000,
    });
    const bridge = await cloudWaddie();
    const other = 'claude-opus-4-1-20250805';
    await agentFor('old', relay, bridge.baseUrl, [MODEL, other]);
    const row = async () => (await relay.admin('GET', '/api/agents')).json.agents[0];
    for (const stream of [true, false]) {
      expect(await ask(client, 'fixture:empty', stream)).toMatchObject({ ok: false, status: 502 });
    }
    expect(await row()).toMatchObject({ cooldown: null });
    // gpt-5-chat is benched on the agent: no other serves it; the other model still is.
    expect(await ask(client, 'fixture:text', true)).toMatchObject({ ok: false, status: 503 });
    expect(await ask(client, 'fixture:text', true, other)).toMatchObject({ ok: true });
    for (const scenario of ['429', '403recaptcha']) {
      expect(await ask(client, `fixture:${scenario}`, true, other)).toMatchObject({ ok: false, status: 503 });
    }
    expect((await row()).cooldown).toMatchObject({ benched: true });
  });
});

describe('two agents, one failing every recorded way', () => {
  it.each(['old', 'current'] as const)(
    'every consumer answer is served whole by the other (%s agent failing)',
    async (kind) => {
      const { relay, client } = await relayWithKey({
        loadBalancing: 'round_robin',
        retryAttempts: 1,
        // Keep the failing agent in rotation: every request may meet it first.
        cooldownFailures: 100,
      });
      const failing = await cloudWaddie({ timeScale: 0.002 });
      await agentFor(kind, relay, kind === 'old' ? failing.baseUrl : failing.url, [MODEL], {
        bridge: 'lmarenabridge-cw',
      });
      const good = track(await startFakeBridge({ models: [MODEL] }));
      const { token } = await relay.createClient();
      await startTestAgent(relay.url, token, good.url);
      const whole = DEFAULT_CHUNKS.join('');
      const failures = fixtureCases.filter(({ rec }) => rec.status === 200 && recordedContent(rec) === '');
      const outcomes = await Promise.all(
        failures.map(async ({ name, scenario, stream }) => ({
          name,
          outcome: await ask(client, `fixture:${scenario}`, stream),
        })),
      );
      expect(outcomes.filter(({ outcome }) => !outcome.ok || outcome.text !== whole)).toEqual([]);
      // The failing agent was met, and every time it failed the answer came from the other.
      const met = failing.requests.filter((request) => request.raw.includes('fixture:')).length;
      expect(met).toBeGreaterThanOrEqual(3);
    },
    60_000,
  );
});

describe('keep-alives then an error, with the relay’s early 200', () => {
  it('15 s of keep-alives then an error (played fast): the consumer gets keep-alives, then an error event and a clean end', async () => {
    const { relay } = await relayWithKey({ retryAttempts: 0, sseKeepAliveMs: 20 });
    const key = await relay.createKey();
    // 403cf-stream: 19 keep-alives over 15.96 s, then the error: 160 ms at 0.01.
    const bridge = await cloudWaddie({ timeScale: 0.01 });
    await agentFor('old', relay, bridge.baseUrl, [MODEL]);
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        stream: true,
        messages: [{ role: 'user', content: 'fixture:403cf' }],
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith(': keep-alive\n\n')).toBe(true);
    const events = text.split('\n\n').filter((event) => event !== '');
    const comments = events.filter((event) => event.startsWith(':'));
    expect(comments.length).toBeGreaterThanOrEqual(3);
    const data = events.filter((event) => event.startsWith('data:'));
    expect(data).toHaveLength(1);
    expect(JSON.parse(data[0]!.slice(5))).toMatchObject({ error: { code: 'upstream_unavailable' } });
    // And through the SDK: an APIError, never an empty success.
    const client = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key.key, maxRetries: 0 });
    const outcome = await ask(client, 'fixture:403cf', true);
    expect(outcome.ok).toBe(false);
  });

  it('after the early 200, a failure before content is still retried: the other agent answers in the same stream', async () => {
    const { relay, client } = await relayWithKey({
      retryAttempts: 1,
      sseKeepAliveMs: 20,
      cooldownFailures: 100,
    });
    // 429-stream: ten keep-alives over 9.3 s, then the error: 930 ms at 0.1, time for a second agent.
    const failing = await cloudWaddie({ timeScale: 0.1 });
    const { token } = await relay.createClient();
    const failingAgent = await startPassthroughAgent(relay.url, token, {
      upstream: failing.baseUrl,
      models: [MODEL],
      authorization: `Bearer ${CLOUDWADDIE_KEY}`,
    });
    const pending = ask(client, 'fixture:429', true);
    await expect.poll(() => failingAgent.opened.length).toBe(1);
    const good = track(await startFakeBridge({ models: [MODEL] }));
    await startTestAgent(relay.url, (await relay.createClient()).token, good.url);
    expect(await pending).toEqual({ ok: true, text: DEFAULT_CHUNKS.join('') });
  });
});
