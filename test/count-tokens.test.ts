/**
 * `POST /v1/messages/count_tokens`, answered by the relay itself (Claude Code calls it before
 * each turn): the Anthropic SDK's `countTokens` gets the same estimate the usage meter charges for
 * the same request through `/v1/messages`; auth, scope and validation errors in Anthropic's shape;
 * no bridge and no rate limit is involved.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { startStack } from './support/stack.js';

type APIError = InstanceType<typeof Anthropic.APIError>;

const request = {
  model: 'gpt-5',
  system: 'You are terse. Ünïcödé 😀 counts by code point.',
  messages: [
    { role: 'user' as const, content: 'What is the weather in Paris?' },
    { role: 'assistant' as const, content: 'Let me look.' },
    { role: 'user' as const, content: [{ type: 'text' as const, text: 'Please, and in Berlin too.' }] },
  ],
  tools: [
    {
      name: 'get_weather',
      description: 'Current weather of a city',
      input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
    },
  ],
};

const fail = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as APIError,
  );

describe('POST /v1/messages/count_tokens', () => {
  it("countTokens is the meter's own estimate of the request /v1/messages would send", async () => {
    const { anthropic, bridge } = await startStack();
    const counted = await anthropic.messages.countTokens(request);
    expect(counted).toEqual({ input_tokens: expect.any(Number) });
    // The tool prompt the relay adds counts too: far more than the messages' own text.
    expect(counted.input_tokens).toBeGreaterThan(40);
    const before = bridge.requests.length;
    const message = await anthropic.messages.create({ ...request, max_tokens: 64 });
    expect(message.usage.input_tokens).toBe(counted.input_tokens);
    expect(bridge.requests.length).toBe(before + 1);
    // Counting asked no bridge.
    await anthropic.messages.countTokens({
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'x'.repeat(400) }],
    });
    expect(bridge.requests.length).toBe(before + 1);
    expect(
      (
        await anthropic.messages.countTokens({
          model: 'gpt-5',
          messages: [{ role: 'user', content: 'x'.repeat(400) }],
        })
      ).input_tokens,
    ).toBe(100);
  });

  it('auth, scope and allowed models like /v1/messages; errors in Anthropic shape', async () => {
    const { relay, anthropic } = await startStack();
    const wrong = new Anthropic({ baseURL: relay.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const unauthorized = await fail(wrong.messages.countTokens(request));
    expect(unauthorized).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(unauthorized?.error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const modelsOnly = await relay.admin('POST', '/api/keys', { name: 'models', scopes: ['models'] });
    const noScope = new Anthropic({ baseURL: relay.url, apiKey: modelsOnly.json.key, maxRetries: 0 });
    const denied = await fail(noScope.messages.countTokens(request));
    expect(denied).toBeInstanceOf(Anthropic.PermissionDeniedError);
    // The scope is /v1/messages' own: `messages` counts, `chat` alone does not.
    const chatOnly = await relay.admin('POST', '/api/keys', { name: 'chat', scopes: ['chat'] });
    const chatClient = new Anthropic({ baseURL: relay.url, apiKey: chatOnly.json.key, maxRetries: 0 });
    expect(await fail(chatClient.messages.countTokens(request))).toBeInstanceOf(
      Anthropic.PermissionDeniedError,
    );
    const messagesOnly = await relay.admin('POST', '/api/keys', { name: 'msg', scopes: ['messages'] });
    const messagesClient = new Anthropic({
      baseURL: relay.url,
      apiKey: messagesOnly.json.key,
      maxRetries: 0,
    });
    expect((await messagesClient.messages.countTokens(request)).input_tokens).toBeGreaterThan(0);
    const narrow = await relay.admin('POST', '/api/keys', { name: 'narrow', allowed_models: ['other'] });
    const narrowClient = new Anthropic({ baseURL: relay.url, apiKey: narrow.json.key, maxRetries: 0 });
    expect(await fail(narrowClient.messages.countTokens(request))).toBeInstanceOf(
      Anthropic.PermissionDeniedError,
    );
    // Validation: the field named, Anthropic's shape.
    const invalid = await fail(
      anthropic.messages.countTokens({
        model: 'gpt-5',
        messages: [{ role: 'robot' as 'user', content: 'hi' }],
      }),
    );
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
    expect(invalid?.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(JSON.stringify(invalid?.error)).toContain('messages[0].role');
    const raw = await fetch(`${relay.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': (await relay.createKey()).key, 'content-type': 'application/json' },
      body: '{"model": "gpt-5", "messages": [',
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('counts against no rate limit, and counts a 3 MB request exactly', async () => {
    const { relay } = await startStack();
    const { json } = await relay.admin('POST', '/api/keys', {
      name: 'rpm1',
      limits: { requests_per_minute: 1 },
    });
    const client = new Anthropic({ baseURL: relay.url, apiKey: json.key, maxRetries: 0 });
    const big = 'ü'.repeat(1_500_000); // 3 MB of UTF-8, under the 4 MiB body limit
    for (let i = 0; i < 3; i++) {
      const { input_tokens } = await client.messages.countTokens({
        model: 'gpt-5',
        messages: [{ role: 'user', content: big }],
      });
      expect(input_tokens).toBe(375_000);
    }
    const message = await client.messages.create({ ...request, max_tokens: 16 });
    expect(message.type).toBe('message');
  });
});
