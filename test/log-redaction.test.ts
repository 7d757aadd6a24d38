/**
 * Both programs' loggers, built from the one redaction list (shared/src/log-redaction.ts), read
 * back as JSON: no token, key, authorization, proxy credential or webhook URL comes out, on
 * either side, and what is not secret (hosts, ports, messages) still does.
 */
import { Writable } from 'node:stream';
import { createLogger as createAgentLogger } from '@arena-relay/bridge-agent';
import { LOG_CENSOR } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { createLogger as createRelayLogger } from '../relay/src/log/logger.js';

function capture(create: typeof createRelayLogger) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: create({ level: 'trace', destination }), lines };
}

const SECRET = 'S3CRET';

describe.each([
  ['relay', createRelayLogger],
  ['agent', createAgentLogger],
])('the %s logger', (_side, create) => {
  it('censors secret-named fields, at the top and one level down, and credential headers', () => {
    const { logger, lines } = capture(create);
    logger.info(
      {
        token: `${SECRET}-1`,
        key: `${SECRET}-2`,
        apiKey: `${SECRET}-3`,
        adminToken: `${SECRET}-4`,
        config: {
          api_key: `${SECRET}-5`,
          upstreamApiKey: `${SECRET}-6`,
          password: `${SECRET}-7`,
          port: 5102,
        },
        headers: {
          authorization: `Bearer ${SECRET}-8`,
          'x-api-key': `${SECRET}-9`,
          'proxy-authorization': `Basic ${SECRET}-10`,
          cookie: `s=${SECRET}-11`,
        },
      },
      'request',
    );
    logger
      .child({ agentId: 'a1' })
      .warn({ req: { headers: { authorization: `Bearer ${SECRET}-12` } } }, 'child');
    expect(lines).toHaveLength(2);
    expect(lines.join('')).not.toContain(SECRET);
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      msg: 'request',
      token: LOG_CENSOR,
      key: LOG_CENSOR,
      config: { api_key: LOG_CENSOR, upstreamApiKey: LOG_CENSOR, port: 5102 },
      headers: { authorization: LOG_CENSOR, 'x-api-key': LOG_CENSOR, 'proxy-authorization': LOG_CENSOR },
    });
    expect(second).toMatchObject({ agentId: 'a1', req: { headers: { authorization: LOG_CENSOR } } });
  });

  it('censors proxy credentials and webhook URLs wherever they stand, keeping host and port', () => {
    const { logger, lines } = capture(create);
    const proxy = `http://bob:${SECRET}@proxy.lan:3128`;
    const slack = `https://hooks.slack.com/services/T1/B2/${SECRET}`;
    logger.warn(
      { proxy, err: new Error(`connect via ${proxy} failed`), channel: { url: slack } },
      `proxy ${proxy}`,
    );
    logger.error({ to: `https://discord.com/api/webhooks/1/${SECRET}` }, `post to ${slack} failed`);
    expect(lines.join('')).not.toContain(SECRET);
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first.proxy).toBe(`http://${LOG_CENSOR}@proxy.lan:3128`);
    expect(first.msg).toBe(`proxy http://${LOG_CENSOR}@proxy.lan:3128`);
    expect(first.err.message).toBe(`connect via http://${LOG_CENSOR}@proxy.lan:3128 failed`);
    expect(first.channel.url).toBe(`https://hooks.slack.com/services/${LOG_CENSOR}`);
    expect(second.to).toBe(`https://discord.com/api/webhooks/${LOG_CENSOR}`);
  });

  it('keeps what is not secret as it was', () => {
    const { logger, lines } = capture(create);
    logger.info(
      { upstream: 'http://127.0.0.1:5102', model: 'gpt-5', reason: 'user@example.com said ok' },
      'ready',
    );
    expect(JSON.parse(lines[0]!)).toMatchObject({
      upstream: 'http://127.0.0.1:5102',
      model: 'gpt-5',
      reason: 'user@example.com said ok',
      msg: 'ready',
    });
  });
});
