/**
 * A hostile bridge owner's answer against the relay's translating front-ends (issue 19, finding
 * 2), over real sockets: a raw agent streams what an honest agent never would — tens of MB after
 * `<tool_call>`, an event line that never ends, a body past any size, a tool argument of 1 MB
 * against thousands of enum entries — in 4 KB frames, within credit. The relay must stop it at
 * its cap (the consumer gets a clear error in its API's shape, the agent a cancel), stay up,
 * keep its memory growth bounded and its event loop free. Figures are printed.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { SSE_LINE_LIMIT, STREAMED_TEXT_LIMIT, TOOL_CALL_LIMIT } from '../relay/src/consumer/answer-limits.js';
import { contentEvents, framesOf, pumpAnswer, watchProcess } from './support/hostile-answer.js';
import { connectRawAgent } from './support/raw-agent.js';
import { startTestRelay, type TestRelay } from './support/relay.js';

const FRAME = 4096;
/** What the hostile agent tries to push: 64 MiB. */
const ANSWER = 64 * 1024 * 1024;
const FRAMES = ANSWER / FRAME;
/** Bounds, generous for a noisy shared box; the old readers blew through each (stalls of 5.7 s and 14 s). */
const RSS_GROWTH_LIMIT_MIB = 160;
const MAX_DELAY_MS = 2000;

