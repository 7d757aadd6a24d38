/**
 * Every breach the agent closes a socket or refuses a stream for is logged with its stable code
 * from shared (Breach), whatever the words; the close reason on the wire keeps the words.
 */
import { Breach, type BreachCode, CloseCode } from '@arena-relay/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './logging.js';
import { type Harness, startHarness } from './test-support/harness.js';
import { waitFor } from './test-support/wait.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

type Line = { msg: string; breach?: BreachCode; reason?: string };

/** A harness whose agent logs at warn into `lines`. */
async function withLog(welcome: { protocol?: number } = {}) {
  const lines: Line[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: { write: (text: string) => void lines.push(JSON.parse(text) as Line) },
  });
  h = await startHarness({ relay: { welcome }, agent: { logger } });
  const conn = await h.relay.connection(1);
  await waitFor(() => h.agent.status().connected, 'the session');
  return { lines, conn };
}

describe('breach codes', () => {
  it.each([
    ['a text frame that is not JSON', '{"type":', Breach.NOT_JSON],
    ['a frame that fails its schema', '{"type":"open","stream":0}', Breach.INVALID_FRAME],
    ['a second welcome', null, Breach.HANDSHAKE_REPEATED],
  ])('%s closes 1002 and logs its code', async (_name, text, code) => {
    const { lines, conn } = await withLog();
    if (text === null) {
      conn.send({
        type: 'welcome',
        sessionId: 's2',
        heartbeatMs: 20_000,
        streamWindow: 65_536,
        maxFrameBytes: 65_536,
        relayId: 'r',
      });
    } else conn.ws.send(text);
    const closed = await waitFor(() => conn.closed, 'the close');
    expect(closed.code).toBe(CloseCode.PROTOCOL_ERROR);
    const line = lines.find((l) => l.msg === 'protocol error from the relay: closing the socket');
    expect(line).toMatchObject({ breach: code });
    expect(closed.reason).toBe(line?.reason);
  });

  it('a binary frame on a protocol 1 socket is WRONG_DATA_KIND; a BODY for a stream never opened, UNKNOWN_STREAM', async () => {
    const v1 = await withLog();
    v1.conn.ws.send(Buffer.from([2, 0, 0, 0, 1, 120]));
    await waitFor(() => v1.conn.closed, 'the v1 close');
    expect(v1.lines.at(-1)).toMatchObject({ breach: Breach.WRONG_DATA_KIND });
    await h.close();

    const v2 = await withLog({ protocol: 2 });
    v2.conn.ws.send(Buffer.from([2, 0, 0, 0, 9, 120]));
    const closed = await waitFor(() => v2.conn.closed, 'the v2 close');
    expect(closed.reason).toBe('body frame for stream 9, which was never opened');
    expect(v2.lines.at(-1)).toMatchObject({ breach: Breach.UNKNOWN_STREAM });
  });

  it('an open outside the allow-list is refused for its stream alone, logged as REQUEST_NOT_ALLOWED', async () => {
    const { lines, conn } = await withLog();
    conn.open(1, { model: 'm', messages: [] }, '/v1/../admin');
    await waitFor(() => lines.length > 0, 'the warning');
    expect(lines[0]).toMatchObject({ breach: Breach.REQUEST_NOT_ALLOWED });
    expect(conn.closed).toBeUndefined();
  });

  it('the codes are distinct and all TUNNEL_ERR_*', () => {
    const codes = Object.values(Breach);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^TUNNEL_ERR_[A-Z_]+$/);
  });
});
