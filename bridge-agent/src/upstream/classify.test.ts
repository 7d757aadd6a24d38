import { describe, expect, it } from 'vitest';
import { classifyNetworkError, classifyStatus, errorDetail } from './classify.js';

describe('classifyStatus', () => {
  it.each([
    [503, 'upstream_unavailable'],
    [500, 'upstream_error'],
    [502, 'upstream_error'],
    [400, 'upstream_rejected'],
    [404, 'upstream_rejected'],
    [413, 'upstream_rejected'],
  ])('maps %i to %s, keeping the status and the bridge message', (status, code) => {
    expect(classifyStatus(status, 'why')).toEqual({
      code,
      status,
      message: `bridge answered ${status}: why`,
    });
  });

  it('says the bridge rejected the agent key on 401/403', () => {
    const failure = classifyStatus(401, 'Invalid API Key');
    expect(failure.code).toBe('upstream_unavailable');
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
    expect(refused).toEqual({ code: 'upstream_unavailable', message: 'bridge unreachable: ECONNREFUSED' });
    expect(classifyNetworkError(Object.assign(new Error('x'), { code: 'ECONNRESET' })).code).toBe(
      'upstream_unavailable',
    );
  });
});