const echoTool = {
  type: 'function',
  function: {
    name: 'echo',
    parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
};

async function setup() {
  const relay = await startTestRelay();
  const { key } = await relay.createKey();
  const agent = await connectRawAgent(relay.url, (await relay.createClient()).token);
  return { relay, key, agent };
}

function post(relay: TestRelay, key: string, path: string, body: unknown) {
  return fetch(`${relay.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Still serving: another request through the same relay is answered. */
async function stillUp(relay: TestRelay, key: string) {
  const res = await fetch(`${relay.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
}

type Case = {
  name: string;
  path: string;
  body: Record<string, unknown>;
  contentType: string;
  frames: () => Iterable<Buffer>;
  /** At most this many bytes get in before the cancel (the cap, with room for framing and credit). */
  cap: number;
  /** What the consumer must read. */
  expectStatus: number;
  expectBody: RegExp;
};

const cases: Case[] = [
  {
    name: 'chat with tools, stream: 64 MiB after <tool_call>',
    path: '/v1/chat/completions',
    body: { model: 'gpt-5', stream: true, tools: [echoTool], messages: [{ role: 'user', content: 'hi' }] },
    contentType: 'text/event-stream',
    frames: () => contentEvents('<tool_call>{"name": "echo", "arguments": {"text": "', 'y', FRAME, FRAMES),
    cap: TOOL_CALL_LIMIT * 1.1 + 1024 * 1024,
    expectStatus: 200,
    expectBody: /data: \{"error":\{"message":"the bridge's answer is too large: a tool call over/,
  },
  {
    name: 'Messages, stream: 64 MiB with no newline',
    path: '/v1/messages',
    body: { model: 'gpt-5', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
    contentType: 'text/event-stream',
    frames: () => framesOf('data: {"choices": [{"delta": {"content": "', 'z', FRAME, FRAMES),
    cap: SSE_LINE_LIMIT + 1024 * 1024,
    expectStatus: 200,
    expectBody:
      /event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"the bridge's answer is too large: an event line over/,
  },
  {
    name: 'Responses, stream: 64 MiB of text',
    path: '/v1/responses',
    body: { model: 'gpt-5', stream: true, input: 'hi' },
    contentType: 'text/event-stream',
    frames: () => contentEvents('Once upon a time', 'é', FRAME, FRAMES),
    // The cap counts characters; é is two bytes, and each event has its envelope.
    cap: STREAMED_TEXT_LIMIT * 2.2 + 1024 * 1024,
    expectStatus: 200,
    expectBody:
      /event: response\.failed\n.*"error":\{"code":"server_error","message":"the bridge's answer is too large: streamed text over/,
  },
  {
    name: 'Messages, non-stream: a 64 MiB body',
    path: '/v1/messages',
    body: { model: 'gpt-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
    contentType: 'application/json',
    frames: () => framesOf('{"choices": [{"message": {"content": "', 'w', FRAME, FRAMES),
    cap: 16 * 1024 * 1024 + 1024 * 1024,
    // Anthropic's own status for an api_error (its clients retry on the documented ones only).
    expectStatus: 500,
    expectBody:
      /^\{"type":"error","error":\{"type":"api_error","message":"the bridge's answer is too large: a body over/,
  },
  {
    name: 'images: a 64 MiB answer',
    path: '/v1/images/generations',
    body: { model: 'gpt-5', prompt: 'a fox' },
    contentType: 'application/json',
    frames: () => framesOf('{"choices": [{"message": {"content": "![', '[', FRAME, FRAMES),
    cap: 1024 * 1024 + 512 * 1024,
    expectStatus: 502,
    expectBody:
      /^\{"error":\{"message":"the bridge's answer is too large: an image answer over 1048576 bytes","type":"api_error"/,
  },
];

describe('a hostile agent’s answer through the translating front-ends', () => {
  for (const c of cases) {
    it(`${c.name}: stopped at the cap with a clear error and a cancel, memory and loop bounded`, async () => {
      const { relay, key, agent } = await setup();
      const watch = watchProcess();
      const started = performance.now();
      const response = post(relay, key, c.path, c.body).then(async (res) => ({
        status: res.status,
        text: await res.text(),
      }));
      const open = await agent.next('open');
      agent.head(open.stream, c.contentType);
      const pumped = await pumpAnswer(agent, open.stream, c.frames());
      const { status, text } = await response;
      const ms = performance.now() - started;
      const figures = watch.stop();
      console.log(
        `${c.name}: ${(pumped.sent / 2 ** 20).toFixed(1)} MiB let in of ${ANSWER / 2 ** 20}, ${ms.toFixed(0)} ms, ` +
          `RSS +${figures.rssGrowthMiB.toFixed(0)} MiB, longest stall ${figures.maxDelayMs.toFixed(0)} ms`,
      );
      expect(status).toBe(c.expectStatus);
      expect(text).toMatch(c.expectBody);
      expect(pumped.cancelled).toMatch(/too large/);
      expect(pumped.sent).toBeLessThan(c.cap);
      expect(figures.rssGrowthMiB).toBeLessThan(RSS_GROWTH_LIMIT_MIB);
      expect(figures.maxDelayMs).toBeLessThan(MAX_DELAY_MS);
      await stillUp(relay, key);
    });
  }

  it('the official clients see the cap as an error: openai (chat with tools) and Anthropic (Messages), streamed', async () => {
    const { relay, key, agent } = await setup();
    const openai = new OpenAI({ baseURL: `${relay.url}/v1`, apiKey: key, maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: relay.url, apiKey: key, maxRetries: 0 });
    const serveHostile = async (frames: Iterable<Buffer>) => {
      const open = await agent.next('open');
      agent.head(open.stream, 'text/event-stream');
      return pumpAnswer(agent, open.stream, frames);
    };

    const chat = (async () => {
      const stream = await openai.chat.completions.create({
        model: 'gpt-5',
        stream: true,
        tools: [echoTool as OpenAI.ChatCompletionTool],
        messages: [{ role: 'user', content: 'hi' }],
      });
      for await (const _chunk of stream) {
        // the call is held: nothing comes before the error
      }
    })().catch((error: unknown) => error);
    const callFrames = contentEvents(
      '<tool_call>{"name": "echo", "arguments": {"text": "',
      'y',
      FRAME,
      FRAMES,
    );
    expect((await serveHostile(callFrames)).cancelled).toMatch(/too large/);
    const chatError = await chat;
    expect(chatError).toBeInstanceOf(OpenAI.APIError);
    expect((chatError as Error).message).toMatch(/too large: a tool call over/);

    const messages = anthropic.messages
      .stream({ model: 'gpt-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage()
      .catch((error: unknown) => error);
    const lineFrames = framesOf('data: {"choices": [{"delta": {"content": "', 'z', FRAME, FRAMES);
    expect((await serveHostile(lineFrames)).cancelled).toMatch(/too large/);
    const messagesError = await messages;
    expect(messagesError).toBeInstanceOf(Anthropic.APIError);
    expect((messagesError as Error).message).toMatch(/too large: an event line over/);
    await stillUp(relay, key);
  });

  it('a 1 MB tool argument against 4 000 enum entries: answered without stalling the loop', async () => {
    const { relay, key, agent } = await setup();
    const entries = Array.from({ length: 4000 }, (_, i) => `mode-${i}`);
    const tool = {
      type: 'function',
      function: {
        name: 'pick',
        parameters: { type: 'object', properties: { mode: { enum: entries }, note: { type: 'string' } } },
      },
    };
    const argument = { mode: { nested: 'm'.repeat(1_000_000) }, note: 'n'.repeat(1000) };
    const reply = `<tool_call>${JSON.stringify({ name: 'pick', arguments: argument })}</tool_call>`;
    const body = Buffer.from(
      JSON.stringify({ choices: [{ message: { content: reply }, finish_reason: 'stop' }] }),
    );
    const watch = watchProcess();
    const response = post(relay, key, '/v1/chat/completions', {
      model: 'gpt-5',
      tools: [tool],
      messages: [{ role: 'user', content: 'pick one' }],
    });
    const open = await agent.next('open');
    agent.head(open.stream, 'application/json');
    const frames = function* () {
      for (let at = 0; at < body.length; at += FRAME) yield body.subarray(at, at + FRAME);
    };
    await pumpAnswer(agent, open.stream, frames());
    agent.end(open.stream);
    const res = await response;
    const answer = (await res.json()) as {
      choices: { message: { content: string; tool_calls?: unknown } }[];
    };
    const figures = watch.stop();
    console.log(`enum check: longest stall ${figures.maxDelayMs.toFixed(0)} ms`);
    expect(res.status).toBe(200);
    // Not in the enum: no call, the reply is the text it was.
    expect(answer.choices[0]!.message.tool_calls).toBeUndefined();
    expect(answer.choices[0]!.message.content).toBe(reply);
    expect(figures.maxDelayMs).toBeLessThan(MAX_DELAY_MS);
    await stillUp(relay, key);
  });
});
