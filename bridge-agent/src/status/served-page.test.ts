/**
 * What the bridge served, on `/` and in `/platform/status`, attacked through a real agent: hostile
 * model names (a relay forwards what consumers ask for) and hostile bridge words leave the page
 * bounded, escaped and free of control characters; a prompt and an answer are never kept.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SSE_DONE, sseChunk, startSse } from '../test-support/fake-bridge.js';
import { type Harness, startHarness } from '../test-support/harness.js';
import { waitFor } from '../test-support/wait.js';
import { MAX_MODELS } from './served-tally.js';
import type { PlatformStatus } from './status-server.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const MARKER = 'SECRET-PROMPT-MARKER-51d2';
const ANSWER_MARKER = 'SECRET-ANSWER-MARKER-9c0e';
const MEGABYTE = 'Z'.repeat(1 << 20);
const HOSTILE = `<script>alert("pwn")</script>\u202eexe.txt\u001b]0;title\u0007\u001b[31m\u0000\u009b2J`;

// biome-ignore lint/suspicious/noControlCharactersInRegex: none of these may reach the page.
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const served = async (url: string): Promise<PlatformStatus['served']> =>
  ((await (await fetch(`${url}/platform/status`)).json()) as PlatformStatus).served;

describe('what the bridge served, attacked', () => {
  it('stays bounded, escaped and free of prompt and answer text', async () => {
    const maxConcurrency = 16;
    h = await startHarness({ config: { statusPort: 0, maxConcurrency } });
    const url = h.agent.statusUrl!;
    const conn = await h.relay.connection();
    // Models whose name starts with "fail" get a 500 in the bridge's hostile words; the rest an answer.
    h.bridge.chat = (_req, res, body) => {
      const { model } = JSON.parse(body) as { model: string };
      if (!model.startsWith('fail')) {
        startSse(res);
        return void res.end(`${sseChunk(`${ANSWER_MARKER} hello`)}${SSE_DONE}`);
      }
      // A megabyte of words is cut where the agent reads error bodies (64 KiB), then again here.
      const detail = model.startsWith('fail-big') ? `${HOSTILE}${MEGABYTE}` : `${HOSTILE} 网络响应不正常。`;
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ detail }));
    };
    const names = [
      `${HOSTILE}${MEGABYTE}`,
      `fail${HOSTILE}${MEGABYTE}`,
      'fail-big',
      ...Array.from({ length: 150 }, (_, i) => `model-${i}`),
    ];
    let stream = 0;
    for (let at = 0; at < names.length; at += maxConcurrency) {
      for (const model of names.slice(at, at + maxConcurrency))
        conn.open(++stream, { model, stream: true, messages: [{ role: 'user', content: MARKER }] });
      const opened = stream;
      await waitFor(() => h.agent.status().served.requests === opened, `${opened} finished streams`, 10_000);
    }

    const status = await served(url);
    expect(status).toMatchObject({ requests: names.length, succeeded: names.length - 2, failed: 2 });
    expect(status.last_hour.requests).toBe(names.length);
    expect(status.models).toHaveLength(MAX_MODELS);
    expect(status.models_other).toEqual({ requests: names.length - MAX_MODELS, failed: 0 });
    expect(status.failures).toEqual([expect.objectContaining({ reason: 'upstream_error', count: 2 })]);
    const big = status.last_errors.find((e) => e.model === 'fail-big')!;
    const short = status.last_errors.find((e) => e.model !== 'fail-big')!;
    // A megabyte of words was cut: what is left of it is the English.
    expect(big.lang).toBe('en');
    expect(big.message.length).toBeLessThanOrEqual(400);
    // Short words in Chinese: kept beside the English, the fix told in Chinese.
    expect(short.message).toMatch(/^bridge answered 500: <script>alert\("pwn"\)<\/script>exe\.txt/);
    expect(short.message).toContain("(bridge's words: ");
    expect(short.message).not.toMatch(CONTROLS);
    expect(short.model!.startsWith('fail<script>')).toBe(true);
    expect(short).toMatchObject({
      lang: 'zh',
      plain: expect.stringMatching(/^LMArena 或桥接程序在这个模型上出错/),
    });

    const json = await (await fetch(`${url}/platform/status`)).text();
    expect(json.length).toBeLessThan(30_000);
    const html = await (await fetch(`${url}/`)).text();
    expect(html.length).toBeLessThan(40_000);
    expect(html).not.toMatch(/<(script|link|img)\b|src=/);
    expect(html).toContain('&lt;script&gt;alert(&quot;pwn&quot;)&lt;/script&gt;exe.txt');
    expect(html).not.toMatch(CONTROLS);
    expect(html).toContain(`other models (past the first ${MAX_MODELS} names)`);
    for (const text of [json, html]) {
      expect(text).not.toContain(MARKER);
      expect(text).not.toContain(ANSWER_MARKER);
      expect(text).not.toContain('Z'.repeat(500));
    }
  });
});
