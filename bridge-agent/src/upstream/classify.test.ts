import { describe, expect, it } from 'vitest';
import { inEnglish } from './bridge-words.js';
import {
  classifyBridgeMessage,
  classifyNetworkError,
  classifyStatus,
  errorDetail,
  retryAfterMs,
} from './classify.js';

/** The bridge's and its userscript's own texts (LMArenaBridge v2.7.6, api_server.py). */
const TEXTS = {
  fetchFailure: '网络响应不正常。状态: 500. 内容: fake upstream failure',
  attachmentTooLarge:
    '上传失败：附件大小超过了 LMArena 服务器的限制 (通常是 5MB左右)。请尝试压缩文件或上传更小的文件。',
  cloudflareDetected: '检测到人机验证，已发送刷新指令，请稍后重试。',
  cloudflarePage:
    '检测到 Cloudflare 人机验证页面。请在浏览器中刷新 LMArena 页面并手动完成验证，然后重试请求。',
  cloudflareRefreshing: '正在等待浏览器刷新以完成人机验证，请在几秒钟后重试。',
  tabClosed: '油猴脚本客户端未连接。请确保 LMArena 页面已打开并激活脚本。',
  browserGone: 'Browser disconnected during operation',
  timeout: 'Response timed out after 360 seconds.',
  modelUnavailable: 'Model is currently unavailable (fake)',
  sessionExpired:
    '网络响应不正常。状态: 401. 内容: {"error":"User does not have access to evaluation session"}',
  recaptcha: '网络响应不正常。状态: 403. 内容: {"error":"recaptcha validation failed"}',
  rateLimited: '网络响应不正常。状态: 429. 内容: {"error":"Too Many Requests","retry_after":12}',
  justAMoment: '网络响应不正常。状态: 403. 内容: <!DOCTYPE html><title>Just a moment...</title>',
};

describe('classifyBridgeMessage: one code, status and scope per in-band message', () => {
  it.each([
    ['fetchFailure', 'upstream_error', 500, 'model', undefined],
    ['attachmentTooLarge', 'upstream_rejected', 413, 'request', undefined],
    ['cloudflareDetected', 'upstream_unavailable', 500, 'bridge', 'cloudflare_challenge'],
    ['cloudflarePage', 'upstream_unavailable', 500, 'bridge', 'cloudflare_challenge'],
    ['justAMoment', 'upstream_unavailable', 500, 'bridge', 'cloudflare_challenge'],
    ['tabClosed', 'upstream_unavailable', 500, 'bridge', 'userscript_disconnected'],
    ['browserGone', 'upstream_unavailable', 500, 'bridge', 'userscript_disconnected'],
    ['timeout', 'upstream_timeout', 500, 'model', undefined],
    ['modelUnavailable', 'upstream_error', 500, 'model', undefined],
    ['sessionExpired', 'upstream_unavailable', 500, 'bridge', 'session_expired'],
    ['recaptcha', 'upstream_unavailable', 500, 'bridge', 'recaptcha_failed'],
    ['rateLimited', 'upstream_unavailable', 500, 'bridge', 'upstream_rate_limited'],
  ] as const)('%s → %s %i (%s, %s)', (name, code, status, scope, reason) => {
    const text = TEXTS[name];
    const failure = classifyBridgeMessage(text);
    // The bridge's Chinese in English, its own words kept beside.
    expect(failure).toMatchObject({ code, status, scope, message: inEnglish(text) });
    expect(failure.reason).toBe(reason);
    // Not streamed, the bridge wraps the same message in a bridge_error body: same outcome.
    const body = `{"error": {"message": "[LMArena Bridge Error]: ${text.replaceAll('"', '\\"')}", "type": "bridge_error", "code": "processing_error"}}`;
    const nonStream = classifyStatus(status, errorDetail(body));
    expect(nonStream).toEqual(failure);
  });

  it("reads LMArena's retry-after out of a rate-limit message", () => {
    expect(classifyBridgeMessage(TEXTS.rateLimited).retryAfterMs).toBe(12_000);
    expect(classifyBridgeMessage('网络响应不正常。状态: 429. 内容: slow down').retryAfterMs).toBeUndefined();
  });

  it('keeps model text that only mentions a timeout out of the bridge-wide reasons', () => {
    expect(classifyBridgeMessage('the answer timed out upstream').scope).toBe('model');
  });
});

