/** The WebAI2API and OpenAI-compatible fakes answer in their documented shapes. */
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type OpenAiBridge,
  type OpenAiBridgeOptions,
  startOpenAiBridge,
  WEBAI2API_ERRORS,
} from './fake-bridge-openai.js';

const bridges: OpenAiBridge[] = [];
afterEach(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.close()));
});
async function start(options: OpenAiBridgeOptions): Promise<OpenAiBridge> {
  const bridge = await startOpenAiBridge(options);
  bridges.push(bridge);
  return bridge;
}
const chat = (bridge: OpenAiBridge, body: object, key?: string) =>
  fetch(`${bridge.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });

describe('openai (Ollama-like)', () => {
  it('serves the openai SDK, streamed and not', async () => {
    const bridge = await start({ dialect: 'openai' });
    const client = new OpenAI({ baseURL: bridge.baseUrl, apiKey: 'unused', maxRetries: 0 });
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['llama3.2']);
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const whole = await client.chat.completions.create({ model: 'llama3.2', messages });
    expect(whole.choices[0]?.message.content).toBe('Hello from a home GPU.');
    let text = '';
    for await (const chunk of await client.chat.completions.create({
      model: 'llama3.2',
      messages,
      stream: true,
    })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toBe('Hello from a home GPU.');
  });

  it('answers real statuses: unknown model 404, queue full 503, a 500; a streamed error on a 200', async () => {
    const bridge = await start({ dialect: 'openai' });
    const messages = [{ role: 'user', content: 'hi' }];
    expect((await chat(bridge, { model: 'nope', messages })).status).toBe(404);
    const overloaded = await chat(bridge, { model: 'llama3.2', messages, stream: true }, undefined);
    expect(overloaded.status).toBe(200);
    bridge.scenario = 'overloaded';
    expect((await chat(bridge, { model: 'llama3.2', messages, stream: true })).status).toBe(503);
    bridge.scenario = 'error';
    expect((await chat(bridge, { model: 'llama3.2', messages })).status).toBe(500);
    const streamed = await chat(bridge, { model: 'llama3.2', messages, stream: true });
    expect(streamed.status).toBe(200);
    expect(await streamed.text()).toMatch(
      /^data: \{"error":\{"message":"llama runner[^\n]*\n\ndata: \[DONE\]\n\n$/,
    );
  });
});

describe('webai2api', () => {
  it('needs its token, and streams :keepalive comments before the answer', async () => {
    const bridge = await start({ dialect: 'webai2api', apiKey: 'k' });
    const body = { model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'hi' }], stream: true };
    expect((await chat(bridge, body)).status).toBe(401);
    expect((await chat(bridge, body, 'wrong')).status).toBe(401);
    const text = await (await chat(bridge, body, 'k')).text();
    expect(text.startsWith(':keepalive\n\n:keepalive\n\n:keepalive\n\ndata: {')).toBe(true);
    expect(text.endsWith('"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n')).toBe(true);
  });

  it.each(Object.entries(WEBAI2API_ERRORS))(
    '%s: its status not streamed, an error event on a 200 streamed',
    async (scenario, known) => {
      const bridge = await start({ dialect: 'webai2api', apiKey: 'k' });
      const body = { model: 'gemini-2.5-pro', messages: [{ role: 'user', content: `scenario:${scenario}` }] };
      const plain = await chat(bridge, body, 'k');
      expect(plain.status).toBe(known.status);
      expect(((await plain.json()) as { error: { code: string } }).error.code).toBe(known.code);
      const streamed = await chat(bridge, { ...body, stream: true }, 'k');
      expect(streamed.status).toBe(200);
      expect(await streamed.text()).toContain(
        `data: {"error":{"message":"${known.message}","type":"server_error","code":"${known.code}"}}\n\ndata: [DONE]\n\n`,
      );
    },
  );
});
