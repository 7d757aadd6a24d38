/**
 * `POST /v1/responses` end to end with the official `openai` client (`responses.create`, streamed
 * and not, and `responses.stream`): consumer → relay → agent → fake LMArenaBridge. The request is
 * translated to the bridge's chat request, the answer back into a `response` object or the
 * Responses event stream; stateful features are a clear 400; errors after the 200 are
 * `response.failed`; usage metered as for chat.
 */
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { BRIDGE_TEXTS, DEFAULT_CHUNKS, type FakeBridgeOptions } from './support/fake-bridge.js';
import { startStack } from './support/stack.js';
import {
  CALL_ARGUMENTS,
  CALL_TEXT,
  FINAL_TEXT,
  lastMessages,
  WEATHER_TOOL,
  weatherScript,
} from './support/tool-script.js';

const TEXT = DEFAULT_CHUNKS.join('');
const tokens = (text: string) => Math.floor([...text].length / 4);
const PROMPT = 'Hello there, how are you today?';

const stack = (bridge: FakeBridgeOptions = {}) => startStack({ bridge });

const ask = { model: 'gpt-5', input: PROMPT };

async function events(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const seen: ResponseStreamEvent[] = [];
  for await (const event of stream) seen.push(event);
  return seen;
}

describe('OpenAI Responses front-end', () => {
  it('responses.create: a completed response whose output_text is the bridge text, with usage', async () => {
    const { openai } = await stack();
    const response = await openai.responses.create(ask);
    expect(response.id).toMatch(/^resp_/);
    expect(response).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'gpt-5',
      usage: {
        input_tokens: tokens(PROMPT),
        output_tokens: tokens(TEXT),
        total_tokens: tokens(PROMPT) + tokens(TEXT),
      },
    });
    expect(response.output_text).toBe(TEXT);
    expect(response.output).toEqual([
      expect.objectContaining({
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [expect.objectContaining({ type: 'output_text', text: TEXT })],
      }),
    ]);
  });

  it('responses.create stream: the full event sequence, numbered, ending response.completed', async () => {
    const { openai } = await stack({ splitEvents: true });
    const seen = await events(await openai.responses.create({ ...ask, stream: true }));
    const types = seen.map((e) => e.type);
    const deltas = DEFAULT_CHUNKS.map(() => 'response.output_text.delta');
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...deltas,
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(seen.map((e) => e.sequence_number)).toEqual(seen.map((_, i) => i));
    const text = seen.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');
    expect(text).toBe(TEXT);
    const done = seen.at(-1);
    expect(done?.type === 'response.completed' && done.response.usage).toMatchObject({
      input_tokens: tokens(PROMPT),
      output_tokens: tokens(TEXT),
    });
  });

  it('responses.stream: text delta events and finalResponse()', async () => {
    const { openai } = await stack({ splitEvents: true });
    const stream = openai.responses.stream(ask);
    let text = '';
    stream.on('response.output_text.delta', (event) => {
      text += event.delta;
    });
    const final = await stream.finalResponse();
    expect(text).toBe(TEXT);
    expect(final.output_text).toBe(TEXT);
    expect(final.status).toBe('completed');
  });

  it('translates instructions, input items and the sampling fields into the chat request', async () => {
    const { openai, bridge } = await stack();
    await openai.responses.create({
      model: 'gpt-5',
      instructions: 'Réponds en français ✓',
      max_output_tokens: 300,
      temperature: 0.4,
      top_p: 0.9,
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is this?' },
            { type: 'input_image', image_url: 'https://example.com/cat.jpg', detail: 'auto' },
          ],
        },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'A cat.', annotations: [] }],
        },
        { role: 'user', content: 'Sure?' },
      ] as OpenAI.Responses.ResponseInput,
    });
    expect(bridge.requests.at(-1)?.body).toEqual({
      model: 'gpt-5',
      stream: false,
      max_tokens: 300,
      temperature: 0.4,
      top_p: 0.9,
      messages: [
        { role: 'system', content: 'Réponds en français ✓' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
        { role: 'assistant', content: 'A cat.' },
        { role: 'user', content: 'Sure?' },
      ],
    });
  });

  it.each([
    ['previous_response_id', { previous_response_id: 'resp_123' }, 'previous_response_id'],
    ['store: true', { store: true }, 'store'],
    ['background', { background: true }, 'background'],
    ['web_search tool', { tools: [{ type: 'web_search' }] }, 'tools[0]'],
    ['item_reference', { input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0]'],
    [
      'input_file',
      { input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] },
      'input[0]',
    ],
    ['no input', { input: undefined }, 'input'],
  ])('%s: 400 invalid_request_error in OpenAI shape, naming the field', async (_, extra, param) => {
    const { openai, bridge } = await stack();
    const error = await openai.responses
      .create({ ...ask, ...extra } as OpenAI.Responses.ResponseCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const api = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(api.type).toBe('invalid_request_error');
    expect(api.param?.startsWith(param)).toBe(true);
    expect(api.message).toMatch(/not supported|Invalid value|stores/);
    expect(bridge.requests).toHaveLength(0);
  });

  it('an in-band bridge error before any text is an OpenAI error response, streamed or not', async () => {
    const { openai } = await stack({ scenario: 'error' });
    const streamed = await openai.responses.create({ ...ask, stream: true }).catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect((streamed as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    const whole = await openai.responses.create(ask).catch((e: unknown) => e);
    expect(whole).toBeInstanceOf(OpenAI.APIError);
    expect((whole as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });

  it('a bridge error after the first text ends the stream with response.failed, never completed', async () => {
    const { openai } = await stack({ scenario: 'error-late' });
    const seen = await events(await openai.responses.create({ ...ask, stream: true }));
    const types = seen.map((e) => e.type);
    expect(types).not.toContain('response.completed');
    const failed = seen.at(-1);
    expect(failed?.type).toBe('response.failed');
    if (failed?.type !== 'response.failed') return;
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error).toEqual({
      code: 'server_error',
      // In English first, the bridge's own words kept beside.
      message: expect.stringContaining(`(bridge's words: ${BRIDGE_TEXTS.fetchFailure})`),
    });
    const text = seen.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');
    expect(text).toBe(DEFAULT_CHUNKS[0]);
    const final = await openai.responses.stream(ask).finalResponse();
    expect(final.status).toBe('failed');
  });

  it('a bridge that dies mid-stream: response.failed after the text so far', async () => {
    const { openai, bridge } = await stack({ scenario: 'slow', slowDelayMs: 60_000 });
    const stream = await openai.responses.create({ ...ask, stream: true });
    const seen: ResponseStreamEvent[] = [];
    for await (const event of stream) {
      seen.push(event);
      if (event.type === 'response.output_text.delta') void bridge.close();
    }
    expect(seen.filter((e) => e.type === 'response.output_text.delta')).toHaveLength(1);
    const failed = seen.at(-1);
    expect(failed?.type).toBe('response.failed');
    expect(failed?.type === 'response.failed' && failed.response.error?.code).toBe('server_error');
    expect(failed?.type === 'response.failed' && failed.response.output[0]).toMatchObject({
      type: 'message',
      status: 'incomplete',
      content: [{ type: 'output_text', text: DEFAULT_CHUNKS[0] }],
    });
  });

  it("the arena's content filter is an incomplete response (content_filter), streamed or not", async () => {
    const { openai } = await stack({ scenario: 'filter' });
    const whole = await openai.responses.create(ask);
    expect(whole.status).toBe('incomplete');
    expect(whole.incomplete_details).toEqual({ reason: 'content_filter' });
    const seen = await events(await openai.responses.create({ ...ask, stream: true }));
    expect(seen.at(-1)?.type).toBe('response.incomplete');
  });

  it('function tools: a function_call item, then the call result in input gives the final answer', async () => {
    const { openai, bridge } = await stack({ answer: weatherScript });
    const tools = [{ type: 'function' as const, strict: false, ...WEATHER_TOOL }];
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather in Zürich?' }];
    const first = await openai.responses.create({ model: 'gpt-5', input, tools });
    const prompt = lastMessages(bridge)[0];
    expect(prompt?.role).toBe('system');
    expect(prompt?.content).toContain('"get_weather"');
    expect(prompt?.content).toContain(JSON.stringify(WEATHER_TOOL.parameters));
    expect(first.output_text).toBe(`${CALL_TEXT}\n`);
    const call = first.output.find((o) => o.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' });
    if (call?.type !== 'function_call') return;
    expect(JSON.parse(call.arguments)).toEqual(CALL_ARGUMENTS);
    expect(call.call_id).toMatch(/^call_/);

    const stream = openai.responses.stream({
      model: 'gpt-5',
      tools,
      input: [...input, call, { type: 'function_call_output', call_id: call.call_id, output: '12°C, sunny' }],
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(FINAL_TEXT);
    const turn = lastMessages(bridge);
    expect(turn.at(-2)).toEqual({
      role: 'assistant',
      content: `<tool_call>${JSON.stringify({ name: 'get_weather', arguments: CALL_ARGUMENTS })}</tool_call>`,
    });
    expect(turn.at(-1)?.content).toContain(`"id":"${call.call_id}","name":"get_weather"`);
    expect(turn.at(-1)?.content).toContain('12°C, sunny');
  });

  it('function tools streamed: text deltas, then a function_call item with its arguments events', async () => {
    const { openai } = await stack({ answer: weatherScript, splitEvents: true });
    const tools = [{ type: 'function' as const, strict: false, ...WEATHER_TOOL }];
    const seen = await events(await openai.responses.create({ ...ask, tools, stream: true }));
    const types = seen.map((e) => e.type);
    expect(types.slice(-5)).toEqual([
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const text = seen.map((e) => (e.type === 'response.output_text.delta' ? e.delta : '')).join('');
    expect(text).toBe(`${CALL_TEXT}\n`);
    const done = seen.find((e) => e.type === 'response.function_call_arguments.done');
    expect(done?.type === 'response.function_call_arguments.done' && JSON.parse(done.arguments)).toEqual(
      CALL_ARGUMENTS,
    );
    expect(seen.map((e) => e.sequence_number)).toEqual(seen.map((_, i) => i));
  });

  it('is metered like chat: the tokens the consumer received, under the key and model', async () => {
    const { openai, relay, key } = await stack();
    await openai.responses.create(ask);
    await openai.responses.stream(ask).finalResponse();
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