describe('classifyStatus', () => {
  it.each([
    [500, 'upstream_error', 'model'],
    [502, 'upstream_error', 'model'],
    [400, 'upstream_rejected', 'request'],
    [404, 'upstream_rejected', 'request'],
    [413, 'upstream_rejected', 'request'],
  ] as const)('maps %i to %s (%s), keeping the status and the bridge message', (status, code, scope) => {
    expect(classifyStatus(status, 'why')).toEqual({
      code,
      status,
      scope,
      message: `bridge answered ${status}: why`,
    });
  });

  it.each([
    [TEXTS.tabClosed, 'userscript_disconnected'],
    [TEXTS.cloudflareRefreshing, 'cloudflare_challenge'],
    ['something else', 'bridge_error'],
  ] as const)('maps a 503 "%s" to a bridge-wide %s', (detail, reason) => {
    expect(classifyStatus(503, detail)).toEqual({
      code: 'upstream_unavailable',
      status: 503,
      scope: 'bridge',
      reason,
      message: `bridge answered 503: ${inEnglish(detail)}`,
    });
  });

  it('tells a bad request from bad session ids in the bridge config and an unmapped model', () => {
    expect(classifyStatus(400, '无效的 JSON 请求体')).toMatchObject({
      code: 'upstream_rejected',
      scope: 'request',
    });
    expect(
      classifyStatus(
        400,
        "最终确定的会话ID或消息ID无效。请检查 'model_endpoint_map.json' 和 'config.jsonc' 中的配置",
      ),
    ).toMatchObject({ code: 'upstream_unavailable', scope: 'bridge', reason: 'bridge_misconfigured' });
    expect(classifyStatus(400, "模型 'x' 没有配置独立的会话ID。")).toMatchObject({
      code: 'upstream_error',
      scope: 'model',
    });
  });

  it('honours a 429 retry-after header, in seconds or as a date', () => {
    expect(classifyStatus(429, 'Too Many Requests', '7')).toMatchObject({
      code: 'upstream_unavailable',
      reason: 'upstream_rate_limited',
      retryAfterMs: 7_000,
    });
    expect(retryAfterMs(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('says the bridge rejected the agent key on 401/403', () => {
    const failure = classifyStatus(401, 'Invalid API Key');
    expect(failure.code).toBe('upstream_unavailable');
    expect(failure).toMatchObject({ scope: 'bridge', reason: 'bridge_auth_failed' });
    expect(failure.status).toBe(401);
    expect(failure.message).toContain("the bridge rejected the agent's key (401): Invalid API Key");
    expect(failure.message).toContain('AGENT_UPSTREAM_API_KEY');
  });
});

describe('errorDetail', () => {
  it('reads FastAPI detail, the OpenAI-like error message, or the raw text', () => {
    expect(errorDetail('{"detail":"正在等待浏览器刷新"}')).toBe('正在等待浏览器刷新');
    expect(errorDetail('{"error": {"message": "[LMArena Bridge Error]: x", "type": "bridge_error"}}')).toBe(
      '[LMArena Bridge Error]: x',
    );
    expect(errorDetail('{"detail":[{"loc":["body"]}]}')).toBe('[{"loc":["body"]}]');
    expect(errorDetail(' Internal Server Error ')).toBe('Internal Server Error');
  });
});

describe('classifyNetworkError', () => {
  it('tells timeouts from unreachable bridges', () => {
    expect(
      classifyNetworkError(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' })).code,
    ).toBe('upstream_timeout');
    expect(classifyNetworkError(Object.assign(new Error('x'), { code: 'UND_ERR_BODY_TIMEOUT' })).code).toBe(
      'upstream_timeout',
    );
    const refused = classifyNetworkError(
      new AggregateError([Object.assign(new Error('c'), { code: 'ECONNREFUSED' })]),
    );
    expect(refused).toEqual({
      code: 'upstream_unavailable',
      scope: 'bridge',
      reason: 'bridge_down',
      message: 'bridge unreachable: ECONNREFUSED',
    });
    expect(classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' })).code).toBe(
      'upstream_unavailable',
    );
  });
});
