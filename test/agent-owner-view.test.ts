/**
 * The owner's own view, end to end: a real relay, a real agent and a fake LMArenaBridge v2.7.6
 * over real sockets. Consumers' requests succeed and fail (the bridge's Chinese in-band errors, as
 * recorded in shared/fixtures/lmarenabridge/), then the agent's `/` and `/platform/status` say what
 * the bridge served: counts, failures by reason with the fix in Chinese, models, the last errors —
 * and nothing of the prompts or the answers.
 */
import { BRIDGE_REASON_WORDS } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import type { PlatformStatus } from '../bridge-agent/src/status/status-server.js';
import { startTestAgent } from './support/agent.js';
import { track } from './support/cleanup.js';
import { BRIDGE_TEXTS, DEFAULT_CHUNKS, startFakeBridge } from './support/fake-bridge.js';
import { startTestRelay } from './support/relay.js';

const PROMPT_MARKER = 'OWNER-VIEW-PROMPT-3b7e';
const ANSWER_MARKER = 'OWNER-VIEW-ANSWER-a41c';

describe("the owner's view of what the bridge served", () => {
  it('counts successes and failures, tells the Chinese errors in Chinese, and keeps no prompt or answer', async () => {
    const relay = await startTestRelay();
    const { token } = await relay.createClient();
    const { key } = await relay.createKey();
    const bridge = track(await startFakeBridge({ chunks: [ANSWER_MARKER, ...DEFAULT_CHUNKS] }));
    const agent = await startTestAgent(relay.url, token, bridge.url, { statusPort: 0 });
    const chat = async (model: string, stream: boolean) => {
      const response = await fetch(`${relay.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: PROMPT_MARKER }] }),
      });
      return { status: response.status, text: await response.text() };
    };

    // Three answers…
    for (const [model, stream] of [
      ['gpt-5', true],
      ['gpt-5', false],
      ['claude-opus-4', true],
    ] as const) {
      const answer = await chat(model, stream);
      expect(answer.status).toBe(200);
      expect(answer.text).toContain(ANSWER_MARKER);
    }
    // …then LMArena's fetch fails in the browser (one model's trouble), then a Cloudflare check
    // (the whole bridge's): both in-band, in the bridge's Chinese.
    bridge.scenario = 'error';
    expect((await chat('claude-opus-4', true)).status).toBeGreaterThanOrEqual(500);
    bridge.scenario = 'cloudflare';
    expect((await chat('gpt-5', true)).status).toBe(503);
    await expect.poll(() => agent.status().served.requests).toBe(5);

    const url = agent.statusUrl!;
    const body = await (await fetch(`${url}/platform/status`)).text();
    const { served, ...status } = JSON.parse(body) as PlatformStatus;
    expect(served).toMatchObject({
      requests: 5,
      succeeded: 3,
      failed: 2,
      cancelled: 0,
      last_hour: { requests: 5, succeeded: 3, failed: 2, cancelled: 0 },
      models: [
        { model: 'gpt-5', requests: 3, failed: 1 },
        { model: 'claude-opus-4', requests: 2, failed: 1 },
      ],
      models_other: { requests: 0, failed: 0 },
    });
    expect(served.failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          reason: 'cloudflare_challenge',
          count: 1,
          lang: 'zh',
          fix: BRIDGE_REASON_WORDS.cloudflare_challenge.en,
          fix_zh: BRIDGE_REASON_WORDS.cloudflare_challenge.zh,
        }),
        expect.objectContaining({ reason: 'upstream_error', count: 1, lang: 'zh' }),
      ]),
    );
    expect(served.failures).toHaveLength(2);
    // Newest first, with the bridge's words beside the English and the fix in Chinese.
    expect(served.last_errors).toHaveLength(2);
    const [cloudflare, fetchFailure] = served.last_errors;
    expect(cloudflare).toMatchObject({
      model: 'gpt-5',
      code: 'upstream_unavailable',
      reason: 'cloudflare_challenge',
      lang: 'zh',
      plain: BRIDGE_REASON_WORDS.cloudflare_challenge.zh,
      message: expect.stringContaining(`(bridge's words: ${BRIDGE_TEXTS.cloudflareDetected})`),
    });
    expect(Date.parse(cloudflare!.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(fetchFailure).toMatchObject({
      model: 'claude-opus-4',
      code: 'upstream_error',
      reason: 'upstream_error',
      lang: 'zh',
      plain: expect.stringMatching(/^LMArena 或桥接程序在这个模型上出错/),
      message: expect.stringContaining(BRIDGE_TEXTS.fetchFailure),
    });
    // The bridge is out until the check is passed: the fix on top is in Chinese too.
    expect(status).toMatchObject({ ready: false, ready_code: 'cloudflare_challenge' });
    expect(status.ready_fix_zh).toBe(BRIDGE_REASON_WORDS.cloudflare_challenge.zh);

    const html = await (await fetch(`${url}/`)).text();
    expect(html).toContain('<h2>What the bridge served</h2>');
    expect(html).toContain('<tr><th>Since the start</th><td>5 (3 served, 2 failed, 0 cancelled), started ');
    expect(html).toContain('<tr><th>In the last hour</th><td>5 (3 served, 2 failed, 0 cancelled)</td></tr>');
    expect(html).toContain('<td><code>cloudflare_challenge</code></td><td>1</td>');
    expect(html).toContain(`<span lang="zh-CN">${BRIDGE_REASON_WORDS.cloudflare_challenge.zh}</span>`);
    expect(html).toContain('<td>gpt-5</td><td>3</td><td>1</td>');
    expect(html).toContain('<td>claude-opus-4</td><td>2</td><td>1</td>');
    expect(html).toContain(BRIDGE_TEXTS.cloudflareDetected);
    expect(html).toMatch(
      /<li><time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/time> <code>cloudflare_challenge<\/code> · gpt-5/,
    );
    for (const text of [body, html]) {
      expect(text).not.toContain(PROMPT_MARKER);
      expect(text).not.toContain(ANSWER_MARKER);
    }
  });
});
