import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';

describe('createLogger', () => {
  it('redacts tokens and authorization headers', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    logger.info(
      { token: 'secret-1', headers: { authorization: 'Bearer secret-2' }, config: { api_key: 'secret-3' } },
      'x',
    );
    logger.child({ streamId: 4 }).info({ req: { authorization: 'Bearer secret-4' } }, 'y');
    const text = lines.join('');
    expect(text).not.toMatch(/secret-\d/);
    expect(JSON.parse(lines[1]!)).toMatchObject({
      streamId: 4,
      msg: 'y',
      req: { authorization: '[redacted]' },
    });
  });
});
