import { BRIDGE_REASON_WORDS } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import type { StreamOutcome } from '../tunnel/relay-stream.js';
import { classifyBridgeMessage, classifyStatus } from '../upstream/classify.js';
import { servedSection } from './served-section.js';
import { LAST_ERRORS, MAX_MODELS, MESSAGE_MAX, MODEL_NAME_MAX, ServedTally } from './served-tally.js';

const ended: StreamOutcome = { kind: 'ended' };
const failed = (failure: Extract<StreamOutcome, { kind: 'failed' }>['failure']): StreamOutcome => ({
  kind: 'failed',
  failure,
});

/** A tally on a clock the test moves. */
function clocked(start = Date.UTC(2026, 11, 6, 8, 0, 0)) {
  const clock = { now: start };
  return { clock, tally: new ServedTally(() => clock.now) };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: none of these may be kept.
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('served tally', () => {
  it('counts since the start and in the last hour, by minute', () => {
    const { clock, tally } = clocked();
    tally.record(ended, 'gpt-5');
    tally.record({ kind: 'cancelled' }, 'gpt-5');
    clock.now += 30 * 60_000;
    tally.record(failed({ code: 'upstream_timeout', message: 'bridge timed out' }), 'claude-opus');
    tally.record({ kind: 'aborted' }, undefined);
    expect(tally.snapshot()).toMatchObject({
      since: '2026-12-06T08:00:00.000Z',
      requests: 4,
      succeeded: 1,
      failed: 1,
      cancelled: 2,
      last_hour: { requests: 4, succeeded: 1, failed: 1, cancelled: 2 },
    });
    // An hour after the first two, only the later two are in the last hour.
    clock.now += 30 * 60_000;
    expect(tally.snapshot().last_hour).toEqual({ requests: 2, succeeded: 0, failed: 1, cancelled: 1 });
    // Two hours on, a bucket reused for a new minute starts from nothing.
    clock.now += 2 * 60 * 60_000;
    tally.record(ended, 'gpt-5');
    expect(tally.snapshot().last_hour).toEqual({ requests: 1, succeeded: 1, failed: 0, cancelled: 0 });
    expect(tally.snapshot().requests).toBe(5);
    expect(tally.snapshot().models).toEqual([
      { model: 'gpt-5', requests: 3, failed: 0 },
      { model: 'claude-opus', requests: 1, failed: 1 },
    ]);
  });

  it('groups failures by bridge reason, else by stream code, with the fix in the language the bridge spoke', () => {
    const { clock, tally } = clocked();
    const cloudflare = classifyBridgeMessage('检测到人机验证，已发送刷新指令，请稍后重试。');
    expect(cloudflare.reason).toBe('cloudflare_challenge');
    tally.record(failed(cloudflare), 'gpt-5');
    clock.now += 1000;
    tally.record(failed(classifyBridgeMessage('Model is currently unavailable (fake)')), 'gpt-5');
    clock.now += 1000;
    tally.record(failed(cloudflare), 'gpt-5');
    const { failures, last_errors } = tally.snapshot();
    expect(failures).toEqual([
      {
        reason: 'cloudflare_challenge',
        count: 2,
        fix: BRIDGE_REASON_WORDS.cloudflare_challenge.en,
        fix_zh: BRIDGE_REASON_WORDS.cloudflare_challenge.zh,
        lang: 'zh',
        last_at: '2026-12-06T08:00:02.000Z',
      },
      expect.objectContaining({ reason: 'upstream_error', count: 1, lang: 'en' }),
    ]);
    // Newest first, each with its time and what to do.
    expect(last_errors.map((e) => [e.at, e.reason, e.lang])).toEqual([
      ['2026-12-06T08:00:02.000Z', 'cloudflare_challenge', 'zh'],
      ['2026-12-06T08:00:01.000Z', 'upstream_error', 'en'],
      ['2026-12-06T08:00:00.000Z', 'cloudflare_challenge', 'zh'],
    ]);
    expect(last_errors[0]).toMatchObject({
      model: 'gpt-5',
      code: 'upstream_unavailable',
      status: 500,
      plain: BRIDGE_REASON_WORDS.cloudflare_challenge.zh,
      message: expect.stringContaining("(bridge's words: 检测到人机验证"),
    });
    expect(last_errors[1]!.plain).toMatch(/^LMArena or the bridge failed on this model/);
  });

  it(`keeps the last ${LAST_ERRORS} errors only`, () => {
    const { clock, tally } = clocked();
    for (let i = 0; i < 25; i++) {
      clock.now += 1000;
      tally.record(failed({ code: 'upstream_error', message: `error ${i}` }), 'gpt-5');
    }
    const errors = tally.snapshot().last_errors;
    expect(errors.map((e) => e.message)).toEqual(
      Array.from({ length: LAST_ERRORS }, (_, i) => `error ${24 - i}`),
    );
    expect(tally.snapshot().failures).toEqual([
      expect.objectContaining({ reason: 'upstream_error', count: 25 }),
    ]);
  });

  it(`counts ${MAX_MODELS} model names, then the rest as other: 10 000 names stay bounded`, () => {
    const { tally } = clocked();
    for (let i = 0; i < 10_000; i++)
      tally.record(i % 2 ? ended : failed({ code: 'upstream_error', message: 'x' }), `m-${i}`);
    const served = tally.snapshot();
    expect(served.models).toHaveLength(MAX_MODELS);
    expect(served.models_other).toEqual({ requests: 10_000 - MAX_MODELS, failed: (10_000 - MAX_MODELS) / 2 });
    // A name already counted keeps its own row.
    tally.record(ended, 'm-1');
    expect(tally.snapshot().models.find((m) => m.model === 'm-1')).toEqual({
      model: 'm-1',
      requests: 2,
      failed: 0,
    });
    const html = servedSection(tally.snapshot());
    expect(html.length).toBeLessThan(20_000);
    expect(html).toContain(`other models (past the first ${MAX_MODELS} names)`);
    expect(html).not.toContain('m-9999');
  });

  it('cuts and strips hostile model names and bridge words, and the page escapes them', () => {
    const { tally } = clocked();
    const megabyte = 'A'.repeat(1 << 20);
    const hostile = `<script>alert(1)</script>\u202egnp.exe\u001b[31m\u0007\r\n${megabyte}`;
    tally.record(failed({ code: 'upstream_error', message: hostile }), hostile);
    tally.record(ended, '\u001b]0;\u0007'); // nothing left once stripped: no model row
    const served = tally.snapshot();
    const [model] = served.models;
    expect(served.models).toHaveLength(1);
    expect(model!.model.length).toBeLessThanOrEqual(MODEL_NAME_MAX);
    expect(model!.model.startsWith('<script>alert(1)</script>gnp.exe')).toBe(true);
    const [error] = served.last_errors;
    expect(error!.message.length).toBeLessThanOrEqual(MESSAGE_MAX);
    for (const text of [model!.model, error!.message]) expect(text).not.toMatch(CONTROLS);
    expect(JSON.stringify(served).length).toBeLessThan(10_000);

    const html = servedSection(served);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;gnp.exe');
    expect(html).not.toMatch(CONTROLS);
    expect(html.length).toBeLessThan(10_000);
  });

  it("tells a request the bridge refused in Chinese as the request's, in Chinese", () => {
    const { tally } = clocked();
    tally.record(failed(classifyStatus(400, '无效的 JSON 请求体')), 'gpt-5');
    expect(tally.snapshot().last_errors[0]).toMatchObject({
      reason: 'upstream_rejected',
      lang: 'zh',
      status: 400,
      plain: expect.stringMatching(/^桥接程序拒绝了这个请求本身/),
      message: "bridge answered 400: invalid JSON request body (bridge's words: 无效的 JSON 请求体)",
    });
  });
});
