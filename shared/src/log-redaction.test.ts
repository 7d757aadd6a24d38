import { describe, expect, it } from 'vitest';
import { isSecretFieldName, LOG_CENSOR, LOG_REDACT_PATHS, redactSecretsInText } from './log-redaction.js';

describe('redactSecretsInText', () => {
  it('hides the user part of any URL and keeps scheme, host and port', () => {
    expect(redactSecretsInText('via http://bob:hunter2@proxy.lan:3128/ failed')).toBe(
      `via http://${LOG_CENSOR}@proxy.lan:3128/ failed`,
    );
    expect(redactSecretsInText('"socks5://u%40x:p%3Aw@10.0.0.1:1080"')).toBe(
      `"socks5://${LOG_CENSOR}@10.0.0.1:1080"`,
    );
    expect(redactSecretsInText('redis://:s3cret@db:6379/0')).toBe(`redis://${LOG_CENSOR}@db:6379/0`);
  });

  it('hides the path of Slack, Discord and Telegram webhook URLs', () => {
    const line = JSON.stringify({
      a: 'https://hooks.slack.com/services/T0001/B0002/XXXXsecretXXXX',
      b: 'post https://discord.com/api/webhooks/123/tok-en_secret?wait=true',
      c: 'https://api.telegram.org/bot123456:ABC-secret/sendMessage',
    });
    const out = redactSecretsInText(line);
    expect(out).not.toMatch(/secret|T0001|123456/);
    expect(JSON.parse(out)).toEqual({
      a: `https://hooks.slack.com/services/${LOG_CENSOR}`,
      b: `post https://discord.com/api/webhooks/${LOG_CENSOR}?wait=true`,
      c: `https://api.telegram.org/bot${LOG_CENSOR}`,
    });
  });

  it('leaves text without credentials as it is', () => {
    const plain = 'GET https://example.com/a@b?x=1 from user@example.com at 12:00 (http://127.0.0.1:5102/)';
    expect(redactSecretsInText(plain)).toBe(plain);
  });

  it('stays linear on a hostile megabyte', () => {
    const started = performance.now();
    for (const hostile of [
      `${'http://'.repeat(50_000)}${'a:'.repeat(200_000)}`,
      'a.'.repeat(500_000),
      `x://${'a'.repeat(1_000_000)}`,
      'hooks.slack.com/services/'.repeat(40_000),
    ]) {
      redactSecretsInText(hostile);
    }
    // Quadratic, the second took 95 s; linear, all four take milliseconds (noisy box: a wide bound).
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('isSecretFieldName', () => {
  it('holds for every field the loggers redact by path', () => {
    for (const path of LOG_REDACT_PATHS) {
      const name = /([^.["]+)"?\]?$/.exec(path)?.[1] ?? '';
      expect(isSecretFieldName(name), path).toBe(true);
    }
  });

  it('knows secrets in any case style, and not their neighbours', () => {
    for (const name of [
      'token',
      'admin_token',
      'adminToken',
      'x-api-key',
      'API_KEY',
      'client_secret',
      'privateKey',
      'key',
    ]) {
      expect(isSecretFieldName(name), name).toBe(true);
    }
    for (const name of [
      'token_preview',
      'keyId',
      'key_id',
      'monkey',
      'tokens',
      'name',
      'prompt_tokens',
      'secretary',
    ]) {
      expect(isSecretFieldName(name), name).toBe(false);
    }
  });
});
