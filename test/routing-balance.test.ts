/** Balancing strategies, model-aware selection and sticky sessions over real agents. */
import { describe, expect, it } from 'vitest';
import { startPool } from './support/pool.js';

describe('strategies over three agents', () => {
  it('round_robin rotates exactly', async () => {
    const pool = await startPool(3, { relay: { loadBalancing: 'round_robin' } });
    const order: number[] = [];
    for (let i = 0; i < 9; i++) {
      const before = pool.counts();
      const res = await pool.chat();
      expect(res.status).toBe(200);
      await res.text();
      order.push(pool.servedBy(before));
    }
    expect(order).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('least_load sends new work to the idle agents', async () => {
    const pool = await startPool(3, { relay: { loadBalancing: 'least_load' } });
    // Two long streams occupy two agents…
    for (const m of pool.members) m.bridge.scenario = 'hang';
    const held = [pool.chat({ stream: true }), pool.chat({ stream: true })];
    await expect.poll(() => pool.counts().reduce((a, b) => a + b, 0)).toBe(2);
    const busy = pool.counts().map((n) => n > 0);
    // …so the third goes to the one left idle.
    for (const m of pool.members) m.bridge.scenario = 'ok';
    const before = pool.counts();
    await (await pool.chat()).text();
    const served = pool.servedBy(before);
    expect(busy[served]).toBe(false);
    void held;
  });

  it('latency prefers the agent whose bridge answers first', async () => {
    const pool = await startPool(2, {
      relay: { loadBalancing: 'latency' },
      bridge: (i) => ({ firstChunkDelayMs: i === 0 ? 150 : 0 }),
    });
    // Both get measured first (unmeasured agents are tried first), then the fast one wins.
    const served: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = pool.counts();
      await (await pool.chat({ stream: true })).text();
      served.push(pool.servedBy(before));
    }
    expect(served.slice(0, 2).sort()).toEqual([0, 1]);
    expect(served.slice(2)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('routes by model: only agents that advertise it are candidates', async () => {
    const pool = await startPool(3, {
      relay: { loadBalancing: 'round_robin' },
      bridge: (i) => ({ models: i === 1 ? ['rare-model'] : ['gpt-5'] }),
    });
    for (let i = 0; i < 4; i++) {
      const before = pool.counts();
      const res = await pool.chat({ model: 'rare-model' });
      expect(res.status).toBe(200);
      await res.text();
      expect(pool.servedBy(before)).toBe(1);
    }
  });
});

describe('sticky sessions', () => {
  it('X-Session-Name keeps a conversation on its agent, and re-pins when that agent goes', async () => {
    const pool = await startPool(3, { relay: { loadBalancing: 'round_robin' } });
    const session = { 'x-session-name': 'conversation-42' };
    let before = pool.counts();
    const first = await pool.chat({}, session);
    await first.text();
    expect(first.headers.get('x-session-pin')).toBe('new');
    const home = pool.servedBy(before);
    for (let i = 0; i < 4; i++) {
      before = pool.counts();
      const res = await pool.chat({}, session);
      await res.text();
      expect(res.headers.get('x-session-pin')).toBe('kept');
      expect(pool.servedBy(before)).toBe(home);
      // Unpinned traffic keeps rotating in between.
      await (await pool.chat()).text();
    }
    await pool.members[home]!.agent.close();
    await expect.poll(() => pool.relay.hub.sessions.size).toBe(2);
    before = pool.counts();
    const moved = await pool.chat({}, session);
    await moved.text();
    expect(moved.headers.get('x-session-pin')).toBe('repinned');
    const newHome = pool.servedBy(before);
    expect(newHome).not.toBe(home);
    before = pool.counts();
    const again = await pool.chat({}, session);
    await again.text();
    expect(again.headers.get('x-session-pin')).toBe('kept');
    expect(pool.servedBy(before)).toBe(newHome);
  });

  it('refuses a malformed session name with 400', async () => {
    const pool = await startPool(1);
    const res = await pool.chat({}, { 'x-session-name': 'bad name with spaces' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('x-session-name');
  });
});
