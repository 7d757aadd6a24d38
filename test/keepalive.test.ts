/**
 * Streams that never look dead (GATEWAY_STREAM_COMMIT=keepalive): while the bridge takes its time
 * over the first token, the relay sends its 200 and `: keep-alive` comments; the official SDKs
 * read through them to the same answer. With `first_byte` the 200 waits, and nothing else is sent.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';
import { startTcpProxy } from './support/tcp-proxy.js';

/** A bridge slow to its first token (700 ms) behind a relay whose keep-alive period is 100 ms. */
async function stack(sseKeepAliveMs: number) {
  const bridge = track(await startFakeBridge({ firstChunkDelayMs: 700 }));
  const relay = await startTestRelay({ sseKeepAliveMs });
  const client = await relay.createClient();
  await startTestAgent(relay.url, client.token, bridge.url);
  const { key } = await relay.createKey();
  const chat = () =>
    fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
  return { relay, key, chat };
}

describe('SSE keep-alives while the first token is awaited', () => {
  it('sends the 200 and comments early; the stream then carries the whole answer', async () => {
    const { chat } = await stack(100);
    const res = await chat();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text.startsWith(': keep-alive\n\n')).toBe(true);
    const content = text
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(content).toBe(DEFAULT_CHUNKS.join(''));
    // No comment after the first content byte.
    expect(text.slice(text.indexOf('data: ')).includes(': keep-alive')).toBe(false);
  });

  it('the openai and Anthropic SDKs read through the comments', async () => {
    const { relay, key } = await stack(100);
    const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
    let content = '';
    const stream = await openai.chat.completions.create({
      model: 'gpt-5',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
    expect(content).toBe(DEFAULT_CHUNKS.join(''));

    const anthropic = new Anthropic({ baseURL: relay.url, apiKey: key, maxRetries: 0 });
    const message = anthropic.messages.stream({
      model: 'gpt-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await message.finalMessage();
    expect(final.content).toMatchObject([{ type: 'text', text: DEFAULT_CHUNKS.join('') }]);
  });

  it('GATEWAY_STREAM_COMMIT=first_byte: the 200 waits for the first byte, no comment is sent', async () => {
    const { chat } = await stack(0);
    const text = await (await chat()).text();
    expect(text).not.toContain(': keep-alive');
    expect(text.startsWith('data: {')).toBe(true);
  });

  it('a request queued behind a busy bridge stays alive through a proxy with an idle timeout', async () => {
    // Scaled down from 40 s of queueing behind a 30 s idle timeout: 2 s behind 1 s.
    const run = async (sseKeepAliveMs: number) => {
      const bridge = track(await startFakeBridge({ scenario: 'slow', slowDelayMs: 100 }));
      const relay = await startTestRelay({ sseKeepAliveMs });
      const client = await relay.createClient();
      await startTestAgent(relay.url, client.token, bridge.url, { maxConcurrency: 1 });
      const { key } = await relay.createKey();
      const { port } = new URL(relay.url);
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(port) }, { idleTimeoutMs: 1000 });
      const ask = (base: string) =>
        fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        });
      const busy = ask(relay.url);
      await expect.poll(() => bridge.requests.length).toBe(1);
      const queued = ask(proxy.url).then(
        async (res) => ({ status: res.status, text: await res.text() }),
        (error: Error) => ({ status: 0, text: String(error.cause ?? error) }),
      );
      await expect.poll(() => relay.router.queueDepth).toBe(1);
      await (await busy).text();
      return queued;
    };
    const kept = await run(300);
    expect(kept.status).toBe(200);
    expect(kept.text.startsWith(': keep-alive\n\n')).toBe(true);
    expect(kept.text.endsWith('data: [DONE]\n\n')).toBe(true);
    // The control: without keep-alives the proxy cuts the silent queued request.
    const cut = await run(0);
    expect(cut.status === 0 || !cut.text.endsWith('data: [DONE]\n\n')).toBe(true);
  });
});
