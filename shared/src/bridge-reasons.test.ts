import { describe, expect, it } from 'vitest';
import { BRIDGE_REASON_FIXES, BRIDGE_REASON_WORDS, bridgeReasonCode } from './bridge-reasons.js';
import { parseAgentFrame } from './frames/index.js';

describe('bridge reason codes', () => {
  it('has a plain-language fix for every code', () => {
    for (const code of bridgeReasonCode.options) expect(BRIDGE_REASON_FIXES[code].length).toBeGreaterThan(10);
    expect(BRIDGE_REASON_FIXES.cloudflare_challenge).toContain(
      'open arena.ai in the browser and pass the check',
    );
    // 2026: nothing tells an owner to open lmarena.ai (it redirects); the old userscript has its own fix.
    for (const code of bridgeReasonCode.options)
      expect(BRIDGE_REASON_FIXES[code]).not.toMatch(/open lmarena\.ai/);
    expect(BRIDGE_REASON_FIXES.userscript_outdated).toContain('@match https://arena.ai/*');
  });

  it('has a Chinese fix beside every English one, naming the same things', () => {
    for (const code of bridgeReasonCode.options) {
      const { en, zh } = BRIDGE_REASON_WORDS[code];
      expect(BRIDGE_REASON_FIXES[code]).toBe(en);
      expect(zh, code).toMatch(/[\u4e00-\u9fff]{4}/);
      // What the owner types or looks for is not translated: file keys, addresses, products.
      for (const name of en.match(
        /config\.jsonc|upstream_url|upstream_api_key|arena\.ai|sk-lmab-|reCAPTCHA|@match https:\/\/arena\.ai\/\*/g,
      ) ?? [])
        expect(zh, `${code}: ${name}`).toContain(name);
    }
    expect(BRIDGE_REASON_WORDS.cloudflare_challenge.zh).toContain('人机验证');
  });

  it('carries the code and retry-after in ready frames, and reads frames of older agents without them', () => {
    expect(
      parseAgentFrame(
        '{"type":"ready","ready":false,"reason":"bridge answered 503","code":"cloudflare_challenge","retryAfterMs":1200}',
      ),
    ).toEqual({
      ok: true,
      frame: {
        type: 'ready',
        ready: false,
        reason: 'bridge answered 503',
        code: 'cloudflare_challenge',
        retryAfterMs: 1200,
      },
    });
    expect(parseAgentFrame('{"type":"ready","ready":true}')).toEqual({
      ok: true,
      frame: { type: 'ready', ready: true },
    });
  });

  it('reads a code it does not know (a newer agent) as bridge_error instead of failing the frame', () => {
    const parsed = parseAgentFrame('{"type":"ready","ready":false,"code":"tab_on_fire","retryAfterMs":-5}');
    expect(parsed).toEqual({ ok: true, frame: { type: 'ready', ready: false, code: 'bridge_error' } });
  });

  it('carries scope, reason and retry-after in error frames, tolerating unknown values', () => {
    expect(
      parseAgentFrame(
        '{"type":"error","stream":3,"code":"upstream_unavailable","message":"m","status":500,"scope":"bridge","reason":"upstream_rate_limited","retryAfterMs":12000}',
      ),
    ).toMatchObject({
      ok: true,
      frame: { scope: 'bridge', reason: 'upstream_rate_limited', retryAfterMs: 12000 },
    });
    const odd = parseAgentFrame(
      '{"type":"error","stream":3,"code":"upstream_error","message":"m","scope":"galaxy"}',
    );
    expect(odd).toEqual({
      ok: true,
      frame: { type: 'error', stream: 3, code: 'upstream_error', message: 'm' },
    });
  });
});
