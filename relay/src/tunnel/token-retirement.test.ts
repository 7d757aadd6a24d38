/** When sockets holding a replaced client token close: at the earliest end of grace they were given. */
import { CloseCode } from '@arena-relay/shared';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgentSession } from './agent-session.js';
import { TOKEN_ROTATED_REASON, TokenRetirement } from './token-retirement.js';

type FakeSession = AgentSession & { closes: Array<[number, string]> };

function session(clientId: string): FakeSession {
  const closes: Array<[number, string]> = [];
  return {
    client: { id: clientId },
    closes,
    close: (code: number, reason: string) => closes.push([code, reason]),
  } as unknown as FakeSession;
}

describe('TokenRetirement', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('a session admitted with a previous token closes when its grace ends, not before', () => {
    const retirement = new TokenRetirement();
    const s = session('cl_a');
    retirement.admit(s, 'old', Date.now() + 5_000);
    vi.advanceTimersByTime(4_999);
    expect(s.closes).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(s.closes).toEqual([[CloseCode.TOKEN_ROTATED, TOKEN_ROTATED_REASON]]);
  });

  it('a rotation closes the client’s sessions holding any other token at its end, the current ones never', () => {
    const retirement = new TokenRetirement();
    const [older, current, otherClient] = [session('cl_a'), session('cl_a'), session('cl_b')];
    retirement.admit(older, 'h1', null);
    retirement.admit(current, 'h2', null);
    retirement.admit(otherClient, 'h1', null);
    expect(retirement.retire([older, current, otherClient], 'cl_a', 'h2', Date.now() + 1_000)).toBe(1);
    // A later rotation's longer grace does not extend the earlier end.
    retirement.retire([older], 'cl_a', 'h3', Date.now() + 60_000);
    vi.advanceTimersByTime(1_000);
    expect(older.closes).toHaveLength(1);
    expect(current.closes).toEqual([]);
    expect(otherClient.closes).toEqual([]);
    vi.advanceTimersByTime(120_000);
    expect(older.closes).toHaveLength(1);
  });

  it('grace 0 closes at once; a closed session leaves no timer behind', () => {
    const retirement = new TokenRetirement();
    const now = session('cl_a');
    const gone = session('cl_a');
    retirement.admit(now, 'h1', null);
    retirement.admit(gone, 'h1', null);
    retirement.retire([gone], 'cl_a', 'h2', Date.now() + 1_000);
    retirement.forget(gone);
    expect(vi.getTimerCount()).toBe(0);
    retirement.retire([now, gone], 'cl_a', 'h2', Date.now());
    expect(now.closes).toHaveLength(1);
    expect(gone.closes).toEqual([]);
  });
});
