import { describe, expect, it } from 'vitest';
import { tickCorker } from './cork.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function stream(log: string[], name: string, failUncork = false) {
  return {
    cork: () => log.push(`cork ${name}`),
    uncork: () => {
      log.push(`uncork ${name}`);
      if (failUncork) throw new Error(`${name} failed`);
    },
  };
}

describe('tickCorker', () => {
  it('corks each stream once per turn and uncorks every one of them at the turn end, in one Immediate', async () => {
    const log: string[] = [];
    const a = tickCorker(stream(log, 'a'));
    const b = tickCorker(stream(log, 'b'));
    let immediates = 0;
    const real = globalThis.setImmediate;
    globalThis.setImmediate = ((fn: () => void) => {
      immediates++;
      return real(fn);
    }) as typeof setImmediate;
    try {
      a();
      b();
      a();
      b();
    } finally {
      globalThis.setImmediate = real;
    }
    expect(log).toEqual(['cork a', 'cork b']);
    expect(immediates).toBe(1);
    await turn();
    expect(log).toEqual(['cork a', 'cork b', 'uncork a', 'uncork b']);
    a();
    await turn();
    expect(log.slice(4)).toEqual(['cork a', 'uncork a']);
  });

  it("one stream's failing uncork leaves no other corked, and the error still surfaces", async () => {
    const log: string[] = [];
    const bad = tickCorker(stream(log, 'bad', true));
    const good = tickCorker(stream(log, 'good'));
    const surfaced = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    bad();
    good();
    expect(String(await surfaced)).toContain('bad failed');
    expect(log).toEqual(['cork bad', 'cork good', 'uncork bad', 'uncork good']);
    good();
    await turn();
    expect(log.slice(4)).toEqual(['cork good', 'uncork good']);
  });
});
