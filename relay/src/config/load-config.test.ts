import { ConfigError, MAX_REQUEST_BODY_BYTES } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { FIELDS } from './fields.js';
import { loadConfig, RELAY_ENV_NAMES } from './load-config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('relay loadConfig', () => {
  it('gives every default in the unit the code uses', () => {
    expect(loadConfig({})).toEqual({
      port: 8787,
      host: '127.0.0.1',
      dataDir: './data',
      adminToken: undefined,
      publicUrl: undefined,
      requestTimeoutMs: 300_000,
      retryAttempts: 3,
      loadBalancing: 'least_load',
      heartbeatMs: 15_000,
      maxBodyBytes: 4 * 1024 * 1024,
      streamWindow: 256 * 1024,
      queueSize: 100,
      queueTimeoutMs: 30_000,
      cooldownFailures: 3,
      cooldownMs: 5000,
      shutdownGraceMs: 30_000,
      headersTimeoutMs: 10_000,
      maxConnectionsPerAddress: 256,
      authFailuresPerMinute: 10,
      credentialGraceMs: 300_000,
      maxAgentsPerClient: 16,
      corsOrigins: [],
      sseKeepAliveMs: 15_000,
      redisUrl: undefined,
      redisPrefix: 'arena:',
      redisCaFile: undefined,
      redisSentinels: undefined,
      redisSentinelName: 'mymaster',
      redisWaitReplicas: 0,
      redisWaitTimeoutMs: 1000,
      clusterHeartbeatMs: 2000,
      clusterQueryTimeoutMs: 1000,
      rateLimitFailMode: 'open',
      priceTable: {},
      auditMaxEntries: 100_000,
      smtpUrl: undefined,
      smtpFrom: 'Arena Relay <arena-relay@localhost>',
      telegramApiUrl: 'https://api.telegram.org',
      alerts: {
        intervalMs: 15_000,
        thresholdMs: {
          bridge_not_serving: 300_000,
          client_offline: 600_000,
          model_outage: 120_000,
          model_capacity: 120_000,
          redis_unreachable: 60_000,
          agent_update_failed: 0,
        },
        capacityMin: 0,
        ownerWebhook: { allowHttp: false, allowPrivate: false },
        settleMs: 120_000,
        quietMs: 1_800_000,
      },
      requestLogSize: 1000,
      requestLogRetentionMs: undefined,
      logLevel: 'info',
      tls: undefined,
      trustProxy: false,
      metricsRequireToken: false,
      agentUpdates: true,
      agentReleaseDir: undefined,
    });
  });

  it('converts seconds and minutes to ms, splits lists and groups the alert and TLS settings', () => {
    const config = loadConfig({
      GATEWAY_REQUEST_TIMEOUT: '2.5',
      CREDENTIAL_GRACE_SECONDS: '7',
      ALERT_INTERVAL: '0.5',
      ALERT_BRIDGE_DOWN_MINUTES: '0.5',
      ALERT_MODEL_OUTAGE_MINUTES: '3',
      ALERT_MODEL_CAPACITY_MIN: '4',
      CORS_ORIGINS: ' https://a.example, *,, ',
      REDIS_URL: ' redis://r:6379 ',
      REDIS_SENTINELS: 's1:26379, s2:26380',
      TELEGRAM_API_URL: 'http://telegram.local/bot///',
      TLS_CERT_FILE: 'cert.pem',
      TLS_KEY_FILE: 'key.pem',
      PRICE_TABLE: '{"*": {"prompt": 0.5, "completion": 1.5}}',
    });
    expect(config.requestTimeoutMs).toBe(2500);
    expect(config.credentialGraceMs).toBe(7000);
    expect(config.alerts.intervalMs).toBe(500);
    expect(config.alerts.thresholdMs.bridge_not_serving).toBe(30_000);
    // model_capacity holds as long as model_outage: one setting for both.
    expect(config.alerts.thresholdMs.model_capacity).toBe(180_000);
    expect(config.alerts.capacityMin).toBe(4);
    expect(config.corsOrigins).toEqual(['https://a.example', '*']);
    expect(config.redisUrl).toBe('redis://r:6379');
    expect(config.redisSentinels).toEqual([
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
    ]);
    // With Sentinel, a critical write waits for one replica unless told otherwise.
    expect(config.redisWaitReplicas).toBe(1);
    expect(loadConfig({ REDIS_SENTINELS: 's1:1', REDIS_WAIT_REPLICAS: '0' }).redisWaitReplicas).toBe(0);
    expect(config.telegramApiUrl).toBe('http://telegram.local/bot');
    expect(config.tls).toEqual({ certFile: 'cert.pem', keyFile: 'key.pem' });
    expect(config.priceTable).toEqual({ '*': { prompt: 0.5, completion: 1.5 } });
  });

  it('keeps the request log on disk for REQUEST_LOG_RETENTION_HOURS only with REQUEST_LOG_PERSIST', () => {
    expect(loadConfig({ REQUEST_LOG_RETENTION_HOURS: '1.5' }).requestLogRetentionMs).toBeUndefined();
    expect(
      loadConfig({ REQUEST_LOG_PERSIST: 'on', REQUEST_LOG_RETENTION_HOURS: '1.5' }).requestLogRetentionMs,
    ).toBe(5_400_000);
  });

  it('sends no early 200 with GATEWAY_STREAM_COMMIT=first_byte, whatever GATEWAY_SSE_KEEPALIVE says', () => {
    expect(loadConfig({ GATEWAY_SSE_KEEPALIVE: '3' }).sseKeepAliveMs).toBe(3000);
    expect(
      loadConfig({ GATEWAY_SSE_KEEPALIVE: '3', GATEWAY_STREAM_COMMIT: 'first_byte' }).sseKeepAliveMs,
    ).toBe(0);
  });

  it('reads a boolean from every spelling the agent accepts too, case-insensitive', () => {
    const spellings: Array<[string, boolean]> = [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      [' On ', true],
      ['false', false],
      ['0', false],
      ['No', false],
      ['off', false],
    ];
    for (const [word, expected] of spellings) {
      expect(loadConfig({ TRUST_PROXY: word }).trustProxy, word).toBe(expected);
      expect(loadConfig({ GATEWAY_AGENT_UPDATES: word }).agentUpdates, word).toBe(expected);
    }
    expect(problemsOf({ TRUST_PROXY: 'sometimes' })).toEqual([
      'TRUST_PROXY: must be true or false (got "sometimes")',
    ]);
  });

  it('treats a blank variable as unset', () => {
    const config = loadConfig({
      PORT: '',
      HOST: '  ',
      GATEWAY_REQUEST_TIMEOUT: '',
      ADMIN_TOKEN: ' ',
      TRUST_PROXY: '',
    });
    expect([config.port, config.host, config.requestTimeoutMs]).toEqual([8787, '127.0.0.1', 300_000]);
    expect([config.adminToken, config.trustProxy]).toEqual([undefined, false]);
  });

  it('lists every bad value at once, the rules between settings included, never echoing a secret', () => {
    const problems = problemsOf({
      PORT: '70000',
      GATEWAY_QUEUE_TIMEOUT: 'soon',
      GATEWAY_MAX_BODY_BYTES: String(MAX_REQUEST_BODY_BYTES + 1),
      ADMIN_TOKEN: 'short-secret',
      SMTP_URL: 'http://user:hunter2@mail',
      LOG_LEVEL: 'loud',
      PRICE_TABLE: '{"m": {"prompt": -1}}',
      TLS_CERT_FILE: 'cert.pem',
      REDIS_CA_FILE: 'ca.pem',
      REDIS_URL: 'redis://user:hunter2@r',
    });
    expect(problems).toEqual([
      'PORT: Too big: expected number to be <=65535 (got "70000")',
      'ADMIN_TOKEN: must be at least 16 characters',
      'GATEWAY_MAX_BODY_BYTES: at most 33488896 bytes: a request travels to its agent in one frame (got "33488897")',
      'GATEWAY_QUEUE_TIMEOUT: Invalid input: expected number, received NaN (got "soon")',
      'PRICE_TABLE: m.prompt: Too small: expected number to be >=0 (got "{\\"m\\": {\\"prompt\\": -1}}")',
      'PRICE_TABLE: m.completion: Invalid input: expected number, received undefined (got "{\\"m\\": {\\"prompt\\": -1}}")',
      'SMTP_URL: must be an smtp:// or smtps:// URL',
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'TLS_CERT_FILE: TLS_CERT_FILE and TLS_KEY_FILE must be set together (got "cert.pem")',
      'REDIS_CA_FILE: REDIS_CA_FILE needs a rediss:// REDIS_URL (got "ca.pem")',
    ]);
    const error = (() => {
      try {
        loadConfig({ ADMIN_TOKEN: 'short-secret', SMTP_URL: 'http://user:hunter2@mail' });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.message).toMatch(/^invalid relay configuration:\n {2}- ADMIN_TOKEN: /);
    expect(error.message).not.toMatch(/short-secret|hunter2/);
  });

  it('shows a bad value JSON-quoted (control characters escaped) and cuts a huge one', () => {
    const [problem] = problemsOf({ GATEWAY_LOAD_BALANCING: `\u001b[31mred${'x'.repeat(1_000_000)}` });
    expect(problem).toMatch(/^GATEWAY_LOAD_BALANCING: Invalid option: .* \(got "\\u001b\[31mredx+…"\)$/);
    expect(problem!.length).toBeLessThan(500);
  });

  it('names each variable once, in the environment style', () => {
    expect(new Set(RELAY_ENV_NAMES).size).toBe(RELAY_ENV_NAMES.length);
    for (const name of RELAY_ENV_NAMES) expect(name).toMatch(/^[A-Z][A-Z0-9_]*$/);
    expect(RELAY_ENV_NAMES).toHaveLength(Object.keys(FIELDS).length);
    for (const field of Object.values(FIELDS)) expect(field.doc.trim(), field.env).not.toBe('');
  });
});
