import { PassThrough } from 'node:stream';
import { REFUSAL_HEADER, SUBPROTOCOL, TOKEN_ROTATED } from '@arena-relay/shared';
import { describe, expect, it } from 'vitest';
import { ERRORS, RelayError, type RelayErrorCode } from '../errors/relay-error.js';
import { refuseUpgrade } from './upgrade.js';

/** What `refuseUpgrade` wrote on a socket: the status line, headers by lower-case name, the JSON body. */
function refusal(error: RelayError) {
  const socket = new PassThrough();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  refuseUpgrade(socket, error);
  const text = Buffer.concat(chunks).toString();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 2)]),
  );
  return {
    statusLine,
    headers,
    body: JSON.parse(body) as { error: Record<string, unknown> },
    ended: socket.writableEnded,
  };
}

describe('refuseUpgrade', () => {
  // Every code tunnel/agent-hub.ts refuses an upgrade with: each has its row in the one table.
  const codes: RelayErrorCode[] = [
    'not_found',
    'shutting_down',
    'unsupported_subprotocol',
    'too_many_auth_failures',
    'invalid_client_token',
    TOKEN_ROTATED,
    'client_disabled',
    'store_unavailable',
  ];

  it.each(codes)("%s: the table's status and type, the code in the body and the refusal header", (code) => {
    const { statusLine, headers, body, ended } = refusal(new RelayError(code, 'why'));
    expect(statusLine).toMatch(new RegExp(`^HTTP/1\\.1 ${ERRORS[code].status} \\S`));
    expect(headers[REFUSAL_HEADER]).toBe(code);
    expect(headers.connection).toBe('close');
    expect(Number(headers['content-length'])).toBe(Buffer.byteLength(JSON.stringify(body)));
    expect(body).toEqual({ error: { message: 'why', type: ERRORS[code].type, param: null, code } });
    expect(ended).toBe(true);
  });

  it('names the subprotocol on a 426 and sends Retry-After when the error carries one', () => {
    const upgrade = refusal(new RelayError('unsupported_subprotocol', 'subprotocol required'));
    expect(upgrade.statusLine).toBe('HTTP/1.1 426 Upgrade Required');
    expect(upgrade.headers['sec-websocket-protocol']).toBe(SUBPROTOCOL);
    const brake = refusal(new RelayError('too_many_auth_failures', 'slow down', { retryAfter: 7 }));
    expect(brake.statusLine).toBe('HTTP/1.1 429 Too Many Requests');
    expect(brake.headers['retry-after']).toBe('7');
    expect(refusal(new RelayError('shutting_down', 'bye')).headers['retry-after']).toBeUndefined();
  });

  it('writes nothing on a socket that is already gone', () => {
    const socket = new PassThrough();
    socket.destroy();
    expect(() => refuseUpgrade(socket, new RelayError('not_found', 'x'))).not.toThrow();
  });
});
