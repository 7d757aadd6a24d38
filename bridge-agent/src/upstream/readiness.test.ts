import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BridgeClient } from './bridge-client.js';
import type { UpstreamFailure } from './classify.js';
import { DIALECTS } from './dialects/index.js';
import { Readiness } from './readiness.js';

type Answer = { status: number; body: string } | 'refused';

/** A BridgeClient stand-in whose two probe routes answer what the test says, counting calls. */
class StubBridge {
  models: Answer = { status: 200, body: '{"object":"list","data":[{"id":"gpt-5"}]}' };
  serve: Answer = { status: 500, body: 'Internal Server Error' };
  readonly calls: string[] = [];

  asClient(): BridgeClient {
    return {
      dialect: DIALECTS['lmarenabridge-v2'],
      models: () => this.#answer('models', this.models),
      serveProbe: () => this.#answer('serve', this.serve),
    } as unknown as BridgeClient;
  }

  async #answer(route: string, answer: Answer): Promise<Dispatcher.ResponseData> {
    this.calls.push(route);
    if (answer === 'refused')
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return { statusCode: answer.status, body: Readable.from([Buffer.from(answer.body)]) } as never;
  }
}

const TAB_CLOSED = {
  status: 503,
  body: '{"detail":"油猴脚本客户端未连接。请确保 LMArena 页面已打开并激活脚本。"}',
};
const CLOUDFLARE = { status: 503, body: '{"detail":"正在等待浏览器刷新以完成人机验证，请在几秒钟后重试。"}' };

/** Lets the probe's promise chain (stub answers, body reads) settle under fake timers. */
const settle = () => vi.advanceTimersByTimeAsync(0);

/** The bridge's own failure (scope `bridge`) for `reason`, as the agent classified it. */
function bridgeFailure(
  reason: NonNullable<UpstreamFailure['reason']>,
  status: number,
  message: string,
  over: Partial<UpstreamFailure> = {},
): UpstreamFailure {
  return {
    code: 'upstream_unavailable',
    status,
    scope: 'bridge',
    reason,
    message,
    ...over,
  };
}

