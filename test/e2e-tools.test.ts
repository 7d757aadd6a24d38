/**
 * Tool calls through every front-end, end to end with the official clients: the tools go to the
 * bridge as a system-prompt section, the fake bridge answers in the reply format, and the relay
 * hands back proper `tool_calls` (chat, via `openai`) and `tool_use` blocks (Messages, via
 * `@anthropic-ai/sdk`), streamed and not; a call → result → final answer round trip on each; a
 * reply whose call does not match the schema stays text. (Responses: e2e-responses.test.ts.)
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { BRIDGE_TEXTS, DEFAULT_CHUNKS, type FakeBridgeOptions } from './support/fake-bridge.js';
import { startStack } from './support/stack.js';
import {
  BAD_CALL,
  CALL_ARGUMENTS,
  CALL_TEXT,
  FINAL_TEXT,
  lastMessages,
  WEATHER_TOOL,
  weatherScript,
} from './support/tool-script.js';

async function stack(bridge: FakeBridgeOptions = { answer: weatherScript }) {
  const started = await startStack({ bridge });
  return { ...started, key: started.key.key };
}

const chatTools = [{ type: 'function' as const, function: WEATHER_TOOL }];
const question = 'What is the weather in Zürich?';
const chatAsk = {
  model: 'gpt-5',
  tools: chatTools,
  messages: [{ role: 'user' as const, content: question }],
};

describe('tool calls: chat completions', () => {
  it('non-stream: message.tool_calls and finish_reason tool_calls; the bridge got the tool prompt', async () => {
    const { openai, bridge } = await stack();
    const completion = await openai.chat.completions.create(chatAsk);
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBe(`${CALL_TEXT}\n`);
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        type: 'function',
        function: { name: 'get_weather', arguments: JSON.stringify(CALL_ARGUMENTS) },
      },
    ]);
    const sent = bridge.requests.at(-1)?.body as Record<string, unknown>;
    expect(sent).not.toHaveProperty('tools');
    const [system, user] = lastMessages(bridge);
    expect(system?.role).toBe('system');
    expect(system?.content).toContain('<tool_call>');
    expect(system?.content).toContain(JSON.stringify(WEATHER_TOOL.parameters));
    expect(user).toEqual({ role: 'user', content: question });
  });

  it('chat.completions.stream: delta.tool_calls chunks, the SDK assembles the call', async () => {
    const { openai } = await stack({ answer: weatherScript, splitEvents: true });
    const stream = openai.chat.completions.stream({ ...chatAsk, stream_options: { include_usage: true } });
    let content = '';
    const done: string[] = [];
    stream.on('content', (delta) => {
      content += delta;
    });
    stream.on('tool_calls.function.arguments.done', (event) => done.push(event.arguments));
    const final = await stream.finalChatCompletion();
    expect(content).toBe(`${CALL_TEXT}\n`);
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    expect(final.choices[0]?.message.tool_calls?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'get_weather', arguments: JSON.stringify(CALL_ARGUMENTS) },
    });
    expect(done.map((a) => JSON.parse(a))).toEqual([CALL_ARGUMENTS]);
    expect(final.usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('runTools: call → tool result → final answer, the result rendered into the transcript', async () => {
    const { openai, bridge } = await stack();
    const cities: string[] = [];
    const runner = openai.chat.completions.runTools({
      model: 'gpt-5',
      messages: [{ role: 'user', content: question }],
      tools: [
        {
          type: 'function',
          function: {
            ...WEATHER_TOOL,
            parse: JSON.parse,
            function: (args: { city: string }) => {
              cities.push(args.city);
              return '12°C, sunny';
            },
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe(FINAL_TEXT);
    expect(cities).toEqual(['Zürich']);
    const turns = lastMessages(bridge);
    expect(turns.at(-2)).toEqual({
      role: 'assistant',
      content: `${CALL_TEXT}\n\n\n<tool_call>${JSON.stringify({ name: 'get_weather', arguments: CALL_ARGUMENTS })}</tool_call>`,
    });
    expect(turns.at(-1)?.role).toBe('user');
    expect(turns.at(-1)?.content).toMatch(
      /^<tool_result \{"id":"call_[^"]+","name":"get_weather"\}>\n12°C, sunny\n/,
    );
  });

  it('a call that does not match the schema is plain text, streamed or not', async () => {
    const { openai } = await stack({ chunks: [BAD_CALL.slice(0, 20), BAD_CALL.slice(20)] });
    const whole = await openai.chat.completions.create(chatAsk);
    expect(whole.choices[0]?.message.content).toBe(BAD_CALL);
    expect(whole.choices[0]?.message.tool_calls).toBeUndefined();
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    const streamed = await openai.chat.completions.stream(chatAsk).finalChatCompletion();
    expect(streamed.choices[0]?.message.content).toBe(BAD_CALL);
    expect(streamed.choices[0]?.message.tool_calls ?? []).toEqual([]);
  });

  it('bridge errors reach a chat-with-tools consumer as OpenAI errors, before and after the first byte', async () => {
    const { openai, bridge } = await stack({ scenario: 'error' });
    const before = await openai.chat.completions.create(chatAsk).catch((e: unknown) => e);
    expect(before).toBeInstanceOf(OpenAI.APIError);
    expect((before as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
    bridge.scenario = 'error-late';
    let content = '';
    const after = await (async () => {
      const stream = await openai.chat.completions.create({ ...chatAsk, stream: true });
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(after).toBeInstanceOf(OpenAI.APIError);
    expect((after as InstanceType<typeof OpenAI.APIError>).message).toContain(BRIDGE_TEXTS.fetchFailure);
    expect(content).toBe(DEFAULT_CHUNKS[0]);
  });

  it('a tool of another type is a 400 naming it; no bridge is asked', async () => {
    const { openai, bridge } = await stack();
    const error = await openai.chat.completions
      .create({ ...chatAsk, tools: [{ type: 'custom', custom: { name: 'grammar' } }] } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools[0]');
    expect(bridge.requests).toHaveLength(0);
  });
});

const messagesTools = [
  { name: WEATHER_TOOL.name, description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.parameters },
];
const messagesAsk = {
  model: 'gpt-5',
  max_tokens: 256,
  tools: messagesTools,
  messages: [{ role: 'user' as const, content: question }],
};

describe('tool calls: Anthropic Messages', () => {
  it('messages.create: a tool_use block after the text, stop_reason tool_use', async () => {
    const { anthropic } = await stack();
    const message = await anthropic.messages.create(messagesAsk);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content).toEqual([
      { type: 'text', text: `${CALL_TEXT}\n` },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input: CALL_ARGUMENTS },
    ]);
  });

  it('messages.stream: content_block_start tool_use + input_json_delta; round trip to the final answer', async () => {
    const { anthropic, bridge } = await stack({ answer: weatherScript, splitEvents: true });
    const stream = anthropic.messages.stream(messagesAsk);
    const deltas: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta') deltas.push(event.delta.type);
    });
    const first = await stream.finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(deltas).toContain('input_json_delta');
    const use = first.content.find((b) => b.type === 'tool_use');
    expect(use).toMatchObject({ name: 'get_weather', input: CALL_ARGUMENTS });
    if (use?.type !== 'tool_use') return;

    const final = await anthropic.messages.create({
      ...messagesAsk,
      messages: [
        ...messagesAsk.messages,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '12°C, sunny' }] },
      ],
    });
    expect(final.stop_reason).toBe('end_turn');
    expect(final.content).toEqual([{ type: 'text', text: FINAL_TEXT }]);
    const turns = lastMessages(bridge);
    expect(turns.at(-2)).toEqual({
      role: 'assistant',
      content: `${CALL_TEXT}\n\n\n<tool_call>${JSON.stringify({ name: 'get_weather', arguments: CALL_ARGUMENTS })}</tool_call>`,
    });
    expect(turns.at(-1)).toEqual({
      role: 'user',
      content: `<tool_result {"id":"${use.id}","name":"get_weather"}>\n12°C, sunny\n</tool_result>`,
    });
  });

  it('a call that does not match the schema is a text block and end_turn', async () => {
    const { anthropic } = await stack({ chunks: [BAD_CALL] });
    const message = await anthropic.messages.stream(messagesAsk).finalMessage();
    expect(message.stop_reason).toBe('end_turn');
    expect(message.content).toEqual([{ type: 'text', text: BAD_CALL }]);
  });

  it("Anthropic's server tools are a 400 invalid_request_error", async () => {
    const { anthropic, bridge } = await stack();
    const error = await anthropic.messages
      .create({ ...messagesAsk, tools: [{ type: 'web_search_20250305', name: 'web_search' }] } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('web_search_20250305') },
    });
    expect(bridge.requests).toHaveLength(0);
  });
});
