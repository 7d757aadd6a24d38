/**
 * Requests near the body limit: a conversation with an image attached as a data URL easily
 * weighs megabytes, more than one WebSocket frame may carry. It must reach the bridge whole, and
 * never cost the agent its socket (every other consumer's stream on it).
 */
import { MAX_OPEN_FRAME_BYTES, MAX_REQUEST_BODY_BYTES } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../relay/src/config/load-config.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

const TEXT = DEFAULT_CHUNKS.join('');

describe('large requests', () => {
  it('a 3 MiB request reaches the bridge whole while another stream on the agent goes on', async () => {
    const bridge = track(await startFakeBridge({ slowDelayMs: 20 }));
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    await startTestAgent(relay.url, token, bridge.url);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const chat = (body: object) =>
      fetch(`${relay.url}/v1/chat/completions`, { method: 'POST', headers, body: JSON.stringify(body) });

    bridge.scenario = 'slow';
    const slow = await chat({ model: 'gpt-5', stream: true, messages: [{ role: 'user', content: 'long' }] });
    expect(slow.status).toBe(200);
    const image = `data:image/png;base64,${'A'.repeat(3 * 1024 * 1024)}`;
    const big = {
      model: 'gpt-5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is in this picture?' },
            { type: 'image_url', image_url: { url: image } },
          ],
        },
      ],
    };
    const answer = await chat(big);
    const text = await answer.text();
    expect(answer.status, text).toBe(200);
    const received = bridge.requests.at(-1)!.body as typeof big;
    expect((received.messages[0]!.content[1] as { image_url: { url: string } }).image_url.url).toBe(image);
    // The slow stream, on the same agent socket, was not cut.
    const sse = await slow.text();
    expect(sse.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(sse).not.toContain('"error"');
    expect(sse.length).toBeGreaterThan(TEXT.length);
  });

  it('a request too large for one frame is refused with 413, and never sent to cost an agent its socket', async () => {
    const bridge = track(await startFakeBridge());
    // Past the config check (tests may set any value): the relay's last guard is what is tested.
    const relay = await startTestRelay({ maxBodyBytes: MAX_OPEN_FRAME_BYTES + 1024 * 1024 });
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const agent = await startTestAgent(relay.url, token, bridge.url);
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const body = (content: string) =>
      JSON.stringify({ model: 'gpt-5', messages: [{ role: 'user', content }] });
    const huge = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: body('x'.repeat(MAX_OPEN_FRAME_BYTES)),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: { code: string } }).error.code).toBe('upstream_rejected');
    expect(bridge.requests).toHaveLength(0);
    const next = await fetch(`${relay.url}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: body('hi'),
    });
    expect(next.status).toBe(200);
    await next.text();
    expect(agent.status().reconnects).toBe(0);
    expect(agent.status().session_id).toBe(agent.sessionId);
  });

  it('the body limit cannot be set above what one frame to an agent carries', () => {
    expect(loadConfig({ GATEWAY_MAX_BODY_BYTES: String(MAX_REQUEST_BODY_BYTES) }).maxBodyBytes).toBe(
      MAX_REQUEST_BODY_BYTES,
    );
    expect(() => loadConfig({ GATEWAY_MAX_BODY_BYTES: String(MAX_REQUEST_BODY_BYTES + 1) })).toThrow(
      /GATEWAY_MAX_BODY_BYTES.*one frame/,
    );
  });
});
