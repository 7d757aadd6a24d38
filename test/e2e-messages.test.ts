/**
 * `POST /v1/messages` end to end with the official `@anthropic-ai/sdk` client: consumer → relay →
 * agent → fake LMArenaBridge. The request is translated to the bridge's chat request, the answer
 * back into Anthropic's message object and named events; errors in Anthropic's shape; usage
 * metered as for chat.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { BRIDGE_TEXTS, DEFAULT_CHUNKS } from './support/fake-bridge.js';
import { startStack } from './support/stack.js';

const TEXT = DEFAULT_CHUNKS.join('');
const tokens = (text: string) => Math.floor([...text].length / 4);
const PROMPT = 'Hello there, how are you today?';

const stack = startStack;

const ask = { model: 'gpt-5', max_tokens: 256, messages: [{ role: 'user' as const, content: PROMPT }] };

describe('Anthropic Messages front-end', () => {
  it('messages.create: a message object with the bridge text, end_turn and estimated usage', async () => {
    const { anthropic } = await stack();
    const message = await anthropic.messages.create(ask);
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'gpt-5',
      content: [{ type: 'text', text: TEXT }],
      stop_reason: 'end_turn',
      usage: { input_tokens: tokens(PROMPT), output_tokens: tokens(TEXT) },
    });
    expect(message.id).toMatch(/^msg_/);
  });

  it('messages.stream: text events, finalMessage() and the stream ends with message_stop', async () => {
    const { anthropic } = await stack({ bridge: { splitEvents: true } });
    const stream = anthropic.messages.stream(ask);
    let text = '';
    const events: string[] = [];
    stream.on('text', (delta) => {
      text += delta;
    });
    stream.on('streamEvent', (event) => events.push(event.type));
    const message = await stream.finalMessage();
    expect(text).toBe(TEXT);
    expect(message.content).toEqual([{ type: 'text', text: TEXT }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: tokens(PROMPT), output_tokens: tokens(TEXT) });
    expect(events[0]).toBe('message_start');
    expect(events.at(-2)).toBe('message_delta');
    expect(events.at(-1)).toBe('message_stop');
    expect(events.filter((e) => e === 'content_block_delta').length).toBe(DEFAULT_CHUNKS.length);
  });

  it('translates system prompt, text and image blocks and the sampling fields into the chat request', async () => {
    const { anthropic, bridge } = await stack();
    await anthropic.messages.create({
      model: 'gpt-5',
      max_tokens: 100,
      // Sent as it is on the wire, though this SDK version's types no longer list it.
      ...({ temperature: 0.3 } as object),
      stop_sequences: ['END'],
      system: [
        { type: 'text', text: 'Be brief.' },
        { type: 'text', text: 'Réponds en français ✓' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
        { role: 'assistant', content: 'A cat.' },
        { role: 'user', content: 'Sure?' },
      ],
    });
    expect(bridge.requests.at(-1)?.body).toEqual({
      model: 'gpt-5',
      stream: false,
      max_tokens: 100,
      temperature: 0.3,
      stop: ['END'],
      messages: [
        { role: 'system', content: 'Be brief.\n\nRéponds en français ✓' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
        { role: 'assistant', content: 'A cat.' },
        { role: 'user', content: 'Sure?' },
      ],
    });
  });

  it('content-filter ends as stop_reason refusal, streamed or not', async () => {
    const { anthropic } = await stack({ bridge: { scenario: 'filter' } });
    expect((await anthropic.messages.create(ask)).stop_reason).toBe('refusal');
    expect((await anthropic.messages.stream(ask).finalMessage()).stop_reason).toBe('refusal');
  });

  it('authenticates by x-api-key (the SDK) and by Authorization: Bearer', async () => {
    const { relay, key } = await stack();
    const bearer = await fetch(`${relay.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(ask),
    });
    expect(bearer.status).toBe(200);
    expect(((await bearer.json()) as { content: { text: string }[] }).content[0]?.text).toBe(TEXT);
    const wrong = new Anthropic({ baseURL: relay.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const error = await wrong.messages.create(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'Incorrect API key provided.' },
    });
  });

  it('bad requests are 400 invalid_request_error naming the field', async () => {
    const { relay, key } = await stack();
    const post = (body: unknown) =>
      fetch(`${relay.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': key.key, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const noMax = await post({ model: 'gpt-5', messages: ask.messages });
    expect(noMax.status).toBe(400);
    const body = (await noMax.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain("'max_tokens'");
    const doc = await post({
      ...ask,
      messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', data: 'x' } }] }],
    });
    expect(doc.status).toBe(400);
    expect(((await doc.json()) as { error: { message: string } }).error.message).toContain(
      "'messages[0].content'",
    );
  });

  it('a bridge that is down answers 529 overloaded_error; an unknown model 404 not_found_error', async () => {
    const { anthropic } = await stack({ bridge: { scenario: 'tab-closed' } });
    const down = await anthropic.messages.create(ask).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(Anthropic.APIError);
    expect((down as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((down as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: 'overloaded_error' },
    });
    const unknown = await anthropic.messages
      .create({ ...ask, model: 'no-such-model' })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.APIError);
    expect((unknown as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error' });
  });

  it('an in-band bridge error after the first text reaches the stream as an error event', async () => {
    const { anthropic } = await stack({ bridge: { scenario: 'error-late' } });
    const stream = anthropic.messages.stream(ask);
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(text).toBe(DEFAULT_CHUNKS[0]);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toEqual({
      type: 'error',
      // In English first, the bridge's own words kept beside.
      error: {
        type: 'api_error',
        message: expect.stringContaining(`(bridge's words: ${BRIDGE_TEXTS.fetchFailure})`),
      },
    });
  });

  it('an in-band bridge error before any text is a plain Anthropic error response', async () => {
    const { anthropic } = await stack({ bridge: { scenario: 'error' } });
    const error = await anthropic.messages
      .stream(ask)
      .finalMessage()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      error: { type: 'api_error' },
    });
  });

  it('is metered like chat: the tokens the consumer received, under the key and model', async () => {
    const { anthropic, relay, key } = await stack();
    await anthropic.messages.create(ask);
    await anthropic.messages.stream(ask).finalMessage();
    const { json } = await relay.admin('GET', `/api/usage?key=${key.id}&group_by=model`);
    expect(json.groups).toEqual([
      expect.objectContaining({
        model: 'gpt-5',
        requests: 2,
        succeeded: 2,
        prompt_tokens: 2 * tokens(PROMPT),
        completion_tokens: 2 * tokens(TEXT),
      }),
    ]);
  });
});
