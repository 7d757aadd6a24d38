/**
 * Prompt limits known before sending: an agent that advertises `promptLimitChars` in its hello is
 * sent only prompts that fit, a prompt that fits no agent is the relay's own 400
 * `prompt_too_long` (no bridge round trip, no rate limit, no usage), and the bridge's own
 * "Prompt too long" 400 maps to the same answer. Sizes are CloudWaddie's recorded ones
 * (shared/fixtures/cloudwaddie/atlimit-*.txt, toolong-*.txt: 113 567 accepted, 113 568 refused).
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { connectRawAgent, type RawAgent } from './support/raw-agent.js';
import { startTestRelay, type TestRelay } from './support/relay.js';
import { startTestCluster } from './support/relay-cluster.js';

const LIMIT = 113_567;
const MODEL = 'gpt-5-chat';
/** The body of shared/fixtures/cloudwaddie/toolong-stream.txt, as the agent passes it on. */
const DETAIL =
  '{"detail":"Prompt too long (113568 characters). LMArena has a character limit of approximately 113567 characters. Please reduce the message size."}';

/** A user message of `n` characters (the fixtures' shape: one message, nothing else). */
const prompt = (n: number) => [{ role: 'user' as const, content: 'p'.repeat(n) }];

function chat(relay: TestRelay, key: string, messages: unknown, stream = false) {
  return fetch(`${relay.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, messages, stream }),
  });
}

/** Answers the next stream opened on `agent` with a short JSON completion. */
async function serveOne(agent: RawAgent): Promise<void> {
  const open = await agent.next('open');
  agent.head(open.stream, 'application/json');
  agent.data(
    open.stream,
    JSON.stringify({
      id: 'c',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    }),
  );
  agent.end(open.stream);
}

const opens = (agent: RawAgent) => agent.frames.filter((f) => f.type === 'open').length;

describe('prompt limits', () => {
  it("a prompt over every agent's limit is the relay's 400, counted against nothing", async () => {
    const relay = await startTestRelay();
    const agent = await connectRawAgent(relay.url, (await relay.createClient()).token, {
      hello: { models: [MODEL], promptLimitChars: LIMIT },
    });
    const { status, json } = await relay.admin('POST', '/api/keys', {
      name: 'limited',
      limits: { requests_per_minute: 2 },
    });
    expect(status).toBe(201);
    const key = json.key as string;
    for (const stream of [false, true, false]) {
      const res = await chat(relay, key, prompt(LIMIT + 1), stream);
      expect(res.status).toBe(400);
      // Not counted: no x-ratelimit headers describing an admission that was taken back.
      expect(res.headers.get('x-ratelimit-remaining-requests')).toBeNull();
      const body = (await res.json()) as { error: { code: string; param: string; message: string } };
      expect(body.error).toMatchObject({
        code: 'prompt_too_long',
        param: 'messages',
        type: 'invalid_request_error',
      });
      expect(body.error.message).toContain(`${LIMIT + 1} characters`);
      expect(body.error.message).toContain(`at most ${LIMIT}`);
    }
    expect(opens(agent)).toBe(0);
    // Three refusals later the key still has its two requests of the minute; the one at the
    // limit is sent to the agent.
    const served = serveOne(agent);
    const atLimit = await chat(relay, key, prompt(LIMIT));
    await served;
    expect(atLimit.status).toBe(200);
    expect(atLimit.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    await atLimit.text();
    await expect
      .poll(
        async () => (await relay.admin('GET', `/api/usage?key=${json.id}&group_by=`)).json.totals?.requests,
      )
      .toBe(1);
    // System messages count too, as the bridge counts them ("\n\n" after them): one over…
    const over = await chat(relay, key, [
      { role: 'system', content: 's'.repeat(99) },
      ...prompt(LIMIT - 100),
    ]);
    expect(over.status).toBe(400);
    expect(((await over.json()) as { error: { message: string } }).error.message).toContain(
      `is ${LIMIT + 1} characters`,
    );
    // …and exactly at the limit, served (the key's second request of the minute).
    const fits = serveOne(agent);
    const at = await chat(relay, key, [{ role: 'system', content: 's'.repeat(98) }, ...prompt(LIMIT - 100)]);
    await fits;
    expect(at.status).toBe(200);
    expect(at.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    await at.text();
  });

  it('an agent without a limit (or a larger one) still serves a long prompt; the limited one is skipped', async () => {
    const relay = await startTestRelay({ loadBalancing: 'round_robin' });
    const { key } = await relay.createKey();
    const limited = await connectRawAgent(relay.url, (await relay.createClient('cw')).token, {
      hello: { models: [MODEL], promptLimitChars: LIMIT },
    });
    const larger = await connectRawAgent(relay.url, (await relay.createClient('big')).token, {
      hello: { models: [MODEL], promptLimitChars: 10 * LIMIT },
    });
    for (let i = 0; i < 3; i++) {
      const served = serveOne(larger);
      const res = await chat(relay, key, prompt(LIMIT + 1));
      await served;
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(opens(limited)).toBe(0);
    await larger.close();
    await expect.poll(() => relay.hub.sessions.size).toBe(1);
    const unlimited = await connectRawAgent(relay.url, (await relay.createClient('ollama')).token, {
      hello: { models: [MODEL] },
    });
    const served = serveOne(unlimited);
    const res = await chat(relay, key, prompt(2 * LIMIT));
    await served;
    expect(res.status).toBe(200);
    expect(opens(limited)).toBe(0);
  });

  it('the bridge\'s own "Prompt too long" 400 is the same answer, for the openai and Anthropic clients', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const agent = await connectRawAgent(relay.url, (await relay.createClient()).token, {
      hello: { models: [MODEL] },
    });
    const refuse = async () => {
      const open = await agent.next('open');
      agent.send({
        type: 'error',
        stream: open.stream,
        code: 'upstream_rejected',
        status: 400,
        message: DETAIL,
      });
    };
    const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
    const refused = refuse();
    const error = await openai.chat.completions.create({ model: MODEL, messages: prompt(LIMIT + 1) }).then(
      () => undefined,
      (e: unknown) => e as InstanceType<typeof OpenAI.APIError>,
    );
    await refused;
    expect(error?.status).toBe(400);
    expect(error?.code).toBe('prompt_too_long');
    expect(error?.message).toContain(`${LIMIT + 1} characters`);
    expect(error?.message).toContain(`at most ${LIMIT}`);
    // Through /v1/messages: Anthropic's shape, the same status.
    const again = refuse();
    const res = await fetch(`${relay.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'x'.repeat(LIMIT + 1) }],
      }),
    });
    await again;
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(body.error.message).toContain(`at most ${LIMIT}`);
  });

  it("across relays: a remote agent's limit is known from its relay's advert", async () => {
    const { relays } = await startTestCluster(2);
    const [a, b] = relays as [TestRelay, TestRelay];
    const { key } = await a.createKey();
    const agent = await connectRawAgent(b.url, (await a.createClient()).token, {
      hello: { models: [MODEL], promptLimitChars: LIMIT },
    });
    await expect.poll(() => a.cluster!.remoteAgents()[0]?.promptLimitChars).toBe(LIMIT);
    const res = await chat(a, key, prompt(LIMIT + 1));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('prompt_too_long');
    const served = serveOne(agent);
    const fits = await chat(a, key, prompt(LIMIT));
    await served;
    expect(fits.status).toBe(200);
    expect(opens(agent)).toBe(1);
  });
});