describe('Readiness', () => {
  let bridge: StubBridge;
  let readiness: Readiness;
  beforeEach(() => {
    vi.useFakeTimers();
    bridge = new StubBridge();
    readiness = new Readiness(bridge.asClient(), {
      intervalMs: 30_000,
      retryBaseMs: 1_000,
      retryCapMs: 30_000,
    });
  });
  afterEach(() => {
    readiness.stop();
    vi.useRealTimers();
  });

  it('bridge: auto detects before the first probe, and again only after the bridge was unreachable', async () => {
    const answered = [true];
    const auto = new Readiness(bridge.asClient(), {
      intervalMs: 30_000,
      retryBaseMs: 1_000,
      detect: async () => {
        bridge.calls.push('detect');
        return answered.shift() ?? true;
      },
    });
    await auto.start();
    expect(bridge.calls).toEqual(['detect', 'models']);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(bridge.calls).toEqual(['detect', 'models', 'models']);
    bridge.models = 'refused';
    await vi.advanceTimersByTimeAsync(30_000);
    expect(auto.code).toBe('bridge_down');
    // Another bridge may have come up at the address: ask again before the next probe.
    bridge.models = { status: 200, body: '{"data":[{"id":"llama3"}]}' };
    await vi.advanceTimersByTimeAsync(1_000);
    // (v2.7.6 also asks its serve probe after an outage.)
    expect(bridge.calls.slice(3)).toEqual(['models', 'detect', 'models', 'serve']);
    expect(auto).toMatchObject({ ready: true, models: ['llama3'] });
    auto.stop();
  });

  it('calls a v2.7.6 userscript that has never connected for minutes outdated (lmarena.ai only), not one that served', async () => {
    for (const servedBefore of [false, true]) {
      const stub = new StubBridge();
      stub.serve = TAB_CLOSED;
      const r = new Readiness(stub.asClient(), { intervalMs: 30_000, outdatedAfterMs: 60_000 });
      await r.start();
      if (servedBefore) r.served();
      const tabGone = {
        code: 'upstream_unavailable',
        status: 503,
        reason: 'userscript_disconnected',
        message: 'x',
      } as const;
      r.chatFailed(tabGone);
      expect(r.code).toBe('userscript_disconnected');
      // Probes every 2 s: the first one after the minute says so.
      await vi.advanceTimersByTimeAsync(62_000);
      expect(r.code).toBe(servedBefore ? 'userscript_disconnected' : 'userscript_outdated');
      r.stop();
    }
  });

  it('starts ready from /v1/models alone, then probes every interval', async () => {
    await readiness.start();
    expect(readiness).toMatchObject({ ready: true, code: undefined, models: ['gpt-5'] });
    expect(bridge.calls).toEqual(['models']);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(bridge.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(bridge.calls).toEqual(['models', 'models']);
  });

  it('goes not ready for the reason a chat found, retries on 1 s, 2 s, 4 s and comes back once the tab serves', async () => {
    await readiness.start();
    const flips: Array<[boolean, string | undefined]> = [];
    readiness.on('ready', (ready) => flips.push([ready, readiness.code]));
    bridge.serve = TAB_CLOSED;
    readiness.chatFailed(
      bridgeFailure('userscript_disconnected', 503, 'bridge answered 503: 油猴脚本客户端未连接'),
    );
    expect(readiness).toMatchObject({ ready: false, code: 'userscript_disconnected' });
    bridge.calls.length = 0;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(bridge.calls).toEqual(['models', 'serve']);
    await vi.advanceTimersByTimeAsync(1_999);
    expect(bridge.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(bridge.calls).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(bridge.calls).toHaveLength(6);
    expect(readiness.nextProbeInMs()).toBe(8_000);
    // The Cloudflare check now: same backoff, new reason, said once.
    bridge.serve = CLOUDFLARE;
    await vi.advanceTimersByTimeAsync(8_000);
    expect(readiness.code).toBe('cloudflare_challenge');
    // The tab passes the check: the next probe (16 s later at most) brings it back.
    bridge.serve = { status: 500, body: 'Internal Server Error' };
    await vi.advanceTimersByTimeAsync(16_000);
    expect(readiness).toMatchObject({ ready: true, code: undefined, reason: undefined });
    expect(flips).toEqual([
      [false, 'userscript_disconnected'],
      [false, 'cloudflare_challenge'],
      [true, undefined],
    ]);
    // Ready again: back to the long interval.
    expect(readiness.nextProbeInMs()).toBe(30_000);
  });

  it('retries every 2 s at most by default, so a bridge that is back serves within 2 s', async () => {
    const quick = new Readiness(bridge.asClient());
    try {
      await quick.start();
      bridge.serve = CLOUDFLARE;
      quick.chatFailed({
        code: 'upstream_unavailable',
        status: 503,
        reason: 'cloudflare_challenge',
        message: 'cf',
      });
      await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 2_000);
      expect(quick.nextProbeInMs()).toBe(2_000);
      bridge.serve = { status: 500, body: 'Internal Server Error' };
      await vi.advanceTimersByTimeAsync(2_000);
      expect(quick.ready).toBe(true);
    } finally {
      quick.stop();
    }
  });

  it('never caps the backoff above the interval', async () => {
    await readiness.start();
    bridge.models = 'refused';
    readiness.chatFailed({ code: 'upstream_unavailable', status: 503, reason: 'bridge_error', message: 'x' });
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000 + 8_000 + 16_000);
    expect(readiness).toMatchObject({ ready: false, code: 'bridge_down' });
    expect(readiness.nextProbeInMs()).toBe(30_000);
  });

  it("honours LMArena's retry-after: no probe brings the bridge back before it has passed", async () => {
    await readiness.start();
    readiness.chatFailed(
      bridgeFailure('upstream_rate_limited', 500, '网络响应不正常。状态: 429.', { retryAfterMs: 12_000 }),
    );
    expect(readiness.nextProbeInMs()).toBe(12_000);
    // A health round trip in between probes, but cannot end the wait.
    const early = await readiness.probe();
    expect(early).toMatchObject({ ok: false });
    expect(readiness).toMatchObject({ ready: false, code: 'upstream_rate_limited' });
    await vi.advanceTimersByTimeAsync(11_000);
    expect(readiness.ready).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(readiness).toMatchObject({ ready: true, holdUntil: 0 });
  });

  it('holds reasons the probe cannot see (session expired) for a while even without a retry-after', async () => {
    await readiness.start();
    readiness.chatFailed(bridgeFailure('session_expired', 500, 'does not have access to evaluation session'));
    await vi.advanceTimersByTimeAsync(29_000);
    expect(readiness).toMatchObject({ ready: false, code: 'session_expired' });
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(readiness.ready).toBe(true);
  });

  it('probes at once on a network error instead of benching a bridge that still answers', async () => {
    await readiness.start();
    bridge.calls.length = 0;
    readiness.chatFailed({
      code: 'upstream_unavailable',
      scope: 'bridge',
      reason: 'bridge_down',
      message: 'ECONNRESET',
    });
    await settle();
    expect(bridge.calls).toEqual(['models']);
    expect(readiness.ready).toBe(true);
  });

  it('reports a bridge that is down, then one without models, by code', async () => {
    bridge.models = 'refused';
    await readiness.start();
    expect(readiness).toMatchObject({ ready: false, code: 'bridge_down' });
    bridge.models = { status: 404, body: '{"error": "模型列表为空或 \'models.json\' 未找到。"}' };
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readiness).toMatchObject({ ready: false, code: 'bridge_misconfigured' });
    bridge.models = { status: 200, body: '{"data":[{"id":"gpt-5"}]}' };
    await vi.advanceTimersByTimeAsync(2_000);
    // Back from down: the chat route is asked too before the bridge counts as ready.
    expect(bridge.calls.slice(-2)).toEqual(['models', 'serve']);
    expect(readiness.ready).toBe(true);
  });
});
