import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';
import { lineSink } from './test-support/line-sink.js';

describe('createLogger', () => {
  it('redacts tokens and authorization headers', () => {
    const { lines, destination } = lineSink();
    const logger = createLogger({ level: 'info', destination });
    logger.info(
      { token: 'secret-1', headers: { authorization: 'Bearer secret-2' }, config: { api_key: 'secret-3' } },
      'x',
    );
    logger.child({ streamId: 4 }).info({ req: { authorization: 'Bearer secret-4' } }, 'y');
    logger.info({ proxyUrl: 'http://u:secret-5@p:1', config: { proxy_url: 'socks5://u:secret-6@p:2' } }, 'z');
    const text = lines.join('');
    expect(text).not.toMatch(/secret-\d/);
    expect(JSON.parse(lines[1]!)).toMatchObject({
      streamId: 4,
      msg: 'y',
      req: { authorization: '[redacted]' },
    });
  });

  it('writes DEL, C1 and bidi controls in remote text as JSON escapes: inert on a terminal, same values', () => {
    const { lines, destination } = lineSink();
    const said = 'bridge says \u009b2J\u001b[31m\u202eko\u2028x\u007f';
    createLogger({ level: 'info', destination }).warn({ reason: said }, `closed: ${said}`);
    const [line] = lines;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: none of these may be written raw.
    expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2028\u2029]/);
    expect(JSON.parse(line!)).toMatchObject({ reason: said, msg: `closed: ${said}` });
  });
});
