/**
 * End to end with the official `openai` client: consumer → relay → agent → fake LMArenaBridge,
 * all real servers on loopback.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, type FakeBridgeOptions, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay, type TestRelayOptions } from './support/relay.js';

const TEXT = DEFAULT_CHUNKS.join('');

/** relay + one agent + fake bridge, and an openai client with a fresh key. */
async function stack(options: { relay?: TestRelayOptions; bridge?: FakeBridgeOptions } = {}) {
  const bridge = track(await startFakeBridge(options.bridge));
  const relay = await startTestRelay(options.relay);
  const { token } = await relay.createClient();
  const { key } = await relay.createKey();
  const agent = await startTestAgent(relay.url, token, bridge.url);
  const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
  return { bridge, relay, agent, key, openai };
}

/** The SSE body with the per-request id and timestamps masked, for byte comparison. */
const normalise = (sse: string) =>
  sse.replace(/chatcmpl-[0-9a-f-]{36}/g, 'chatcmpl-ID').replace(/"created": \d+/g, '"created": 0');

describe('openai client through relay and agent', () => {
  it('streams the bridge text exactly, UTF-8 split across chunks included', async () => {
    const { openai } = await stack({ bridge: { splitEvents: true } });
    const stream = await openai.chat.completions.create({
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: 'Hello' }],
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(TEXT);
    expect(finish).toBe('stop');
  });

  it('passes the consumer request to the bridge as sent: unknown fields, any spacing, any script', async () => {
    const { bridge, relay, key } = await stack();
    const sent = {
      model: 'gpt-5',
      stream: false,
      temperature: 0.2,
      reasoning_effort: 'high',
      // (Not `tools`: a request with tools is translated, see e2e-tools.test.ts.)
      seed: 7,
      logit_bias: { '50256': -100 },
      messages: [
        { role: 'system', content: 'Réponds en français ✓' },
        { role: 'user', content: [{ type: 'text', text: 'héllo 🦊 "quoted" \\ back\nslash' }] },
      ],
    };
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(sent, null, 3), // pretty-printed: whitespace is not the bridge's business
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(bridge.requests.at(-1)?.body).toEqual(sent);
  });

  it('a body with bytes that are not UTF-8 is passed on re-encoded, never as an invalid text frame', async () => {
    const { bridge, relay, key, agent } = await stack();
    const body = Buffer.concat([
      Buffer.from('{"model":"gpt-5","messages":[{"role":"user","content":"bad '),
      Buffer.from([0xc3, 0x28]), // not UTF-8: an agent would close its socket on it in a text frame
      Buffer.from('"}]}'),
    ]);
    const res = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    await res.text();
    const received = bridge.requests.at(-1)?.body as { messages: Array<{ content: string }> };
    expect(received.messages[0]!.content).toBe('bad \ufffd(');
    expect(agent.status().reconnects).toBe(0);
  });

  it('relays the bridge SSE bytes untouched (compared with the bridge answered directly)', async () => {
    const { bridge, relay, key } = await stack({ bridge: { splitEvents: true } });
    const body = JSON.stringify({
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const direct = await fetch(`${bridge.url}/v1/chat/completions`, { method: 'POST', body });
    const relayed = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    expect(relayed.headers.get('content-type')).toBe(direct.headers.get('content-type'));
    const [a, b] = [Buffer.from(await direct.arrayBuffer()), Buffer.from(await relayed.arrayBuffer())];
    expect(b.byteLength).toBe(a.byteLength);
    expect(normalise(b.toString('utf8'))).toBe(normalise(a.toString('utf8')));
  });

  it('answers non-streaming requests with the bridge JSON', async () => {
    const { openai } = await stack();
    const completion = await openai.chat.completions.create({
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'Hello' }],
    });
    expect(completion.choices[0]?.message.content).toBe(TEXT);
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('lists the bridge models', async () => {
    const { openai } = await stack();
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id).sort()).toEqual(['claude-opus-4', 'dall-e-3', 'gpt-5']);
  });

  it('turns a bridge with no browser tab into a 503 the client can read', async () => {
    const { openai, bridge } = await stack({ bridge: { scenario: 'tab-closed' } });
    bridge.scenario = 'tab-closed';
    const error = await openai.chat.completions
      .create({ model: 'gpt-5', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_unavailable');
  });

  it('turns a first-chunk in-band bridge error into a 502, not model text', async () => {
    const { openai, bridge } = await stack();
    bridge.scenario = 'error';
    const error = await openai.chat.completions
      .create({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    expect((error as Error).message).toMatch(/fake upstream failure|网络响应不正常/);
  });

  it('answers 504 when the bridge stays silent past GATEWAY_REQUEST_TIMEOUT', async () => {
    const { openai, bridge } = await stack({ relay: { requestTimeoutMs: 300 } });
    bridge.scenario = 'hang';
    const started = Date.now();
    const error = await openai.chat.completions
      .create({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
    expect(Date.now() - started).toBeLessThan(3000);
    // The relay cancelled the stream, so the agent let go of the bridge request too.
    expect((await bridge.nextEarlyClose()).path).toBe('/v1/chat/completions');
  });
});

describe('cancellation', () => {
  it('a consumer that disconnects closes the bridge request within 1 s', async () => {
    const { openai, bridge } = await stack({ bridge: { slowDelayMs: 100 } });
    bridge.scenario = 'slow';
    const controller = new AbortController();
    const stream = await openai.chat.completions.create(
      { model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'x' }] },
      { signal: controller.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const aborted = Date.now();
    controller.abort();
    const closed = await bridge.nextEarlyClose();
    expect(closed.closedEarly).toBe(true);
    expect(Date.now() - aborted).toBeLessThan(1000);
  });
});
