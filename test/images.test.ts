/**
 * `POST /v1/images/generations` with the official `openai` client. LMArenaBridge has no images
 * endpoint: an image model answers a chat request with `![Image](<url>)`, which the relay turns
 * into OpenAI's images shape (relay → agent → fake bridge, real servers on loopback).
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { type FakeBridgeOptions, startFakeBridge } from './support/fake-bridge.js';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay } from './support/relay.js';

const URL_1 = 'https://images.lmarena.test/a1b2c3.png';

async function stack(bridgeOptions: FakeBridgeOptions = {}) {
  const bridge = track(await startFakeBridge({ chunks: [`![Image](${URL_1})`], ...bridgeOptions }));
  const relay = await startTestRelay();
  const { token } = await relay.createClient();
  const key = await relay.createKey();
  await startTestAgent(relay.url, token, bridge.url);
  const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key.key, maxRetries: 0 });
  const post = (body: unknown) =>
    fetch(`${relay.url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  return { bridge, relay, key, openai, post };
}

describe('POST /v1/images/generations', () => {
  it('answers the openai client with the image URL the bridge wrote, asking the bridge a chat', async () => {
    const { openai, bridge } = await stack();
    const before = Math.floor(Date.now() / 1000);
    const images = await openai.images.generate({
      model: 'dall-e-3',
      prompt: 'a red fox in snow',
      size: '1024x1024',
    });
    expect(images.data).toEqual([{ url: URL_1 }]);
    expect(images.created).toBeGreaterThanOrEqual(before);
    // What the bridge got: an ordinary non-stream chat request for the image model.
    expect(bridge.requests.at(-1)?.body).toEqual({
      model: 'dall-e-3',
      messages: [{ role: 'user', content: 'a red fox in snow' }],
      stream: false,
    });
  });

  it('returns every image link of the answer, in order', async () => {
    const second = 'https://images.lmarena.test/d4e5f6.webp';
    const { openai } = await stack({ chunks: [`![Image](${URL_1})\n\n`, `![Image 2](${second})`] });
    const images = await openai.images.generate({ model: 'dall-e-3', prompt: 'two foxes' });
    expect(images.data?.map((d) => d.url)).toEqual([URL_1, second]);
  });

  it('502 with what the model said when the answer holds no image', async () => {
    const { post, relay, key } = await stack({ chunks: ['I cannot draw that.'] });
    const res = await post({ model: 'dall-e-3', prompt: 'something' });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body = (await res.json()) as { error: { code: string; message: string; type: string } };
    expect(body.error).toMatchObject({ code: 'upstream_error', type: 'api_error' });
    expect(body.error.message).toContain('I cannot draw that.');
    // Recorded as a failure, with no completion tokens billed.
    const { json } = await relay.admin('GET', `/api/usage?key=${key.id}&group_by=`);
    expect(json.totals).toMatchObject({ requests: 1, succeeded: 0, failed: 1, completion_tokens: 0 });
  });

  it('400 naming the field for what the bridge cannot do or a bad body', async () => {
    const { post, bridge } = await stack();
    const cases: Array<[unknown, string]> = [
      [{ model: 'dall-e-3', prompt: 'x', n: 2 }, 'n'],
      [{ model: 'dall-e-3', prompt: 'x', response_format: 'b64_json' }, 'response_format'],
      [{ model: 'dall-e-3' }, 'prompt'],
      [{ model: 'dall-e-3', prompt: '' }, 'prompt'],
      [{ prompt: 'x' }, 'model'],
    ];
    for (const [body, param] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { param: string; code: string } };
      expect(error, JSON.stringify(body)).toMatchObject({ param, code: 'invalid_request' });
    }
    expect(bridge.requests).toHaveLength(0);
  });

  it('404 for a model no agent serves, 401 without a key, as for chat', async () => {
    const { post, relay } = await stack();
    const unknown = await post({ model: 'no-such-model', prompt: 'x' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
    const anonymous = await fetch(`${relay.url}/v1/images/generations`, {
      method: 'POST',
      body: JSON.stringify({ model: 'dall-e-3', prompt: 'x' }),
    });
    expect(anonymous.status).toBe(401);
  });

  it('records the request in usage like a chat, with the prompt and the answer estimated', async () => {
    const { openai, relay, key } = await stack();
    await openai.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse at dusk' });
    const { json } = await relay.admin('GET', `/api/usage?key=${key.id}&group_by=model`);
    expect(json.groups).toHaveLength(1);
    expect(json.groups[0]).toMatchObject({
      model: 'dall-e-3',
      requests: 1,
      succeeded: 1,
      estimated_requests: 1,
    });
    expect(json.groups[0].prompt_tokens).toBeGreaterThan(0);
    expect(json.groups[0].completion_tokens).toBeGreaterThan(0);
  });
});

describe('an image request whose agent fails after its head', () => {
  it('is retried on another agent: nothing had reached the consumer (the tap answers at the end)', async () => {
    const relay = await startTestRelay();
    const { key } = await relay.createKey();
    const models = ['dall-e-3'];
    const first = await connectRawAgent(relay.url, (await relay.createClient('first')).token, {
      hello: { models },
    });
    const answer = fetch(`${relay.url}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dall-e-3', prompt: 'a fox' }),
    });
    const open = await first.next('open');
    // The second agent joins only now, so the first attempt cannot have gone to it.
    const second = await connectRawAgent(relay.url, (await relay.createClient('second')).token, {
      hello: { models },
    });
    first.head(open.stream, 'application/json');
    first.data(open.stream, '{"choices": [{"message": {"content": "![Ima');
    first.send({ type: 'error', stream: open.stream, code: 'upstream_error', message: 'tab crashed' });
    const retried = await second.next('open');
    second.head(retried.stream, 'application/json');
    second.data(
      retried.stream,
      JSON.stringify({
        choices: [{ index: 0, message: { role: 'assistant', content: `![Image](${URL_1})` } }],
      }),
    );
    second.end(retried.stream);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: unknown }).data).toEqual([{ url: URL_1 }]);
  });
});
